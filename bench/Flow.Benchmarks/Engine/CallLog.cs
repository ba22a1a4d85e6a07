using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json.Nodes;

namespace Flow.Benchmarks.Engine;

/// <summary>
/// Counts calls per kind (a store method, a queue method, an HTTP request shape) with how long each took and how
/// many items it carried (events in a commit, messages in a receive). Thread-safe; snapshots merge across processes.
/// </summary>
internal sealed class CallLog
{
    private readonly ConcurrentDictionary<string, KindLog> _kinds = new(StringComparer.Ordinal);

    /// <summary>Records one finished call.</summary>
    public void Record(string kind, long startTimestamp, int items = 0)
    {
        var ms = Stopwatch.GetElapsedTime(startTimestamp).TotalMilliseconds;
        var log = _kinds.GetOrAdd(kind, _ => new KindLog());
        lock (log)
        {
            log.Items += items;
            log.Durations.Add(ms);
        }
    }

    /// <summary>The log timing the call in progress on this async flow (what SQL statements sent by the call are attributed to).</summary>
    public static CallLog? Current => Ambient.Value;

    private static readonly AsyncLocal<CallLog?> Ambient = new();

    /// <summary>Times a call; a call that throws is recorded under its kind plus the exception's name.</summary>
    public async Task<T> TimeAsync<T>(string kind, Func<Task<T>> call, int items = 0)
    {
        Ambient.Value = this; // restored when this method returns: it is async
        var start = Stopwatch.GetTimestamp();
        try
        {
            var result = await call().ConfigureAwait(false);
            Record(kind, start, items);
            return result;
        }
        catch (Exception e)
        {
            Record($"{kind} ({e.GetType().Name})", start, items);
            throw;
        }
    }

    /// <summary>Times a call that returns nothing.</summary>
    public Task TimeAsync(string kind, Func<Task> call) => TimeAsync(kind, async () =>
    {
        await call().ConfigureAwait(false);
        return true;
    });

    /// <summary>Forgets everything recorded so far.</summary>
    public void Reset() => _kinds.Clear();

    /// <summary>What was recorded, per kind.</summary>
    public CallSnapshot Snapshot()
    {
        var kinds = new SortedDictionary<string, KindSnapshot>(StringComparer.Ordinal);
        foreach (var (kind, log) in _kinds)
        {
            lock (log)
            {
                kinds[kind] = new KindSnapshot(log.Items, [.. log.Durations]);
            }
        }

        return new CallSnapshot(kinds);
    }

    private sealed class KindLog
    {
        public long Items { get; set; }

        public List<double> Durations { get; } = [];
    }
}

/// <summary>The calls of one kind: items carried in total and each call's duration in milliseconds.</summary>
internal sealed record KindSnapshot(long Items, double[] DurationsMs);

/// <summary>Calls per kind, as recorded by one or more <see cref="CallLog"/>s.</summary>
internal sealed record CallSnapshot(SortedDictionary<string, KindSnapshot> Kinds)
{
    public static CallSnapshot Empty => new(new SortedDictionary<string, KindSnapshot>(StringComparer.Ordinal));

    public long Total => Kinds.Values.Sum(k => (long)k.DurationsMs.Length);

    /// <summary>The calls of the kinds whose name starts with <paramref name="prefix"/>.</summary>
    public long Count(string prefix) => Kinds.Where(k => k.Key.StartsWith(prefix, StringComparison.Ordinal)).Sum(k => (long)k.Value.DurationsMs.Length);

    public static CallSnapshot Merge(IEnumerable<CallSnapshot> snapshots)
    {
        var kinds = new SortedDictionary<string, KindSnapshot>(StringComparer.Ordinal);
        foreach (var (kind, value) in snapshots.SelectMany(s => s.Kinds))
        {
            kinds[kind] = kinds.TryGetValue(kind, out var seen)
                ? new KindSnapshot(seen.Items + value.Items, [.. seen.DurationsMs, .. value.DurationsMs])
                : value;
        }

        return new CallSnapshot(kinds);
    }

    /// <summary>Per kind: count, items, total/mean/p50/p95/max milliseconds; <paramref name="perUnit"/> adds count per task.</summary>
    public JsonObject ToJson(int perUnit)
    {
        var json = new JsonObject();
        foreach (var (kind, k) in Kinds)
        {
            var sorted = k.DurationsMs.Order().ToArray();
            var entry = new JsonObject
            {
                ["count"] = sorted.Length,
                ["perTask"] = Math.Round(sorted.Length / (double)perUnit, 3),
                ["totalMs"] = Math.Round(sorted.Sum(), 1),
                ["meanMs"] = Math.Round(sorted.Average(), 3),
                ["p50Ms"] = Math.Round(Percentile(sorted, 0.50), 3),
                ["p95Ms"] = Math.Round(Percentile(sorted, 0.95), 3),
                ["maxMs"] = Math.Round(sorted[^1], 3),
            };
            if (k.Items > 0)
            {
                entry["items"] = k.Items;
            }

            json[kind] = entry;
        }

        return json;
    }

    private static double Percentile(double[] sorted, double p) => sorted[Math.Min(sorted.Length - 1, (int)Math.Floor(p * sorted.Length))];
}
