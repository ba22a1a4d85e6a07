namespace Flow.Engine.Events;

/// <summary>
/// Deletion of old events (docs/events.md, "Retention"): implemented by every event store. The retention service calls it with
/// the same period as runs, so a run and the events about it age out together.
/// </summary>
public interface IEventRetention
{
    /// <summary>The most events one call may be asked to delete.</summary>
    const int MaxBatchSize = 1000;

    /// <summary>
    /// Deletes up to <paramref name="batchSize"/> events that occurred before <paramref name="occurredBefore"/>, oldest first,
    /// from the list and from the feed. Feed cursors stay valid: a reader behind the deleted part goes on at the oldest event
    /// left. A store may keep an event somewhat longer than asked (Azure deletes whole days of the list and whole feed
    /// partitions), never shorter.
    /// </summary>
    /// <param name="occurredBefore">Events that occurred before this time go.</param>
    /// <param name="batchSize">The most events one call deletes (1-<see cref="MaxBatchSize"/>).</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>How many events were deleted; fewer than <paramref name="batchSize"/> when nothing older is left.</returns>
    Task<int> DeleteEventsBeforeAsync(DateTimeOffset occurredBefore, int batchSize, CancellationToken cancellationToken);
}
