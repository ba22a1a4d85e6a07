namespace Flow.Client;

/// <summary>One task call of a run, with its attempts, from the current attempt's journal.</summary>
public sealed record TaskRunView
{
    /// <summary>The call's id within the run (its order).</summary>
    public int CallId { get; init; }

    /// <summary>The task's name.</summary>
    public required string Name { get; init; }

    /// <summary>Completed, Cached, Failed, Running or AwaitingRetry.</summary>
    public required string State { get; init; }

    /// <summary>How many attempts it took so far.</summary>
    public int Attempts { get; init; }

    /// <summary>When its first attempt started.</summary>
    public DateTimeOffset? StartedAt { get; init; }

    /// <summary>When it ended.</summary>
    public DateTimeOffset? EndedAt { get; init; }

    /// <summary>From start to end, in milliseconds, once ended.</summary>
    public double? DurationMs { get; init; }

    /// <summary>True when the result came from the cache.</summary>
    public bool Cached { get; init; }

    /// <summary>What failed, once failed.</summary>
    public Flow.Sdk.FailureInfo? Failure { get; init; }

    /// <summary>Each attempt that ended.</summary>
    public required IReadOnlyList<TaskAttemptView> AttemptHistory { get; init; }
}
