using System.Net;
using System.Text;
using Azure;
using Azure.Core.Pipeline;
using Azure.Data.Tables;
using Flow.TestSupport;

namespace Flow.Storage.Azure.Tests;

/// <summary>
/// The one retry layer is the SDK pipeline that <see cref="AzureSdkClients"/> configures from <see cref="StorageClientOptions"/>:
/// transient answers are retried up to the configured count, the last status surfaces, and a 404 is not retried.
/// The service is an in-process handler that counts requests, so the answers can be chosen exactly.
/// </summary>
public sealed class AzureSdkRetryTests
{
    private const string Connection = "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=" + StorageConnection.DevelopmentAccountKey +
        ";TableEndpoint=http://127.0.0.1:10002/devstoreaccount1;QueueEndpoint=http://127.0.0.1:10001/devstoreaccount1";

    [Fact]
    public async Task TableRead_AfterTwoServerBusyAnswers_IsRetriedAndSucceeds()
    {
        using var deadline = TestDeadline.Create();
        var service = new CountingService(n => n <= 2 ? new HttpResponseMessage(HttpStatusCode.ServiceUnavailable) : Entity());
        var table = AzureSdkClients.CreateTableService(StorageConnection.Parse(Connection), service.Options(maxRetries: 5)).GetTableClient("runs");

        var entity = await table.GetEntityAsync<TableEntity>("p", "r", cancellationToken: deadline.Token);

        Assert.Equal("hello", entity.Value.GetString("Text"));
        Assert.Equal(3, service.Requests);
    }

    [Fact]
    public async Task TableRead_WhenTheServiceStaysBusy_FailsWithTheLastStatusAfterTheConfiguredRetries()
    {
        using var deadline = TestDeadline.Create();
        var service = new CountingService(_ => new HttpResponseMessage(HttpStatusCode.ServiceUnavailable));
        var table = AzureSdkClients.CreateTableService(StorageConnection.Parse(Connection), service.Options(maxRetries: 3)).GetTableClient("runs");

        var error = await Assert.ThrowsAsync<RequestFailedException>(() => table.GetEntityAsync<TableEntity>("p", "r", cancellationToken: deadline.Token));

        Assert.Equal(503, error.Status);
        Assert.Equal(4, service.Requests);
    }

    [Fact]
    public async Task TableRead_On404_IsNotRetried()
    {
        using var deadline = TestDeadline.Create();
        var service = new CountingService(_ => Json(HttpStatusCode.NotFound, """{"odata.error":{"code":"ResourceNotFound","message":{"lang":"en-US","value":"not found"}}}"""));
        var table = AzureSdkClients.CreateTableService(StorageConnection.Parse(Connection), service.Options(maxRetries: 5)).GetTableClient("runs");

        var missing = await table.GetEntityIfExistsAsync<TableEntity>("p", "r", cancellationToken: deadline.Token);

        Assert.False(missing.HasValue);
        Assert.Equal(1, service.Requests);
    }

    [Fact]
    public async Task QueueSend_AfterAServerErrorAnswer_IsRetriedAndSucceeds()
    {
        using var deadline = TestDeadline.Create();
        var service = new CountingService(n => n == 1 ? new HttpResponseMessage(HttpStatusCode.InternalServerError) : Sent());
        var queue = AzureSdkClients.CreateQueueService(StorageConnection.Parse(Connection), service.Options(maxRetries: 5)).GetQueueClient("work");

        var receipt = await queue.SendMessageAsync("aGk=", cancellationToken: deadline.Token);

        Assert.Equal("id-1", receipt.Value.MessageId);
        Assert.Equal(2, service.Requests);
    }

    private static HttpResponseMessage Entity() =>
        Json(HttpStatusCode.OK, """{"odata.etag":"W/\"datetime'2026-12-06T00%3A00%3A00Z'\"","PartitionKey":"p","RowKey":"r","Text":"hello"}""");

    private static HttpResponseMessage Json(HttpStatusCode status, string body) =>
        new(status) { Content = new StringContent(body, Encoding.UTF8, "application/json") };

    private static HttpResponseMessage Sent() => new(HttpStatusCode.Created)
    {
        Content = new StringContent(
            "<?xml version=\"1.0\" encoding=\"utf-8\"?><QueueMessagesList><QueueMessage><MessageId>id-1</MessageId><InsertionTime>Sun, 06 Dec 2026 00:00:00 GMT</InsertionTime>" +
            "<ExpirationTime>Sun, 13 Dec 2026 00:00:00 GMT</ExpirationTime><PopReceipt>AgAAAA==</PopReceipt><TimeNextVisible>Sun, 06 Dec 2026 00:00:00 GMT</TimeNextVisible></QueueMessage></QueueMessagesList>",
            Encoding.UTF8, "application/xml"),
    };

    private sealed class CountingService(Func<int, HttpResponseMessage> answer) : HttpMessageHandler
    {
        private int _requests;

        public int Requests => _requests;

        public StorageClientOptions Options(int maxRetries)
        {
            var options = new StorageClientOptions { Transport = new HttpClientTransport(new HttpClient(this)) };
            options.Retry.MaxRetries = maxRetries;
            options.Retry.Delay = TimeSpan.FromMilliseconds(1);
            options.Retry.MaxDelay = TimeSpan.FromMilliseconds(5);
            return options;
        }

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
            Task.FromResult(answer(Interlocked.Increment(ref _requests)));
    }
}
