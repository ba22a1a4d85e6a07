using System.Diagnostics;
using Azure.Core;
using Azure.Core.Pipeline;
using Flow.Engine.Storage;
using Flow.Engine.Storage.InMemory;
using Flow.Storage.Azure;

namespace Flow.Benchmarks.Engine;

/// <summary>Where a benchmark round keeps its state.</summary>
internal abstract record BackendSpec
{
    /// <summary>Shared in-process memory: for debugging the harness only (no I/O, no second process can join).</summary>
    public sealed record InMemory(InMemoryFlowStore Store, InMemoryWorkQueue Queue) : BackendSpec;

    /// <summary>Azure Storage (Azurite) with tables and queues whose names start with <paramref name="Prefix"/>, fresh per round.</summary>
    public sealed record Azure(string ConnectionString, string Prefix) : BackendSpec;
}

/// <summary>
/// The store and queue one engine instance uses: the counting decorators around the real ones, the log of their
/// calls and, for Azure, of the HTTP requests they made; the undecorated ones for the harness's own reads.
/// </summary>
internal sealed class BenchStorage
{
    private BenchStorage(IFlowStore store, IWorkQueue queue, CallLog calls, CallLog http)
    {
        RawStore = store;
        RawQueue = queue;
        Calls = calls;
        Http = http;
        Store = new CountingFlowStore(store, calls);
        Queue = new CountingWorkQueue(queue, calls);
    }

    /// <summary>Store and queue calls (round trips as the engine sees them).</summary>
    public CallLog Calls { get; }

    /// <summary>HTTP requests actually sent (empty for the in-memory backend).</summary>
    public CallLog Http { get; }

    public CountingFlowStore Store { get; }

    public CountingWorkQueue Queue { get; }

    /// <summary>The store without counting, for the harness's own reads.</summary>
    public IFlowStore RawStore { get; }

    /// <summary>The queue without counting, for prefilling.</summary>
    public IWorkQueue RawQueue { get; }

    public static BenchStorage Create(BackendSpec backend) => backend switch
    {
        BackendSpec.InMemory memory => new BenchStorage(memory.Store, memory.Queue, new CallLog(), new CallLog()),
        BackendSpec.Azure azure => CreateAzure(azure),
        _ => throw new ArgumentException($"Unknown backend {backend}.", nameof(backend)),
    };

    public void Reset()
    {
        Calls.Reset();
        Http.Reset();
    }

    public (CallSnapshot Calls, CallSnapshot Http) Snapshot() => (Calls.Snapshot(), Http.Snapshot());

    /// <summary>Flow's Azure store and queue on their own clients, whose pipelines count every HTTP attempt.</summary>
    private static BenchStorage CreateAzure(BackendSpec.Azure azure)
    {
        var http = new CallLog();
        var connection = StorageConnection.Parse(azure.ConnectionString, "--connection-string");
        var tables = new TableServiceClient(connection, CountingOptions(http, "table"));
        var queues = new QueueServiceClient(connection, CountingOptions(http, "queue"));
        var options = new AzureFlowStorageOptions { TablePrefix = "B" + azure.Prefix, QueuePrefix = "b" + azure.Prefix + "-" };
        return new BenchStorage(new AzureFlowStore(tables, options), new AzureWorkQueue(queues, tables, options), new CallLog(), http);
    }

    private static StorageClientOptions CountingOptions(CallLog http, string service)
    {
        var options = new StorageClientOptions();
        options.AddPolicy(new HttpCountingPolicy(http, service), HttpPipelinePosition.PerRetry);
        return options;
    }

    /// <summary>Counts and times every HTTP attempt as "service METHOD shape", e.g. <c>table POST $batch</c>, <c>queue DELETE message</c>; failures add the status.</summary>
    private sealed class HttpCountingPolicy(CallLog log, string service) : HttpPipelinePolicy
    {
        public override void Process(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline) =>
            throw new NotSupportedException("The storage clients are asynchronous.");

        public override async ValueTask ProcessAsync(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
        {
            var start = Stopwatch.GetTimestamp();
            await ProcessNextAsync(message, pipeline).ConfigureAwait(false);
            var status = message.HasResponse ? message.Response.Status : 0;
            var kind = $"{service} {message.Request.Method.Method} {Shape(message.Request.Uri.Path)}";
            log.Record(status is >= 200 and < 300 ? kind : $"{kind} -> {status}", start);
        }

        private static string Shape(string path)
        {
            var last = path[(path.LastIndexOf('/') + 1)..];
            return last switch
            {
                "$batch" => "$batch",
                "messages" => "messages",
                _ when path.Contains("/messages/", StringComparison.Ordinal) => "message",
                _ when last.Contains('(', StringComparison.Ordinal) && !last.EndsWith("()", StringComparison.Ordinal) => "entity",
                _ when last.Contains('(', StringComparison.Ordinal) => "query",
                _ => "other",
            };
        }
    }
}
