using Flow.Sdk;

// The stored record of the storage contract (every backend reads and writes it), so it keeps the Storage namespace;
// it lives beside the lifecycle that changes it.
namespace Flow.Engine.Storage;

/// <summary>
/// The materialized record of one flow run: what it is, where it stands and who is working on it.
/// The journal (see <see cref="JournalEvent"/>) is the truth about what the flow did; this record is
/// what lists, dashboards and leases read. Stores keep it as one row/entity per run, with times in UTC to the
/// microsecond (<see cref="StorageContract.NormalizeTime(DateTimeOffset)"/>).
/// </summary>
public sealed record FlowRunRecord
{
    /// <summary>The run id: unique (case-sensitive), 1-100 ASCII letters, digits, '-', '_' and '.'. Fixed at creation.</summary>
    public required string RunId { get; init; }

    /// <summary>The registered flow name. Fixed at creation.</summary>
    public required string FlowName { get; init; }

    /// <summary>The work pool whose queue carries this run's work items. Defaults to <c>default</c>.</summary>
    public string Pool { get; init; } = "default";

    /// <summary>The deployment that created the run (<c>flow/deployment</c>), or null for an ad-hoc run or a subflow. Fixed at creation; runs are listed by it.</summary>
    public string? Deployment { get; init; }

    /// <summary>The current state.</summary>
    public required RunState State { get; init; }

    /// <summary>The message of the last transition.</summary>
    public string? StateMessage { get; init; }

    /// <summary>When the current state was entered.</summary>
    public DateTimeOffset StateTime { get; init; }

    /// <summary>The flow-run attempt, from 1. A flow retry starts a new attempt with a new journal.</summary>
    public int Attempt { get; init; } = 1;

    /// <summary>The number of journal events recorded in the current attempt; the next event's index is this plus one.</summary>
    public int JournalLength { get; init; }

    /// <summary>The number of state transitions recorded; the next transition's index is this plus one.</summary>
    public int TransitionCount { get; init; }

    /// <summary>The number of log lines recorded; the lines of a commit are numbered up to this.</summary>
    public int LogCount { get; init; }

    /// <summary>The parameters as a JSON document (an object or any JSON value), or null.</summary>
    public string? Parameters { get; init; }

    /// <summary>The result as a JSON document once Completed, else null.</summary>
    public string? Result { get; init; }

    /// <summary>The failure of the last attempt, when Failed or Crashed.</summary>
    public FailureInfo? Failure { get; init; }

    /// <summary>Tags (key → value); keys and values are plain strings.</summary>
    public IReadOnlyDictionary<string, string> Tags { get; init; } = EmptyTags;

    /// <summary>The parent run, when this run is a subflow.</summary>
    public string? ParentRunId { get; init; }

    /// <summary>The parent's flow-run attempt that started this subflow.</summary>
    public int ParentAttempt { get; init; }

    /// <summary>The call id in the parent's journal that started this subflow.</summary>
    public int ParentCallId { get; init; }

    /// <summary>When the run was created. Fixed at creation; runs are listed by it.</summary>
    public required DateTimeOffset CreatedAt { get; init; }

    /// <summary>When the run is due to start (for scheduled runs; otherwise the creation time).</summary>
    public DateTimeOffset ScheduledAt { get; init; }

    /// <summary>When the current attempt started running, or null before that.</summary>
    public DateTimeOffset? StartedAt { get; init; }

    /// <summary>When the run reached a final state, or null.</summary>
    public DateTimeOffset? EndedAt { get; init; }

    /// <summary>The worker instance holding the lease, or null when nobody is executing an episode.</summary>
    public string? LeaseOwner { get; init; }

    /// <summary>When the lease expires unless renewed. A lease whose time has passed belongs to nobody.</summary>
    public DateTimeOffset? LeaseUntil { get; init; }

    /// <summary>
    /// Set by whoever adds an inbox item (a distributed task result, an event, a child's completion,
    /// a cancel request); cleared by the episode that consumes the inbox. Lets deliveries coalesce
    /// their wake-ups: only the delivery that flips it from false to true while no episode holds the
    /// lease sends a wake-up message.
    /// </summary>
    public bool WakeRequested { get; init; }

    /// <summary>True once cancellation was requested.</summary>
    public bool CancelRequested { get; init; }

    /// <summary>The time of the earliest wake-up the last episode scheduled (a timer or a retry), or null.</summary>
    public DateTimeOffset? WakeAt { get; init; }

    /// <summary>When an episode last renewed its lease or committed, for crash detection.</summary>
    public DateTimeOffset? HeartbeatAt { get; init; }

    /// <summary>The flow's version string when the run started, if the flow declares one.</summary>
    public string? FlowVersion { get; init; }

    /// <summary>
    /// True while the state hook of the run's final state (OnCompletion, OnFailure, OnCrashed, OnCancellation) is owed: set in the
    /// commit that writes the final state, cleared in the commit that records the hook's invocation (docs/hooks.md). A worker that
    /// receives a work item of a final run with this set runs the hook instead of dropping the item, so a hook survives a crash
    /// between the final commit and its invocation.
    /// </summary>
    public bool HookPending { get; init; }

    /// <summary>The shared empty tag set.</summary>
    public static IReadOnlyDictionary<string, string> EmptyTags { get; } = new Dictionary<string, string>();

    /// <summary>True while <paramref name="now"/> is before <see cref="LeaseUntil"/> and someone owns the lease.</summary>
    /// <param name="now">The current time.</param>
    /// <returns>Whether a live episode holds the run.</returns>
    public bool IsLeased(DateTimeOffset now) => LeaseOwner is not null && LeaseUntil is { } until && until > now;
}
