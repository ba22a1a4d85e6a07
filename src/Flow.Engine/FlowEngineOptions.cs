namespace Flow.Engine;

/// <summary>Engine settings, bound from the configuration section <c>Flow:Engine</c>. Defaults are documented per property.</summary>
public sealed class FlowEngineOptions
{
    /// <summary>The configuration section.</summary>
    public const string SectionName = "Flow:Engine";

    /// <summary>This process's identity as a lease owner. Default: machine name, process id and a random suffix.</summary>
    public string WorkerId { get; set; } = $"{Environment.MachineName}-{Environment.ProcessId}-{Guid.NewGuid().ToString("N")[..6]}";

    /// <summary>
    /// How long a run's lease (and its work item's visibility) lasts without renewal. A worker that dies
    /// holds a run at most this long before another picks it up. Default 60 s.
    /// </summary>
    public TimeSpan LeaseDuration { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>How often a long episode renews its lease and heartbeat when nothing else was committed. Default: a third of <see cref="LeaseDuration"/>, at most 5 s (it is also how soon a running episode notices a cancellation or event).</summary>
    public TimeSpan? HeartbeatInterval { get; set; }

    /// <summary>Retry delays up to this long are waited inside the episode; longer ones become durable timers that free the worker. Default 5 s.</summary>
    public TimeSpan InlineRetryThreshold { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How many times a work item is delivered before it is dead-lettered (and its run marked Crashed). Default 5, as the Functions host.</summary>
    public int MaxDequeueCount { get; set; } = 5;

    /// <summary>The work pool of runs started without one. Default <c>default</c>.</summary>
    public string DefaultPool { get; set; } = "default";

    /// <summary>
    /// For the engine inside a process run's subprocess only: an episode may continue a run whose lease is held under this
    /// engine's <see cref="WorkerId"/> (the process worker that started the subprocess took the lease and passed its id on).
    /// Leave false anywhere else: two episodes of one run in one process would then not exclude each other. Default false.
    /// </summary>
    public bool AdoptOwnLease { get; set; }

    /// <summary>The effective heartbeat interval.</summary>
    internal TimeSpan EffectiveHeartbeat => HeartbeatInterval ?? TimeSpan.FromTicks(Math.Min(LeaseDuration.Ticks / 3, TimeSpan.FromSeconds(5).Ticks));

    /// <summary>Checks the values.</summary>
    /// <exception cref="ArgumentException">A value is out of range; the message names it.</exception>
    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(WorkerId) || WorkerId.Length > 200)
        {
            throw new ArgumentException($"Flow:Engine:{nameof(WorkerId)} must be 1-200 characters.");
        }

        if (LeaseDuration < TimeSpan.FromSeconds(2) || LeaseDuration > TimeSpan.FromDays(1))
        {
            throw new ArgumentException($"Flow:Engine:{nameof(LeaseDuration)} must be between 2 s and 1 day (was {LeaseDuration}).");
        }

        if (EffectiveHeartbeat <= TimeSpan.Zero || EffectiveHeartbeat >= LeaseDuration)
        {
            throw new ArgumentException($"Flow:Engine:{nameof(HeartbeatInterval)} must be positive and shorter than {nameof(LeaseDuration)} (was {EffectiveHeartbeat}).");
        }

        if (InlineRetryThreshold < TimeSpan.Zero)
        {
            throw new ArgumentException($"Flow:Engine:{nameof(InlineRetryThreshold)} must not be negative.");
        }

        if (MaxDequeueCount < 1)
        {
            throw new ArgumentException($"Flow:Engine:{nameof(MaxDequeueCount)} must be at least 1.");
        }
    }
}

/// <summary>How to start a run.</summary>
public sealed record StartRunOptions
{
    /// <summary>The run id; null for a new time-ordered id. Starting with the id of an existing run returns that run (idempotent start).</summary>
    public string? RunId { get; init; }

    /// <summary>Tags, added to the flow's default tags.</summary>
    public IReadOnlyDictionary<string, string>? Tags { get; init; }

    /// <summary>The work pool; null for the engine's default.</summary>
    public string? Pool { get; init; }

    /// <summary>When to start; null or a past time for now. A future time creates a Scheduled run.</summary>
    public DateTimeOffset? ScheduledAt { get; init; }

    /// <summary>The deployment that starts it, for records.</summary>
    public string? Deployment { get; init; }
}
