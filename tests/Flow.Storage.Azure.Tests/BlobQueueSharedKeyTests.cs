using System.Net;
using Flow.TestSupport;

namespace Flow.Storage.Azure.Tests;

/// <summary>
/// The Blob/Queue SharedKey string-to-sign, checked against vectors written by hand from the documented rules
/// ("Authorize with Shared Key", version 2015-02-21 and later): VERB, then Content-Encoding, Content-Language,
/// Content-Length (empty when 0), Content-MD5, Content-Type, Date (empty: x-ms-date is used), If-Modified-Since, If-Match,
/// If-None-Match, If-Unmodified-Since, Range, each on its own line; then the x-ms-* headers lower-cased, sorted,
/// "name:value" per line; then "/account/path" and one line per query parameter: name lower-cased, URL-decoded, sorted,
/// "name:v1,v2" with the values decoded and sorted.
/// </summary>
public sealed class BlobQueueSharedKeyTests
{
    private static readonly StorageSharedKeyCredential Key = new("myaccount", StorageConnection.DevelopmentAccountKey);

    private static (QueueClient Queue, CapturingHandler Handler) Client(Func<HttpRequestMessage, HttpResponseMessage>? respond = null)
    {
        var handler = new CapturingHandler(respond);
        var connection = StorageConnection.Parse(
            $"DefaultEndpointsProtocol=https;AccountName=myaccount;AccountKey={StorageConnection.DevelopmentAccountKey};QueueEndpoint=https://myaccount.queue.core.windows.net/");
        var options = CapturingHandler.Options(handler);
        options.Retry.MaxRetries = 0;
        return (new QueueServiceClient(connection, options).GetQueueClient("myqueue"), handler);
    }

    private static string Header(HttpRequestMessage request, string name) =>
        request.Headers.TryGetValues(name, out var values) ? string.Join(",", values) : string.Empty;

    private static void AssertSignedWith(HttpRequestMessage request, string expectedStringToSign)
    {
        var authorization = request.Headers.Authorization;
        Assert.NotNull(authorization);
        Assert.Equal("SharedKey", authorization.Scheme);
        Assert.True("myaccount:" + Key.ComputeSignature(expectedStringToSign) == authorization.Parameter,
            "signature differs; request headers: " + string.Join(" | ", request.Headers.Select(h => h.Key + ": " + string.Join(",", h.Value))) +
            " | content: " + (request.Content is null ? "none" : string.Join(" | ", request.Content.Headers.Select(h => h.Key + ": " + string.Join(",", h.Value)))));
    }

    [Fact]
    public async Task StringToSign_GetWithComp_EmptyContentLengthAndCanonicalizedQuery()
    {
        using var deadline = TestDeadline.Create();
        var (queue, handler) = Client(_ => new HttpResponseMessage(HttpStatusCode.OK));

        await queue.GetPropertiesAsync(deadline);

        var request = Assert.Single(handler.Requests).Request;
        var expected =
            "GET\n" +
            "\n\n\n\n\n\n\n\n\n\n\n" + // eleven standard headers, all empty (no body: Content-Length is empty, not "0")
            "x-ms-client-request-id:" + Header(request, "x-ms-client-request-id") + "\n" +
            "x-ms-date:" + Header(request, "x-ms-date") + "\n" +
            "x-ms-return-client-request-id:true\n" +
            "x-ms-version:2021-12-02\n" +
            "/myaccount/myqueue\n" +
            "comp:metadata";
        AssertSignedWith(request, expected);
    }

    [Fact]
    public async Task StringToSign_PutWithEncodedPopReceipt_DecodesAndSortsParameters()
    {
        using var deadline = TestDeadline.Create();
        var (queue, handler) = Client(_ =>
        {
            var response = new HttpResponseMessage(HttpStatusCode.NoContent);
            response.Headers.Add("x-ms-popreceipt", "new");
            return response;
        });

        // A pop receipt with characters that must be percent-encoded on the wire and decoded in the string-to-sign.
        await queue.UpdateMessageAsync("0f1e2d3c-aaaa-bbbb-cccc-000000000001", "AgAAAA+/b=", TimeSpan.FromSeconds(30), "hi", deadline);

        var (request, body) = Assert.Single(handler.Requests);
        Assert.Contains("popreceipt=AgAAAA%2B%2Fb%3D", request.RequestUri!.AbsoluteUri, StringComparison.Ordinal);
        var expected =
            "PUT\n" +
            "\n" + // Content-Encoding
            "\n" + // Content-Language
            body.Length + "\n" +
            "\n" + // Content-MD5
            "application/xml; charset=utf-8\n" +
            "\n\n\n\n\n\n" + // Date, If-Modified-Since, If-Match, If-None-Match, If-Unmodified-Since, Range
            "x-ms-client-request-id:" + Header(request, "x-ms-client-request-id") + "\n" +
            "x-ms-date:" + Header(request, "x-ms-date") + "\n" +
            "x-ms-return-client-request-id:true\n" +
            "x-ms-version:2021-12-02\n" +
            "/myaccount/myqueue/messages/0f1e2d3c-aaaa-bbbb-cccc-000000000001\n" +
            "popreceipt:AgAAAA+/b=\n" +
            "visibilitytimeout:30";
        AssertSignedWith(request, expected);
    }

    [Fact]
    public async Task StringToSign_RepeatedAndUpperCaseParameters_LowerCasedSortedAndCommaJoined()
    {
        using var deadline = TestDeadline.Create();
        var handler = new CapturingHandler();
        var options = CapturingHandler.Options(handler);
        options.Retry.MaxRetries = 0;
        var connection = StorageConnection.Parse($"AccountName=myaccount;AccountKey={StorageConnection.DevelopmentAccountKey}");
        var pipeline = Internal.StoragePipeline.Build(connection, options, Internal.StorageService.Queue);
        using var message = pipeline.CreateMessage();
        message.Request.Method = global::Azure.Core.RequestMethod.Get;
        message.Request.Uri.Reset(new Uri("https://myaccount.queue.core.windows.net/?restype=service&Comp=properties&a=2&a=1&include=x%20y"));

        await pipeline.SendAsync(message, deadline);

        var request = Assert.Single(handler.Requests).Request;
        var expected =
            "GET\n" +
            "\n\n\n\n\n\n\n\n\n\n\n" +
            "x-ms-client-request-id:" + Header(request, "x-ms-client-request-id") + "\n" +
            "x-ms-date:" + Header(request, "x-ms-date") + "\n" +
            "x-ms-return-client-request-id:true\n" +
            "x-ms-version:2021-12-02\n" +
            "/myaccount/\n" +
            "a:1,2\n" +
            "comp:properties\n" +
            "include:x y\n" +
            "restype:service";
        AssertSignedWith(request, expected);
    }
}
