using System.Globalization;
using Flow.Engine.Storage;

namespace Flow.Testing;

/// <summary>
/// Lets a real work queue (Azure, PostgreSQL) follow a <see cref="FakeClock"/>: a delayed item is stored
/// visible at once with its due time (on the fake clock) in <see cref="WorkItem.Reason"/>, and is handed
/// out only when the fake clock has reached it; before that it is put back for a moment. All other
/// operations go straight to the real queue. Used by <see cref="FlowTestHost"/> when it runs on a real
/// backend, so durable timers need no real waiting.
/// </summary>
internal sealed class ClockAlignedWorkQueue : IWorkQueue
{
    private const string DueMarker = "|due:";
    private readonly IWorkQueue _inner;
    private readonly FakeClock _clock;
    private readonly Lock _gate = new();
    private readonly Dictionary<string, List<DateTimeOffset>> _pending = new(StringComparer.Ordinal);

    public ClockAlignedWorkQueue(IWorkQueue inner, FakeClock clock)
    {
        _inner = inner;
        _clock = clock;
    }

    public DateTimeOffset? GetNextVisibleTime(string queue)
    {
        lock (_gate)
        {
            return _pending.TryGetValue(queue, out var dues) && dues.Count > 0 ? dues.Min() : null;
        }
    }

    public Task EnsureQueueAsync(string queue, CancellationToken cancellationToken) => _inner.EnsureQueueAsync(queue, cancellationToken);

    public Task EnqueueAsync(string queue, WorkItem item, TimeSpan delay, CancellationToken cancellationToken)
    {
        if (delay <= TimeSpan.Zero)
        {
            return _inner.EnqueueAsync(queue, item, TimeSpan.Zero, cancellationToken);
        }

        var due = _clock.GetUtcNow() + delay;
        lock (_gate)
        {
            if (!_pending.TryGetValue(queue, out var dues))
            {
                _pending[queue] = dues = [];
            }

            dues.Add(due);
        }

        return _inner.EnqueueAsync(queue, item with { Reason = item.Reason + DueMarker + due.UtcTicks.ToString(CultureInfo.InvariantCulture) }, TimeSpan.Zero, cancellationToken);
    }

    public async Task<IReadOnlyList<LeasedWorkItem>> DequeueAsync(string queue, int maxItems, TimeSpan leaseDuration, CancellationToken cancellationToken)
    {
        var items = await _inner.DequeueAsync(queue, maxItems, leaseDuration, cancellationToken).ConfigureAwait(false);
        var ready = new List<LeasedWorkItem>(items.Count);
        foreach (var item in items)
        {
            var reason = item.Item?.Reason;
            var at = reason?.LastIndexOf(DueMarker, StringComparison.Ordinal) ?? -1;
            if (at < 0)
            {
                ready.Add(item);
                continue;
            }

            var due = new DateTimeOffset(long.Parse(reason![(at + DueMarker.Length)..], CultureInfo.InvariantCulture), TimeSpan.Zero);
            if (due > _clock.GetUtcNow())
            {
                await _inner.AbandonAsync(item, TimeSpan.FromMilliseconds(20), cancellationToken).ConfigureAwait(false);
                continue;
            }

            lock (_gate)
            {
                if (_pending.TryGetValue(queue, out var dues))
                {
                    dues.Remove(due);
                }
            }

            ready.Add(item with { Item = item.Item! with { Reason = reason[..at] } });
        }

        return ready;
    }

    public Task<LeasedWorkItem> ExtendLeaseAsync(LeasedWorkItem item, TimeSpan leaseDuration, CancellationToken cancellationToken) => _inner.ExtendLeaseAsync(item, leaseDuration, cancellationToken);

    public Task<bool> CompleteAsync(LeasedWorkItem item, CancellationToken cancellationToken) => _inner.CompleteAsync(item, cancellationToken);

    public Task<bool> AbandonAsync(LeasedWorkItem item, TimeSpan delay, CancellationToken cancellationToken)
    {
        if (delay <= TimeSpan.Zero || item.Item is null)
        {
            return _inner.AbandonAsync(item, delay, cancellationToken);
        }

        // Re-enqueue with a fake-clock due time, then drop the original.
        return AbandonLaterAsync(item, delay, cancellationToken);
    }

    public Task DeadLetterAsync(LeasedWorkItem item, string reason, CancellationToken cancellationToken) => _inner.DeadLetterAsync(item, reason, cancellationToken);

    public Task<IReadOnlyList<DeadLetter>> GetDeadLettersAsync(string queue, int maxItems, CancellationToken cancellationToken) => _inner.GetDeadLettersAsync(queue, maxItems, cancellationToken);

    public Task<int> GetApproximateCountAsync(string queue, CancellationToken cancellationToken) => _inner.GetApproximateCountAsync(queue, cancellationToken);

    private async Task<bool> AbandonLaterAsync(LeasedWorkItem item, TimeSpan delay, CancellationToken cancellationToken)
    {
        await EnqueueAsync(item.Queue, item.Item!, delay, cancellationToken).ConfigureAwait(false);
        return await _inner.CompleteAsync(item, cancellationToken).ConfigureAwait(false);
    }
}
