using System.Globalization;

namespace Flow.Engine.Events;

/// <summary>
/// An <see cref="IEventStore"/> in process memory, for tests and the local test host; the event conformance suite proves it
/// behaves like the durable stores. The feed cursor is the count of events that reached the feed. Thread-safe.
/// </summary>
public sealed class InMemoryEventStore : IEventStore, IEventRetention
{
    private readonly Lock _gate = new();

    // Feed positions are absolute: _feed[0] is position _trimmed. Retention leaves null where it deleted an event after one
    // that stays, and trims the deleted start, so positions never move.
    private readonly List<FlowEvent?> _feed = [];
    private int _trimmed;
    private readonly HashSet<string> _ids = new(StringComparer.Ordinal);

    /// <inheritdoc />
    public Task InitializeAsync(CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public Task AppendAsync(IReadOnlyList<FlowEvent> events, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(events);
        for (var i = 0; i < events.Count; i++)
        {
            EventRules.Validate(events[i], $"events[{i}]");
        }

        cancellationToken.ThrowIfCancellationRequested();
        AppendCommitted(events);
        return Task.CompletedTask;
    }

    /// <summary>Stores events written with a run's commit (<see cref="Storage.InMemory.InMemoryFlowStore"/>): made by
    /// <see cref="RunEvents"/>, so valid; an id stored already is skipped.</summary>
    /// <param name="events">The events.</param>
    internal void AppendCommitted(IReadOnlyList<FlowEvent> events)
    {
        lock (_gate)
        {
            foreach (var flowEvent in events)
            {
                if (_ids.Add(flowEvent.Id))
                {
                    _feed.Add(Normalize(flowEvent));
                }
            }
        }
    }

    /// <inheritdoc />
    public Task<EventPage> ListAsync(EventQuery query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        ArgumentOutOfRangeException.ThrowIfLessThan(query.PageSize, 1, nameof(query));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(query.PageSize, EventQuery.MaxPageSize, nameof(query));
        var after = query.ContinuationToken is null ? ((DateTimeOffset, string)?)null : ParseToken(query.ContinuationToken);
        cancellationToken.ThrowIfCancellationRequested();
        List<FlowEvent> matches;
        lock (_gate)
        {
            matches = [.. _feed.OfType<FlowEvent>().Where(e => Matches(e, query))];
        }

        var ordered = matches
            .OrderByDescending(e => e.OccurredAt)
            .ThenBy(e => e.Id, StringComparer.Ordinal)
            .Where(e => after is not { } a || e.OccurredAt < a.Item1 || (e.OccurredAt == a.Item1 && string.CompareOrdinal(e.Id, a.Item2) > 0))
            .Take(query.PageSize + 1)
            .ToList();
        var page = ordered.Take(query.PageSize).ToList();
        var token = ordered.Count > query.PageSize ? Token(page[^1]) : null;
        return Task.FromResult(new EventPage(page, token));
    }

    /// <inheritdoc />
    public Task<EventFeedPage> ReadFeedAsync(string? cursor, int maxCount, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxCount, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(maxCount, 1000);
        var position = 0;
        if (cursor is not null && (!int.TryParse(cursor, NumberStyles.None, CultureInfo.InvariantCulture, out position) || position < 0))
        {
            throw new ArgumentException($"'{cursor}' is not an event feed cursor of this store", nameof(cursor));
        }

        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            position = Math.Clamp(position, _trimmed, _trimmed + _feed.Count);
            var events = new List<FlowEvent>(Math.Min(maxCount, _feed.Count));
            while (events.Count < maxCount && position < _trimmed + _feed.Count)
            {
                if (_feed[position - _trimmed] is { } flowEvent)
                {
                    events.Add(flowEvent);
                }

                position++;
            }

            return Task.FromResult(new EventFeedPage(events, position.ToString(CultureInfo.InvariantCulture)));
        }
    }

    /// <inheritdoc />
    public Task<string> GetFeedEndAsync(CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            return Task.FromResult((_trimmed + _feed.Count).ToString(CultureInfo.InvariantCulture));
        }
    }

    /// <inheritdoc />
    public Task<int> DeleteEventsBeforeAsync(DateTimeOffset occurredBefore, int batchSize, CancellationToken cancellationToken)
    {
        EventRules.ValidateRetentionBatch(batchSize);
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            var old = _feed.Select((e, i) => (Event: e, Index: i))
                .Where(x => x.Event is { } e && e.OccurredAt < occurredBefore)
                .OrderBy(x => x.Event!.OccurredAt)
                .Take(batchSize)
                .ToList();
            foreach (var (flowEvent, index) in old)
            {
                _ids.Remove(flowEvent!.Id);
                _feed[index] = null;
            }

            var start = _feed.FindIndex(e => e is not null) is var first and >= 0 ? first : _feed.Count;
            _feed.RemoveRange(0, start);
            _trimmed += start;
            return Task.FromResult(old.Count);
        }
    }

    private static FlowEvent Normalize(FlowEvent flowEvent) =>
        flowEvent with { OccurredAt = new DateTimeOffset(flowEvent.OccurredAt.UtcTicks / 10 * 10, TimeSpan.Zero) };

    private static bool Matches(FlowEvent e, EventQuery query) =>
        (query.KindPrefix is null || e.Kind.StartsWith(query.KindPrefix, StringComparison.Ordinal))
        && (query.ResourceId is null || e.Resource.Id == query.ResourceId || e.Related.Any(r => r.Id == query.ResourceId))
        && (query.Since is not { } since || e.OccurredAt >= since)
        && (query.Until is not { } until || e.OccurredAt < until);

    private static string Token(FlowEvent last) =>
        last.OccurredAt.UtcTicks.ToString(CultureInfo.InvariantCulture) + ":" + last.Id;

    private static (DateTimeOffset, string) ParseToken(string token)
    {
        var colon = token.IndexOf(':', StringComparison.Ordinal);
        if (colon <= 0 || !long.TryParse(token.AsSpan(0, colon), NumberStyles.None, CultureInfo.InvariantCulture, out var ticks)
            || ticks > DateTimeOffset.MaxValue.UtcTicks)
        {
            throw new ArgumentException("is not a continuation token of this store", "continuationToken");
        }

        return (new DateTimeOffset(ticks, TimeSpan.Zero), token[(colon + 1)..]);
    }
}
