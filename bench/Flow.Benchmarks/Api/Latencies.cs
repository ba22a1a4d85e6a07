using System.Text.Json.Nodes;

namespace Flow.Benchmarks.Api;

/// <summary>Latency samples in milliseconds, summarised by nearest-rank percentiles. Thread-safe.</summary>
internal sealed class Latencies
{
    private readonly List<double> _samples = [];
    private readonly Lock _gate = new();

    public int Count
    {
        get
        {
            lock (_gate)
            {
                return _samples.Count;
            }
        }
    }

    public void Add(double milliseconds)
    {
        lock (_gate)
        {
            _samples.Add(milliseconds);
        }
    }

    public void Add(TimeSpan elapsed) => Add(elapsed.TotalMilliseconds);

    /// <summary>The nearest-rank percentile (<paramref name="p"/> in 0-1), or NaN without samples.</summary>
    public double Percentile(double p) => At(Sorted(), p);

    /// <summary>count, p50, p95, p99, max and mean in milliseconds (null without samples).</summary>
    public JsonObject ToJson()
    {
        var sorted = Sorted();
        JsonNode? Ms(double value) => double.IsNaN(value) ? null : Math.Round(value, 1);
        return new JsonObject
        {
            ["count"] = sorted.Length,
            ["p50Ms"] = Ms(At(sorted, 0.50)),
            ["p95Ms"] = Ms(At(sorted, 0.95)),
            ["p99Ms"] = Ms(At(sorted, 0.99)),
            ["maxMs"] = Ms(At(sorted, 1)),
            ["meanMs"] = Ms(sorted.Length == 0 ? double.NaN : sorted.Average()),
        };
    }

    private static double At(double[] sorted, double p) =>
        sorted.Length == 0 ? double.NaN : sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Length) - 1, 0, sorted.Length - 1)];

    private double[] Sorted()
    {
        double[] copy;
        lock (_gate)
        {
            copy = [.. _samples];
        }

        Array.Sort(copy);
        return copy;
    }
}
