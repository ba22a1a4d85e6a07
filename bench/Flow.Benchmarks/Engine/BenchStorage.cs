using System.Collections.Concurrent;
using System.Diagnostics;
using Azure.Core;
using Azure.Core.Pipeline;
using Flow.Engine.Storage;
using Flow.Engine.Storage.InMemory;
using Flow.Storage.Azure;
using Flow.Storage.Postgres;
using Npgsql;

namespace Flow.Benchmarks.Engine;

/// <summary>Where a benchmark round keeps its state.</summary>
internal abstract record BackendSpec
{
    /// <summary>Shared in-process memory: for debugging the harness only (no I/O, no second process can join).</summary>
    public sealed record InMemory(InMemoryFlowStore Store, InMemoryWorkQueue Queue) : BackendSpec;

    /// <summary>Azure Storage (Azurite) with tables and queues whose names start with <paramref name="Prefix"/>, fresh per round.</summary>
    public sealed record Azure(string ConnectionString, string Prefix) : BackendSpec;

    /// <summary>PostgreSQL with the schema <c>b{Prefix}</c>, fresh per round.</summary>
    public sealed record Postgres(string ConnectionString, string Prefix) : BackendSpec
    {
        public string Schema => "b" + Prefix.ToLowerInvariant();
    }
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
        BackendSpec.Postgres postgres => CreatePostgres(postgres),
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
        var tables = AzureSdkClients.CreateTableService(connection, CountingOptions(http, "table"));
        var options = new AzureFlowStorageOptions { TablePrefix = "B" + azure.Prefix, QueuePrefix = "b" + azure.Prefix + "-" };
        return new BenchStorage(new AzureFlowStore(tables, options), new AzureWorkQueue(AzureSdkClients.CreateQueueService(connection, CountingOptions(http, "queue")), tables, options), new CallLog(), http);
    }

    /// <summary>Flow's PostgreSQL store and queue on one data source per connection string; every SQL statement they send is counted.</summary>
    private static BenchStorage CreatePostgres(BackendSpec.Postgres postgres)
    {
        var dataSource = DataSources.GetOrAdd(postgres.ConnectionString, cs => PostgresConnection.CreateDataSource(cs, "--backend postgres"));
        var options = new PostgresFlowStorageOptions { Schema = postgres.Schema };
        var calls = new CallLog();
        return new BenchStorage(new PostgresFlowStore(dataSource, options), new PostgresWorkQueue(dataSource, options), calls, SqlCounter.For(calls));
    }

    private static readonly ConcurrentDictionary<string, NpgsqlDataSource> DataSources = new(StringComparer.Ordinal);

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

/// <summary>
/// Counts and times every SQL statement Npgsql sends (its tracing activities) as "sql {first table}", e.g. <c>sql runs</c>
/// for a commit, <c>sql queue_messages</c> for a dequeue — one per database round trip — in the SQL log of the store or
/// queue call that sent it (the <see cref="CallLog.Current"/> of the async flow).
/// </summary>
internal static class SqlCounter
{
    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<CallLog, CallLog> Logs = [];
    private static readonly Lazy<ActivityListener> Listener = new(Start);

    /// <summary>The SQL log of the statements sent by calls timed in <paramref name="calls"/>.</summary>
    public static CallLog For(CallLog calls)
    {
        _ = Listener.Value;
        return Logs.GetValue(calls, _ => new CallLog());
    }

    private static ActivityListener Start()
    {
        var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name.StartsWith("Npgsql", StringComparison.Ordinal),
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllData,
            ActivityStopped = Record,
        };
        ActivitySource.AddActivityListener(listener);
        return listener;
    }

    private static void Record(Activity activity)
    {
        foreach (var tag in activity.TagObjects)
        {
            if (tag.Value is not string sql || !(tag.Key.Contains("statement", StringComparison.Ordinal) || tag.Key.Contains("query.text", StringComparison.Ordinal)))
            {
                continue;
            }

            // The first schema-qualified name: "schema".table
            var open = sql.IndexOf('"', StringComparison.Ordinal);
            var close = open < 0 ? -1 : sql.IndexOf("\".", open + 1, StringComparison.Ordinal);
            if (close < 0 || CallLog.Current is not { } calls || !Logs.TryGetValue(calls, out var log))
            {
                return;
            }

            var table = new string([.. sql[(close + 2)..].TakeWhile(c => char.IsAsciiLetterLower(c) || c == '_')]);
            log.Record("sql " + table, Stopwatch.GetTimestamp() - (long)(activity.Duration.TotalSeconds * Stopwatch.Frequency));
            return;
        }
    }
}
