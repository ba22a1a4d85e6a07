namespace Flow.Engine.Storage;

/// <summary>
/// Implemented by work queues that can tell an idle worker that work arrived (PostgreSQL's <c>LISTEN/NOTIFY</c>), so the
/// worker waits for a notification — up to its poll interval — instead of sleeping through it.
/// </summary>
public interface IWorkQueueNotifier
{
    /// <summary>Waits until work may have arrived on a queue (an enqueue without delay), or the timeout passes.</summary>
    /// <param name="queue">The queue name.</param>
    /// <param name="timeout">The longest wait.</param>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <returns>True when work may have arrived — notified, or notifications have just started (or restarted) and what was sent
    /// before them is unknown, so the caller should poll once more —; false on timeout (or when notifications are off).</returns>
    Task<bool> WaitForWorkAsync(string queue, TimeSpan timeout, CancellationToken cancellationToken);
}
