using Flow.Engine.Storage;
using Flow.Engine.Storage.InMemory;
using Flow.Storage.Conformance;
using Flow.Testing;

namespace Flow.Engine.Tests.Storage;

/// <summary>The in-memory store passes the store conformance suite.</summary>
public sealed class InMemoryFlowStoreConformanceTests : FlowStoreConformanceTests
{
    protected override Task<IFlowStore> CreateStoreAsync(CancellationToken cancellationToken) =>
        Task.FromResult<IFlowStore>(new InMemoryFlowStore());
}

/// <summary>The in-memory queue passes the queue conformance suite on a fake clock the suite drives (exact, and fast).</summary>
public sealed class InMemoryWorkQueueConformanceTests : WorkQueueConformanceTests
{
    private readonly FakeClock _clock = new();

    protected override TimeProvider Clock => _clock;

    protected override TimeSpan Tolerance => TimeSpan.Zero;

    protected override Task<IWorkQueue> CreateQueueAsync(CancellationToken cancellationToken) =>
        Task.FromResult<IWorkQueue>(new InMemoryWorkQueue(_clock));

    protected override Task EnqueueRawAsync(IWorkQueue workQueue, string queue, string body, CancellationToken cancellationToken) =>
        ((InMemoryWorkQueue)workQueue).EnqueueRawAsync(queue, body, TimeSpan.Zero, cancellationToken);

    protected override Task PassTimeAsync(TimeSpan step, CancellationToken cancellationToken)
    {
        _clock.Advance(step);
        return Task.CompletedTask;
    }
}

/// <summary>
/// The in-memory queue passes the queue conformance suite on the system clock, as the durable backends run it:
/// this proves the suite's real-time waits before a remote backend relies on them. Shorter delays and a tighter
/// tolerance than a remote backend needs keep it quick.
/// </summary>
public sealed class InMemoryWorkQueueOnSystemClockConformanceTests : WorkQueueConformanceTests
{
    protected override TimeSpan ShortDelay => TimeSpan.FromSeconds(1);

    protected override TimeSpan Tolerance => TimeSpan.FromMilliseconds(250);

    protected override Task<IWorkQueue> CreateQueueAsync(CancellationToken cancellationToken) =>
        Task.FromResult<IWorkQueue>(new InMemoryWorkQueue());

    protected override Task EnqueueRawAsync(IWorkQueue workQueue, string queue, string body, CancellationToken cancellationToken) =>
        ((InMemoryWorkQueue)workQueue).EnqueueRawAsync(queue, body, TimeSpan.Zero, cancellationToken);
}

/// <summary>
/// The in-memory store passes the suite with the smallest payload limit the contract allows (1 MiB): the suite sizes its
/// payloads from <see cref="IFlowStore.MaxPayloadBytes"/>, and the limit is enforced wherever it is set.
/// </summary>
public sealed class InMemoryFlowStoreWithSmallPayloadLimitConformanceTests : FlowStoreConformanceTests
{
    protected override Task<IFlowStore> CreateStoreAsync(CancellationToken cancellationToken) =>
        Task.FromResult<IFlowStore>(new InMemoryFlowStore(new InMemoryFlowStoreOptions { MaxPayloadBytes = 1024 * 1024 }));
}

/// <summary>The in-memory stores pass the event conformance suite: the flow store appends run events to its event store under the commit's lock.</summary>
public sealed class InMemoryEventStoreConformanceTests : EventStoreConformanceTests
{
    protected override Task<(IFlowStore Flows, Flow.Engine.Events.IEventStore Events)> CreateStoresAsync(CancellationToken cancellationToken)
    {
        var flows = new InMemoryFlowStore();
        return Task.FromResult<(IFlowStore, Flow.Engine.Events.IEventStore)>((flows, flows.Events));
    }
}
