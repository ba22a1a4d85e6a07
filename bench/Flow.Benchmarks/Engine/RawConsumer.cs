using Flow.Engine.Storage;

namespace Flow.Benchmarks.Engine;

/// <summary>What one consumer took off a queue.</summary>
/// <param name="Count">Items received and deleted.</param>
/// <param name="StartedAt">When it started (wall clock).</param>
/// <param name="LastCompletedAt">When its last delete returned (wall clock).</param>
internal sealed record DrainResult(int Count, DateTimeOffset StartedAt, DateTimeOffset LastCompletedAt);

/// <summary>
/// The baseline for (c): takes a prefilled queue's items and deletes them the way <c>FlowWorker</c> consumes its task
/// queue, minus the engine: it waits for a free slot (of <c>slots</c>), takes as many more free slots as are free
/// (at most 32), receives that many items in one call, and deletes each on the thread pool, releasing its slot;
/// it stops at the first receive that finds nothing (every item has then been received by some consumer).
/// </summary>
internal static class RawConsumer
{
    public static async Task<DrainResult> DrainAsync(IWorkQueue queue, string name, int slots, CancellationToken cancellationToken)
    {
        var started = DateTimeOffset.UtcNow;
        var lastCompleted = started;
        var count = 0;
        var gate = new Lock();
        var inFlight = new List<Task>();
        using var free = new SemaphoreSlim(slots);
        while (true)
        {
            await free.WaitAsync(cancellationToken).ConfigureAwait(false);
            var take = 1;
            while (take < 32 && free.Wait(0, CancellationToken.None))
            {
                take++;
            }

            var items = await queue.DequeueAsync(name, take, TimeSpan.FromSeconds(60), cancellationToken).ConfigureAwait(false);
            if (items.Count < take)
            {
                free.Release(take - items.Count);
            }

            if (items.Count == 0)
            {
                break;
            }

            foreach (var item in items)
            {
                inFlight.Add(Task.Run(
                    async () =>
                    {
                        try
                        {
                            await queue.CompleteAsync(item, cancellationToken).ConfigureAwait(false);
                            lock (gate)
                            {
                                count++;
                                lastCompleted = DateTimeOffset.UtcNow;
                            }
                        }
                        finally
                        {
                            free.Release();
                        }
                    },
                    CancellationToken.None));
            }
        }

        await Task.WhenAll(inFlight).ConfigureAwait(false);
        return new DrainResult(count, started, lastCompleted);
    }

    /// <summary>Fills a queue with <paramref name="count"/> task work items like the ones the engine dispatches (16 senders; not measured).</summary>
    public static async Task PrefillAsync(IWorkQueue queue, string name, int count, CancellationToken cancellationToken)
    {
        await queue.EnsureQueueAsync(name, cancellationToken).ConfigureAwait(false);
        var next = 0;
        var runId = Guid.CreateVersion7().ToString("N");
        await Task.WhenAll(Enumerable.Range(0, 16).Select(async _ =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) <= count)
            {
                var item = new WorkItem { Kind = WorkItem.TaskKind, RunId = runId, RunAttempt = 1, CallId = i, JournalIndex = i + 1, Name = BenchFlows.NoopTask, Attempt = 1, Reason = "dispatch" };
                await queue.EnqueueAsync(name, item, TimeSpan.Zero, cancellationToken).ConfigureAwait(false);
            }
        })).ConfigureAwait(false);
    }
}
