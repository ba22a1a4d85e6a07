using System.Net;
using System.Text;
using Flow.TestSupport;

namespace Flow.Storage.Azure.Tests;

/// <summary>The pipeline retries transient failures (503, 500) and gives up with a typed error on permanent ones.</summary>
public sealed class TransientFailureTests
{
    [Fact]
    public async Task GetEntity_AfterTwoServerBusyAnswers_IsRetriedAndSucceeds()
    {
        using var deadline = TestDeadline.Create();
        await using var server = FlakyServer.Start([503, 500, 200]);
        var table = new TableClient(server.Connection, "flaky", FastRetries());

        var entity = await table.GetEntityAsync("p", "r", cancellationToken: deadline.Token);

        Assert.Equal("v", entity.GetString("Value"));
        Assert.Equal(3, server.Requests);
    }

    [Fact]
    public async Task GetEntity_WhenTheServiceStaysBusy_FailsWithTheLastStatusAfterTheRetries()
    {
        using var deadline = TestDeadline.Create();
        await using var server = FlakyServer.Start([503, 503, 503, 503]);
        var options = FastRetries();
        options.Retry.MaxRetries = 3;
        var table = new TableClient(server.Connection, "flaky", options);

        var ex = await Assert.ThrowsAsync<StorageRequestException>(() => table.GetEntityAsync("p", "r", cancellationToken: deadline.Token));

        Assert.Equal(503, ex.Status);
        Assert.Equal("ServerBusy", ex.ErrorCode);
        Assert.Equal(4, server.Requests);
    }

    [Fact]
    public async Task GetEntity_On404_IsNotRetried()
    {
        using var deadline = TestDeadline.Create();
        await using var server = FlakyServer.Start([404, 200]);
        var table = new TableClient(server.Connection, "flaky", FastRetries());

        Assert.Null(await table.GetEntityIfExistsAsync("p", "r", cancellationToken: deadline.Token));
        Assert.Equal(1, server.Requests);
    }

    private static StorageClientOptions FastRetries()
    {
        var options = new StorageClientOptions();
        options.Retry.Delay = TimeSpan.FromMilliseconds(5);
        options.Retry.MaxDelay = TimeSpan.FromMilliseconds(20);
        return options;
    }

    /// <summary>A loopback HTTP server answering each request with the next scripted status.</summary>
    private sealed class FlakyServer : IAsyncDisposable
    {
        private readonly HttpListener _listener;
        private readonly Queue<int> _statuses;
        private readonly Task _loop;
        private int _requests;

        private FlakyServer(HttpListener listener, int port, IEnumerable<int> statuses)
        {
            _listener = listener;
            _statuses = new Queue<int>(statuses);
            Connection = StorageConnection.Parse(
                $"AccountName=devstoreaccount1;AccountKey={StorageConnection.DevelopmentAccountKey};TableEndpoint=http://127.0.0.1:{port}/devstoreaccount1");
            _loop = Task.Run(ServeAsync);
        }

        public StorageConnection Connection { get; }

        public int Requests => Volatile.Read(ref _requests);

        public static FlakyServer Start(IEnumerable<int> statuses)
        {
            var port = FreePorts.Next();
            var listener = new HttpListener();
            listener.Prefixes.Add($"http://127.0.0.1:{port}/");
            listener.Start();
            return new FlakyServer(listener, port, statuses);
        }

        public async ValueTask DisposeAsync()
        {
            _listener.Stop();
            _listener.Close();
            try
            {
                await _loop;
            }
            catch (HttpListenerException)
            {
            }
            catch (ObjectDisposedException)
            {
            }
        }

        private async Task ServeAsync()
        {
            while (_listener.IsListening)
            {
                HttpListenerContext context;
                try
                {
                    context = await _listener.GetContextAsync();
                }
                catch (Exception ex) when (ex is HttpListenerException or ObjectDisposedException or InvalidOperationException)
                {
                    return;
                }

                Interlocked.Increment(ref _requests);
                var status = _statuses.Count > 0 ? _statuses.Dequeue() : 500;
                var body = status switch
                {
                    200 => """{"PartitionKey":"p","RowKey":"r","Value":"v"}""",
                    404 => """{"odata.error":{"code":"ResourceNotFound","message":{"lang":"en-US","value":"The specified resource does not exist."}}}""",
                    _ => """{"odata.error":{"code":"ServerBusy","message":{"lang":"en-US","value":"The server is busy."}}}""",
                };
                context.Response.StatusCode = status;
                context.Response.ContentType = "application/json;odata=minimalmetadata";
                context.Response.Headers["x-ms-request-id"] = Guid.NewGuid().ToString();
                var bytes = Encoding.UTF8.GetBytes(body);
                await context.Response.OutputStream.WriteAsync(bytes);
                context.Response.Close();
            }
        }
    }
}

public sealed class QueueUnreachableTests
{
    [Fact]
    public async Task SendMessage_ToUnreachableEndpoint_FailsWithStatusZeroNamingTheEndpoint()
    {
        using var deadline = TestDeadline.Create();
        var port = FreePorts.Next();
        var connection = StorageConnection.Parse(
            $"AccountName=devstoreaccount1;AccountKey={StorageConnection.DevelopmentAccountKey};QueueEndpoint=http://127.0.0.1:{port}/devstoreaccount1");
        var options = new StorageClientOptions();
        options.Retry.MaxRetries = 1;
        options.Retry.Delay = TimeSpan.FromMilliseconds(10);
        var queue = new QueueClient(connection, "unreachable", options);

        var ex = await Assert.ThrowsAsync<StorageRequestException>(() => queue.SendMessageAsync("x", cancellationToken: deadline.Token));

        Assert.Equal(0, ex.Status);
        Assert.Contains($"127.0.0.1:{port}", ex.Message, StringComparison.Ordinal);
        Assert.Contains("queue 'unreachable'", ex.Message, StringComparison.Ordinal);
    }
}
