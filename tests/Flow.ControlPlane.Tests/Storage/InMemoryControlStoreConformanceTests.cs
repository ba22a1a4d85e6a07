using Flow.Engine.Events;
using Flow.Storage.Conformance;

namespace Flow.ControlPlane.Tests.Storage;

/// <summary>The in-memory control store passes the control store conformance suite.</summary>
public sealed class InMemoryControlStoreConformanceTests : ControlStoreConformanceTests
{
    protected override Task<IControlStore> CreateStoreAsync(CancellationToken cancellationToken) =>
        Task.FromResult<IControlStore>(new InMemoryControlStore());

    protected override IEventStore EventsOf(IControlStore store) => ((InMemoryControlStore)store).Events;
}
