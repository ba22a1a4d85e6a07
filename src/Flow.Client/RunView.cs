using System.Text.Json;
using Flow.Sdk;

namespace Flow.Client;

/// <summary>A run as the API shows it (<c>GET /api/runs/{id}</c>, and each run of <c>GET /api/runs</c>).</summary>
public sealed record RunView
{
    /// <summary>The run id.</summary>
    public required string Id { get; init; }

    /// <summary>The flow's name.</summary>
    public required string Flow { get; init; }

    /// <summary>The deployment (<c>flow/name</c>) that created the run, if any.</summary>
    public string? Deployment { get; init; }

    /// <summary>The work pool the run executes in.</summary>
    public required string Pool { get; init; }

    /// <summary>The run's state.</summary>
    public required RunState State { get; init; }

    /// <summary>The state's display name: the state, or <c>Late</c> for a run not started within the grace period after its scheduled time.</summary>
    public required string StateName { get; init; }

    /// <summary>A message with the state (why it failed, who cancelled it), if any.</summary>
    public string? StateMessage { get; init; }

    /// <summary>When the run entered its state.</summary>
    public DateTimeOffset StateTime { get; init; }

    /// <summary>The run attempt (1, then 2… after flow retries).</summary>
    public int Attempt { get; init; }

    /// <summary>The flow's parameters.</summary>
    public JsonElement? Parameters { get; init; }

    /// <summary>The flow's result, once completed.</summary>
    public JsonElement? Result { get; init; }

    /// <summary>What failed, once failed or crashed.</summary>
    public FailureInfo? Failure { get; init; }

    /// <summary>The run's tags, if any.</summary>
    public IReadOnlyDictionary<string, string>? Tags { get; init; }

    /// <summary>The parent run of a subflow run.</summary>
    public string? ParentRunId { get; init; }

    /// <summary>When the run was created.</summary>
    public DateTimeOffset CreatedAt { get; init; }

    /// <summary>When the run is due.</summary>
    public DateTimeOffset ScheduledAt { get; init; }

    /// <summary>When it first started running.</summary>
    public DateTimeOffset? StartedAt { get; init; }

    /// <summary>When it ended.</summary>
    public DateTimeOffset? EndedAt { get; init; }

    /// <summary>The flow's version that ran it, if known.</summary>
    public string? FlowVersion { get; init; }

    /// <summary>True once cancellation was requested.</summary>
    public bool CancelRequested { get; init; }

    /// <summary>Where to look at and act on the run.</summary>
    public required RunLinks Links { get; init; }

    /// <summary>The state history, oldest first (only on <c>GET /api/runs/{id}</c>).</summary>
    public IReadOnlyList<StateTransitionView>? History { get; init; }

    /// <summary>The task runs of the current attempt, in call order (only on <c>GET /api/runs/{id}</c>).</summary>
    public IReadOnlyList<TaskRunView>? TaskRuns { get; init; }
}
