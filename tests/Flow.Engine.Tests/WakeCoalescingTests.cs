using Flow.Engine.Storage;
using Flow.Engine.Storage.InMemory;
using Flow.Sdk;
using Flow.Testing;
using Flow.TestSupport;

namespace Flow.Engine.Tests;

public sealed class WakeCoalescingTests
{
    [Fact]
    public async Task RunAsync_FanOutOfDistributedTasks_WakesTheParentFarFewerTimesThanThereAreResults()
    {
        using var deadline = TestDeadline.Create(TimeSpan.FromSeconds(30));
        CountingQueue? counting = null;
        await using var host = FlowTestHost.Create(
            r => r.AddTask<int, int>("inc", (_, x) => Task.FromResult(x + 1))
                .AddFlow<int, int>("fan", async (ctx, n) => (await ctx.MapTaskAsync<int>("inc", Enumerable.Range(0, n).Cast<object?>(), TaskOptions.Distributed(), maxConcurrency: n)).Sum()),
            o => o.Storage = clock => (new InMemoryFlowStore(), counting = new CountingQueue(new InMemoryWorkQueue(clock))));

        var run = await host.RunAsync("fan", 200, cancellationToken: deadline.Token);

        Assert.Equal(RunState.Completed, run.State);
        Assert.Equal(Enumerable.Range(1, 200).Sum(), host.GetResult<int>(run));
        Assert.InRange(counting!.Wakes, 1, 20);
    }

    [Fact]
    public async Task RunAsync_MoreDispatchesThanOneCommitHolds_SendsEachTaskOnlyAfterItsDispatchIsStored()
    {
        // 150 dispatches take two commits (99 items each at most). A task message sent after the first commit but
        // before the second could be taken by a worker that cannot find its TaskDispatched event yet and drops it:
        // the run would then wait for that task for ever.
        using var deadline = TestDeadline.Create(TimeSpan.FromSeconds(30));
        var store = new InMemoryFlowStore();
        var sentEarly = new List<int>();
        await using var host = FlowTestHost.Create(
            r => r.AddTask<int, int>("inc", (_, x) => Task.FromResult(x + 1))
                .AddFlow<int, int>("fan", async (ctx, n) => (await ctx.MapTaskAsync<int>("inc", Enumerable.Range(0, n).Cast<object?>(), TaskOptions.Distributed(), maxConcurrency: n)).Sum()),
            o => o.Storage = clock => (store, new CountingQueue(new InMemoryWorkQueue(clock), async item =>
            {
                if (item.Kind == WorkItem.TaskKind && await store.GetJournalEventAsync(item.RunId, item.RunAttempt, item.JournalIndex, CancellationToken.None) is null)
                {
                    lock (sentEarly)
                    {
                        sentEarly.Add(item.CallId);
                    }
                }
            })));

        var run = await host.RunAsync("fan", 150, cancellationToken: deadline.Token);

        Assert.Equal(RunState.Completed, run.State);
        Assert.Empty(sentEarly);
    }

    /// <summary>Counts wake-ups, and shows every item to <paramref name="onEnqueue"/> before it is enqueued.</summary>
    private sealed class CountingQueue(IWorkQueue inner, Func<WorkItem, Task>? onEnqueue = null) : IWorkQueue
    {
        private int _wakes;

        public int Wakes => Volatile.Read(ref _wakes);

        public async Task EnqueueAsync(string queue, WorkItem item, TimeSpan delay, CancellationToken cancellationToken)
        {
            if (item.Reason?.StartsWith("wake", StringComparison.Ordinal) == true)
            {
                Interlocked.Increment(ref _wakes);
            }

            if (onEnqueue is not null)
            {
                await onEnqueue(item);
            }

            await inner.EnqueueAsync(queue, item, delay, cancellationToken);
        }

        public Task EnsureQueueAsync(string queue, CancellationToken cancellationToken) => inner.EnsureQueueAsync(queue, cancellationToken);

        public Task<IReadOnlyList<LeasedWorkItem>> DequeueAsync(string queue, int maxItems, TimeSpan leaseDuration, CancellationToken cancellationToken) => inner.DequeueAsync(queue, maxItems, leaseDuration, cancellationToken);

        public Task<LeasedWorkItem> ExtendLeaseAsync(LeasedWorkItem item, TimeSpan leaseDuration, CancellationToken cancellationToken) => inner.ExtendLeaseAsync(item, leaseDuration, cancellationToken);

        public Task<bool> CompleteAsync(LeasedWorkItem item, CancellationToken cancellationToken) => inner.CompleteAsync(item, cancellationToken);

        public Task<bool> AbandonAsync(LeasedWorkItem item, TimeSpan delay, CancellationToken cancellationToken) => inner.AbandonAsync(item, delay, cancellationToken);

        public Task DeadLetterAsync(LeasedWorkItem item, string reason, CancellationToken cancellationToken) => inner.DeadLetterAsync(item, reason, cancellationToken);

        public Task<IReadOnlyList<DeadLetter>> GetDeadLettersAsync(string queue, int maxItems, CancellationToken cancellationToken) => inner.GetDeadLettersAsync(queue, maxItems, cancellationToken);

        public Task<int> GetApproximateCountAsync(string queue, CancellationToken cancellationToken) => inner.GetApproximateCountAsync(queue, cancellationToken);
    }
}
