using System.Text.Json;
using Flow.Sdk;

namespace Flow.Engine.Execution;

internal static class RetryPolicy
{
    /// <summary>The delay before the retry after failed attempt <paramref name="failedAttempt"/>, with jitter added (up to factor × delay).</summary>
    public static TimeSpan Delay(RetryDelay delay, double jitterFactor, int failedAttempt)
    {
        var d = delay.GetDelay(failedAttempt);
        if (jitterFactor > 0 && d > TimeSpan.Zero)
        {
            var extra = d.TotalMilliseconds * jitterFactor * Random.Shared.NextDouble();
            d += TimeSpan.FromMilliseconds(Math.Min(extra, TimeSpan.MaxValue.TotalMilliseconds - d.TotalMilliseconds));
        }

        return d;
    }
}

/// <summary>The serializable part of a distributed call's options, recorded with its TaskDispatched event for the executing worker.</summary>
internal sealed record DistributedTaskOptions
{
    public int Retries { get; init; }

    public double[]? FixedDelaysSeconds { get; init; }

    public double BaseDelaySeconds { get; init; }

    public double Factor { get; init; } = 2;

    public double? MaxDelaySeconds { get; init; }

    public double Jitter { get; init; }

    public double? TimeoutSeconds { get; init; }

    public bool Cache { get; init; }

    public double? CacheExpirationSeconds { get; init; }

    public bool CacheRefresh { get; init; }

    public string? CacheKey { get; init; }

    public static DistributedTaskOptions From(TaskOptions options, string? explicitCacheKey = null) => new()
    {
        Retries = options.Retries,
        FixedDelaysSeconds = options.RetryDelay.Delays?.Select(d => d.TotalSeconds).ToArray(),
        BaseDelaySeconds = options.RetryDelay.Base.TotalSeconds,
        Factor = options.RetryDelay.Factor,
        MaxDelaySeconds = options.RetryDelay.Max == TimeSpan.MaxValue ? null : options.RetryDelay.Max.TotalSeconds,
        Jitter = options.RetryJitterFactor,
        TimeoutSeconds = options.Timeout?.TotalSeconds,
        Cache = options.Cache is not null,
        CacheExpirationSeconds = options.Cache?.Expiration?.TotalSeconds,
        CacheRefresh = options.Cache?.Refresh ?? false,
        CacheKey = explicitCacheKey,
    };

    public static DistributedTaskOptions Parse(string? json) =>
        string.IsNullOrEmpty(json) ? new DistributedTaskOptions() : JsonSerializer.Deserialize<DistributedTaskOptions>(json) ?? new DistributedTaskOptions();

    public string ToJson() => JsonSerializer.Serialize(this);

    public TaskOptions ToOptions(TaskOptions registered) => registered with
    {
        Retries = Retries,
        RetryDelay = FixedDelaysSeconds is { Length: > 0 } fixedDelays
            ? RetryDelay.Fixed(fixedDelays.Select(TimeSpan.FromSeconds).ToArray())
            : BaseDelaySeconds > 0 ? RetryDelay.Exponential(TimeSpan.FromSeconds(BaseDelaySeconds), Factor, MaxDelaySeconds is { } max ? TimeSpan.FromSeconds(max) : null) : RetryDelay.None,
        RetryJitterFactor = Jitter,
        Timeout = TimeoutSeconds is { } t ? TimeSpan.FromSeconds(t) : null,
        Cache = Cache ? new CachePolicy { Expiration = CacheExpirationSeconds is { } e ? TimeSpan.FromSeconds(e) : null, Refresh = CacheRefresh } : null,
    };
}
