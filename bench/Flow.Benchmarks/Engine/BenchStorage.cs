using Flow.Engine.Storage;
using Flow.Engine.Storage.InMemory;

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

    private static BenchStorage CreateAzure(BackendSpec.Azure azure) =>
        throw new NotSupportedException($"The Azure store is not available yet (prefix {azure.Prefix}).");
}
