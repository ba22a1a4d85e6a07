// The one poll loop of every queue consumer (the engine's worker, the process worker, the app's run-request poller). It keeps
// the Storage namespace its users already import.
namespace Flow.Engine.Storage;

/// <summary>The polling loop shared by every consumer of a work queue: the engine's <see cref="FlowWorker"/>, the process worker and the app's run-request poller.</summary>
public static class QueuePoller
{
    /// <summary>
    /// Polls one queue until <paramref name="stoppingToken"/> is cancelled: takes up to 32 items at a time as slots allow,
    /// processes each on the thread pool (releasing its slot when done), backs off from <paramref name="minPollInterval"/>
    /// to <paramref name="maxPollInterval"/> while the queue is empty — waiting for a notification instead when the queue
    /// implements <see cref="IWorkQueueNotifier"/> — and waits for the items in flight before returning.
    /// </summary>
    /// <param name="queue">The work queue.</param>
    /// <param name="queueName">The queue's name.</param>
    /// <param name="slots">Bounds the items processed at once (shared by the caller's loops as it sees fit).</param>
    /// <param name="leaseDuration">The lease each dequeued item gets.</param>
    /// <param name="minPollInterval">The first back-off after an empty poll.</param>
    /// <param name="maxPollInterval">The longest back-off, also the pause after a failed poll.</param>
    /// <param name="process">Processes one item; an exception other than cancellation at shutdown propagates to nobody, so handle it.</param>
    /// <param name="pollFailed">Told about a failed poll.</param>
    /// <param name="stoppingToken">Stops polling; passed to <paramref name="process"/>.</param>
    /// <returns>A task that ends when polling stopped and the items in flight are done.</returns>
    public static async Task RunAsync(
        IWorkQueue queue,
        string queueName,
        SemaphoreSlim slots,
        TimeSpan leaseDuration,
        TimeSpan minPollInterval,
        TimeSpan maxPollInterval,
        Func<LeasedWorkItem, CancellationToken, Task> process,
        Action<Exception> pollFailed,
        CancellationToken stoppingToken)
    {
        var backoff = minPollInterval;
        var inFlight = new List<Task>();
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await slots.WaitAsync(stoppingToken).ConfigureAwait(false);
                var free = 1;
                while (free < 32 && slots.Wait(0, CancellationToken.None))
                {
                    free++;
                }

                IReadOnlyList<LeasedWorkItem> items;
                try
                {
                    items = await queue.DequeueAsync(queueName, free, leaseDuration, stoppingToken).ConfigureAwait(false);
                }
                catch
                {
                    slots.Release(free);
                    throw;
                }

                if (items.Count < free)
                {
                    slots.Release(free - items.Count);
                }

                foreach (var item in items)
                {
                    inFlight.Add(Task.Run(
                        async () =>
                        {
                            try
                            {
                                await process(item, stoppingToken).ConfigureAwait(false);
                            }
                            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
                            {
                                // shutting down: the item becomes visible again when its lease ends
                            }
                            finally
                            {
                                slots.Release();
                            }
                        },
                        CancellationToken.None));
                }

                inFlight.RemoveAll(t => t.IsCompleted);
                if (items.Count == 0)
                {
                    // A queue that notifies (LISTEN/NOTIFY) wakes the worker when work arrives; others are polled with back-off.
                    var notified = queue is IWorkQueueNotifier notifier
                        ? await WaitForWorkAsync(notifier, queueName, backoff, stoppingToken).ConfigureAwait(false)
                        : await DelayAsync(backoff, stoppingToken).ConfigureAwait(false);
                    backoff = notified ? minPollInterval : TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, maxPollInterval.Ticks));
                }
                else
                {
                    backoff = minPollInterval;
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                pollFailed(e);
                try
                {
                    await Task.Delay(maxPollInterval, stoppingToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
            }
        }

        await Task.WhenAll(inFlight).ConfigureAwait(false);
    }

    /// <summary>Waits for a notification; a notifier that gives up early without one (notifications off, a lost connection) still waits out the back-off, so the poll never spins.</summary>
    private static async Task<bool> WaitForWorkAsync(IWorkQueueNotifier notifier, string queue, TimeSpan backoff, CancellationToken cancellationToken)
    {
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        if (await notifier.WaitForWorkAsync(queue, backoff, cancellationToken).ConfigureAwait(false))
        {
            return true;
        }

        var left = backoff - System.Diagnostics.Stopwatch.GetElapsedTime(started);
        return left > TimeSpan.Zero && await DelayAsync(left, cancellationToken).ConfigureAwait(false);
    }

    private static async Task<bool> DelayAsync(TimeSpan delay, CancellationToken cancellationToken)
    {
        await Task.Delay(delay, cancellationToken).ConfigureAwait(false);
        return false;
    }
}
