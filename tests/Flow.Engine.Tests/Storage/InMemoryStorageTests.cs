using Flow.Engine.Storage;
using Flow.Engine.Storage.InMemory;
using Flow.TestSupport;
using Flow.Testing;

namespace Flow.Engine.Tests.Storage;

/// <summary>What the in-memory store and queue add to the contract (the conformance suites cover the contract itself).</summary>
public sealed class InMemoryStorageTests
{
    [Fact]
    public void InMemoryFlowStore_Defaults_Are99ItemsAnd16MiB()
    {
        var store = new InMemoryFlowStore();

        Assert.Equal(99, store.MaxItemsPerCommit);
        Assert.Equal(16 * 1024 * 1024, store.MaxPayloadBytes);
        Assert.Equal(1000, new InMemoryFlowStore(new InMemoryFlowStoreOptions { MaxPayloadBytes = 1000 }).MaxPayloadBytes);
    }

    [Fact]
    public void InMemoryFlowStore_MaxPayloadBytesBelowOne_ThrowsArgumentOutOfRangeException()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new InMemoryFlowStore(new InMemoryFlowStoreOptions { MaxPayloadBytes = 0 }));
    }

    [Fact]
    public async Task InMemoryWorkQueue_QueueNotEnsured_ThrowsInvalidOperationExceptionNamingIt()
    {
        using var deadline = TestDeadline.Create();
        var queue = new InMemoryWorkQueue();

        var error = await Assert.ThrowsAsync<InvalidOperationException>(
            () => queue.EnqueueAsync("missing", new WorkItem { Kind = WorkItem.RunKind, RunId = "r" }, TimeSpan.Zero, deadline.Token));

        Assert.Contains("'missing'", error.Message, StringComparison.Ordinal);
        Assert.Contains(nameof(IWorkQueue.EnsureQueueAsync), error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task InMemoryWorkQueue_Body_IsReadableCamelCaseJsonWithoutDefaults()
    {
        using var deadline = TestDeadline.Create();
        var queue = new InMemoryWorkQueue(new FakeClock());
        await queue.EnsureQueueAsync("runs", deadline.Token);
        await queue.EnqueueAsync("runs", new WorkItem { Kind = WorkItem.RunKind, RunId = "run-1", Reason = "start" }, TimeSpan.Zero, deadline.Token);

        var taken = Assert.Single(await queue.DequeueAsync("runs", 1, TimeSpan.FromMinutes(1), deadline.Token));

        Assert.Equal("""{"kind":"run","runId":"run-1","reason":"start"}""", taken.RawBody);
    }
}
