using System.Net;
using System.Text;
using Flow.TestSupport;

namespace Flow.Storage.Azure.Tests;

/// <summary>Request bodies and response parsing, without a server.</summary>
public sealed class QueueWireFormatTests
{
    private const string Declaration = "<?xml version=\"1.0\" encoding=\"utf-8\"?>";

    private static (QueueClient Queue, CapturingHandler Handler) Client(Func<HttpRequestMessage, HttpResponseMessage> respond, QueueMessageEncoding encoding = QueueMessageEncoding.Base64)
    {
        var handler = new CapturingHandler(respond);
        var options = CapturingHandler.Options(handler, encoding);
        options.Retry.MaxRetries = 0;
        var connection = StorageConnection.Parse(
            $"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey={StorageConnection.DevelopmentAccountKey};QueueEndpoint=http://127.0.0.1:10001/devstoreaccount1");
        return (new QueueServiceClient(connection, options).GetQueueClient("work"), handler);
    }

    private static HttpResponseMessage SendResponse(HttpRequestMessage _) => CapturingHandler.Xml(HttpStatusCode.Created,
        Declaration + "<QueueMessagesList><QueueMessage><MessageId>id-1</MessageId><InsertionTime>Fri, 09 Oct 2009 21:04:30 GMT</InsertionTime>" +
        "<ExpirationTime>Fri, 16 Oct 2009 21:04:30 GMT</ExpirationTime><PopReceipt>AgAAAA+/b=</PopReceipt><TimeNextVisible>Fri, 09 Oct 2009 23:29:20 GMT</TimeNextVisible></QueueMessage></QueueMessagesList>");

    [Fact]
    public async Task SendMessageAsync_Base64_PostsBase64OfUtf8InQueueMessageXml()
    {
        using var deadline = TestDeadline.Create();
        var (queue, handler) = Client(SendResponse);

        var receipt = await queue.SendMessageAsync("héllo <&>", TimeSpan.FromSeconds(1.2), TimeSpan.FromHours(1), deadline);

        var (request, body) = Assert.Single(handler.Requests);
        Assert.Equal(HttpMethod.Post, request.Method);
        Assert.Equal("http://127.0.0.1:10001/devstoreaccount1/work/messages?visibilitytimeout=2&messagettl=3600", request.RequestUri!.AbsoluteUri);
        Assert.Equal(
            "<QueueMessage><MessageText>" + Convert.ToBase64String(Encoding.UTF8.GetBytes("héllo <&>")) + "</MessageText></QueueMessage>",
            Encoding.UTF8.GetString(body));
        Assert.Equal("id-1", receipt.MessageId);
        Assert.Equal("AgAAAA+/b=", receipt.PopReceipt);
        Assert.Equal(new DateTimeOffset(2009, 10, 9, 21, 4, 30, TimeSpan.Zero), receipt.InsertionTime);
        Assert.Equal(new DateTimeOffset(2009, 10, 16, 21, 4, 30, TimeSpan.Zero), receipt.ExpirationTime);
        Assert.Equal(new DateTimeOffset(2009, 10, 9, 23, 29, 20, TimeSpan.Zero), receipt.NextVisibleTime);
    }

    [Fact]
    public async Task SendMessageAsync_NoEncoding_EscapesXmlAndCarriageReturns()
    {
        using var deadline = TestDeadline.Create();
        var (queue, handler) = Client(SendResponse, QueueMessageEncoding.None);

        await queue.SendMessageAsync("a<b>&c\"d'e\r\nf", timeToLive: TimeSpan.MaxValue, cancellationToken: deadline);

        var (request, body) = Assert.Single(handler.Requests);
        Assert.EndsWith("/work/messages?messagettl=-1", request.RequestUri!.AbsoluteUri, StringComparison.Ordinal);
        Assert.Equal("<QueueMessage><MessageText>a&lt;b&gt;&amp;c\"d'e&#13;\nf</MessageText></QueueMessage>", Encoding.UTF8.GetString(body));
    }

    [Fact]
    public async Task ReceiveMessagesAsync_ResponseWithEntitiesCdataAndEmptyElements_ParsesEveryField()
    {
        using var deadline = TestDeadline.Create();
        var xml = "\uFEFF" + Declaration + "\n<!-- a comment -->\n<QueueMessagesList>\n" +
            "  <QueueMessage>\n    <MessageId>m1</MessageId>\n    <InsertionTime>Fri, 09 Oct 2009 21:04:30 GMT</InsertionTime>\n" +
            "    <ExpirationTime>Fri, 31 Dec 9999 23:59:59 GMT</ExpirationTime>\n    <PopReceipt>r&#x2B;1</PopReceipt>\n" +
            "    <TimeNextVisible>Fri, 09 Oct 2009 23:29:20 GMT</TimeNextVisible>\n    <DequeueCount>3</DequeueCount>\n" +
            "    <FutureField attr=\"x>y\">ignored</FutureField>\n" +
            "    <MessageText>" + Convert.ToBase64String("payload"u8) + "</MessageText>\n  </QueueMessage>\n" +
            "  <QueueMessage><MessageId>m2</MessageId><DequeueCount>1</DequeueCount><PopReceipt>r2</PopReceipt><MessageText /></QueueMessage>\n" +
            "  <QueueMessage><MessageId>m3</MessageId><PopReceipt>r3</PopReceipt><MessageText>not base64 &amp; &lt;raw&gt; &#128512; <![CDATA[<cdata & co>]]></MessageText></QueueMessage>\n" +
            "</QueueMessagesList>";
        var (queue, _) = Client(_ => CapturingHandler.Xml(HttpStatusCode.OK, xml));

        var messages = await queue.ReceiveMessagesAsync(32, cancellationToken: deadline);

        Assert.Equal(3, messages.Count);
        var m1 = messages[0];
        Assert.Equal("m1", m1.MessageId);
        Assert.Equal("r+1", m1.PopReceipt);
        Assert.Equal(3, m1.DequeueCount);
        Assert.Equal("payload", m1.MessageText);
        Assert.True(m1.WasBase64Encoded);
        Assert.Equal(9999, m1.ExpirationTime.Year);
        Assert.Equal(new DateTimeOffset(2009, 10, 9, 23, 29, 20, TimeSpan.Zero), m1.NextVisibleTime);

        Assert.Equal(string.Empty, messages[1].MessageText);
        Assert.True(messages[1].WasBase64Encoded);
        Assert.Empty(messages[1].Body.ToArray());

        Assert.False(messages[2].WasBase64Encoded);
        Assert.Equal("not base64 & <raw> 😀 <cdata & co>", messages[2].MessageText);
    }

    [Fact]
    public async Task ReceiveMessagesAsync_EmptyList_ReturnsEmptyWithoutThrowing()
    {
        using var deadline = TestDeadline.Create();
        var (queue, _) = Client(_ => CapturingHandler.Xml(HttpStatusCode.OK, Declaration + "<QueueMessagesList />"));

        Assert.Empty(await queue.ReceiveMessagesAsync(10, cancellationToken: deadline));
        Assert.Null(await queue.ReceiveMessageAsync(cancellationToken: deadline));
    }

    [Fact]
    public async Task ReceiveMessagesAsync_TruncatedResponse_ThrowsAzureStorageException()
    {
        using var deadline = TestDeadline.Create();
        var (queue, _) = Client(_ => CapturingHandler.Xml(HttpStatusCode.OK, Declaration + "<QueueMessagesList><QueueMessage><MessageId>m1</Mess"));

        await Assert.ThrowsAsync<AzureStorageException>(() => queue.ReceiveMessagesAsync(cancellationToken: deadline));
    }

    [Fact]
    public async Task ReceiveMessagesAsync_Request_HasCountAndRoundedUpVisibility()
    {
        using var deadline = TestDeadline.Create();
        var (queue, handler) = Client(_ => CapturingHandler.Xml(HttpStatusCode.OK, "<QueueMessagesList/>"));

        await queue.ReceiveMessagesAsync(32, TimeSpan.FromMilliseconds(1500), deadline);
        await queue.PeekMessagesAsync(5, deadline);

        Assert.Equal("http://127.0.0.1:10001/devstoreaccount1/work/messages?numofmessages=32&visibilitytimeout=2", handler.Requests[0].Request.RequestUri!.AbsoluteUri);
        Assert.Equal("http://127.0.0.1:10001/devstoreaccount1/work/messages?peekonly=true&numofmessages=5", handler.Requests[1].Request.RequestUri!.AbsoluteUri);
    }

    [Fact]
    public async Task UpdateMessageAsync_Response_ReturnsNewPopReceiptAndNextVisibleTime()
    {
        using var deadline = TestDeadline.Create();
        var (queue, handler) = Client(_ =>
        {
            var response = new HttpResponseMessage(HttpStatusCode.NoContent);
            response.Headers.Add("x-ms-popreceipt", "new+receipt");
            response.Headers.Add("x-ms-time-next-visible", "Fri, 09 Oct 2009 23:29:20 GMT");
            return response;
        });

        var receipt = await queue.UpdateMessageAsync("m1", "old", TimeSpan.FromSeconds(10), cancellationToken: deadline);

        Assert.Equal("new+receipt", receipt.PopReceipt);
        Assert.Equal(new DateTimeOffset(2009, 10, 9, 23, 29, 20, TimeSpan.Zero), receipt.NextVisibleTime);
        var (request, body) = Assert.Single(handler.Requests);
        Assert.Equal(HttpMethod.Put, request.Method);
        Assert.Equal("http://127.0.0.1:10001/devstoreaccount1/work/messages/m1?popreceipt=old&visibilitytimeout=10", request.RequestUri!.AbsoluteUri);
        Assert.Empty(body);
    }

    [Fact]
    public async Task ServiceError_XmlBody_ThrowsTypedStorageRequestException()
    {
        using var deadline = TestDeadline.Create();
        var (queue, _) = Client(_ =>
        {
            var response = CapturingHandler.Xml(HttpStatusCode.BadRequest,
                Declaration + "<Error><Code>PopReceiptMismatch</Code><Message>The specified pop receipt did not match.</Message></Error>");
            response.Headers.Add("x-ms-request-id", "req-1");
            return response;
        });

        var error = await Assert.ThrowsAsync<StorageRequestException>(() => queue.DeleteMessageAsync("m1", "stale", deadline));

        Assert.Equal(400, error.Status);
        Assert.Equal("PopReceiptMismatch", error.ErrorCode);
        Assert.Equal("req-1", error.RequestId);
        Assert.Contains("Delete message 'm1' from queue 'work'", error.Message, StringComparison.Ordinal);
    }
}
