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

    private sealed class CountingQueue(IWorkQueue inner) : IWorkQueue
    {
        private int _wakes;

        public int Wakes => Volatile.Read(ref _wakes);

        public Task EnqueueAsync(string queue, WorkItem item, TimeSpan delay, CancellationToken cancellationToken)
        {
            if (item.Reason?.StartsWith("wake", StringComparison.Ordinal) == true)
            {
                Interlocked.Increment(ref _wakes);
            }

            return inner.EnqueueAsync(queue, item, delay, cancellationToken);
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
