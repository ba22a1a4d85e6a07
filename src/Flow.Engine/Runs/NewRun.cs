using Flow.Engine.Storage;

namespace Flow.Engine.Runs;

/// <summary>What a new run is made of: the fields fixed at creation. <see cref="RunLifecycle.PlanCreate"/> turns it into the first record.</summary>
public sealed record NewRun
{
    /// <summary>The run id; null for a new time-ordered id.</summary>
    public string? RunId { get; init; }

    /// <summary>The flow name (a registered flow, or the name a process deployment reports).</summary>
    public required string FlowName { get; init; }

    /// <summary>The work pool whose run queue carries the run.</summary>
    public required string Pool { get; init; }

    /// <summary>The deployment that created the run, or null.</summary>
    public string? Deployment { get; init; }

    /// <summary>The parameters as JSON, or null.</summary>
    public string? Parameters { get; init; }

    /// <summary>Tags (key → value).</summary>
    public IReadOnlyDictionary<string, string> Tags { get; init; } = FlowRunRecord.EmptyTags;

    /// <summary>When the run is due; a time ahead makes it Scheduled, none (or a past time) Pending.</summary>
    public DateTimeOffset? ScheduledAt { get; init; }

    /// <summary>The flow's version, if it declares one.</summary>
    public string? FlowVersion { get; init; }

    /// <summary>The parent run, for a subflow.</summary>
    public string? ParentRunId { get; init; }

    /// <summary>The parent's attempt that started the subflow.</summary>
    public int ParentAttempt { get; init; }

    /// <summary>The parent's call id that started the subflow.</summary>
    public int ParentCallId { get; init; }

    /// <summary>The first transition's message; null for "Created" or "Scheduled for …".</summary>
    public string? Message { get; init; }
}
