namespace Flow.Engine.Events;

/// <summary>
/// Where events are kept and read (docs/events.md). Events describing a run's change arrive through the run's commit
/// (<see cref="Storage.RunCommit"/>'s outbox); <see cref="AppendAsync"/> is for events that describe no stored change of
/// this system (sent by other systems, by webhooks, by automations). Implementations: in memory, Azure Tables, PostgreSQL; one
/// conformance suite proves they behave alike.
/// </summary>
public interface IEventStore
{
    /// <summary>Creates what the store needs (tables, schema); safe to call more than once.</summary>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>A task.</returns>
    Task InitializeAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Stores events. An event whose id is stored already is skipped (the stored one stays), so a retried append stores
    /// each event once. Events are checked first (<see cref="EventRules.Validate"/>); an invalid one stores nothing.
    /// </summary>
    /// <param name="events">The events.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>A task.</returns>
    /// <exception cref="ArgumentException">An event breaks the rules; the message names the field.</exception>
    Task AppendAsync(IReadOnlyList<FlowEvent> events, CancellationToken cancellationToken);

    /// <summary>Reads stored events newest first, filtered and paged (never a full scan when a kind prefix or resource is given
    /// with a time range; see each store's docs).</summary>
    /// <param name="query">The query.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>One page.</returns>
    Task<EventPage> ListAsync(EventQuery query, CancellationToken cancellationToken);

    /// <summary>
    /// Reads the feed: events in the order they reached it, after <paramref name="cursor"/>. Every stored event reaches the
    /// feed (events written through a run's commit shortly after the commit) and is returned by some read after every cursor
    /// taken before it reached the feed. Delivery is at least once: a consumer that resumes from an older cursor sees events
    /// again, and dedupes by <see cref="FlowEvent.Id"/>.
    /// </summary>
    /// <param name="cursor">A cursor from an earlier read or <see cref="GetFeedEndAsync"/>; null for the start of what is kept.</param>
    /// <param name="maxCount">The most events to return (1..1000).</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The events and the next cursor.</returns>
    /// <exception cref="ArgumentException">The cursor is not one this store gave.</exception>
    Task<EventFeedPage> ReadFeedAsync(string? cursor, int maxCount, CancellationToken cancellationToken);

    /// <summary>A cursor at the current end of the feed: reading from it returns only events that reach the feed later.</summary>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The cursor.</returns>
    Task<string> GetFeedEndAsync(CancellationToken cancellationToken);
}
