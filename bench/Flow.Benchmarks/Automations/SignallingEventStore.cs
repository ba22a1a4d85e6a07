using System.Collections.Concurrent;
using Flow.Engine.Events;

namespace Flow.Benchmarks.Automations;

/// <summary>An event store (the backend's) that completes a waiter when an event of a watched kind is appended through it (the action's effect).</summary>
/// <param name="watchedKind">The kind the action appends.</param>
/// <param name="inner">The backend's event store.</param>
public sealed class SignallingEventStore(string watchedKind, IEventStore inner) : IEventStore
{
    private readonly IEventStore _inner = inner;
    private readonly ConcurrentDictionary<string, TaskCompletionSource<DateTimeOffset>> _waiters = new(StringComparer.Ordinal);

    /// <summary>A task completed with the time the action's event for <paramref name="resourceId"/> was stored.</summary>
    /// <param name="resourceId">The resource id the action's event carries.</param>
    /// <returns>The task.</returns>
    public Task<DateTimeOffset> WhenActedAsync(string resourceId) =>
        _waiters.GetOrAdd(resourceId, _ => new TaskCompletionSource<DateTimeOffset>(TaskCreationOptions.RunContinuationsAsynchronously)).Task;

    /// <inheritdoc />
    public Task InitializeAsync(CancellationToken cancellationToken) => _inner.InitializeAsync(cancellationToken);

    /// <inheritdoc />
    public async Task AppendAsync(IReadOnlyList<FlowEvent> events, CancellationToken cancellationToken)
    {
        await _inner.AppendAsync(events, cancellationToken).ConfigureAwait(false);
        var now = DateTimeOffset.UtcNow;
        foreach (var e in events.Where(e => e.Kind == watchedKind))
        {
            _waiters.GetOrAdd(e.Resource.Id, _ => new TaskCompletionSource<DateTimeOffset>(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult(now);
        }
    }

    /// <inheritdoc />
    public Task<EventPage> ListAsync(EventQuery query, CancellationToken cancellationToken) => _inner.ListAsync(query, cancellationToken);

    /// <inheritdoc />
    public Task<EventFeedPage> ReadFeedAsync(string? cursor, int maxCount, CancellationToken cancellationToken) => _inner.ReadFeedAsync(cursor, maxCount, cancellationToken);

    /// <inheritdoc />
    public Task<string> GetFeedEndAsync(CancellationToken cancellationToken) => _inner.GetFeedEndAsync(cancellationToken);
}
