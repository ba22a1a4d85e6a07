using Flow.Sdk;

namespace Flow.Engine.Storage;

/// <summary>What a journal event records.</summary>
public enum JournalEventKind
{
    /// <summary>An inline task ran longer than the marker delay and is visibly Running (informational).</summary>
    TaskStarted,

    /// <summary>A task attempt failed and will be retried; <see cref="JournalEvent.DueAt"/> is the retry time.</summary>
    TaskAttemptFailed,

    /// <summary>A task finished successfully (payload: the result), or from the cache (<see cref="JournalEvent.State"/> = Cached).</summary>
    TaskCompleted,

    /// <summary>A task failed for good.</summary>
    TaskFailed,

    /// <summary>A registered task was sent to the pool's task queue (payload: the input).</summary>
    TaskDispatched,

    /// <summary>A durable timer was created; <see cref="JournalEvent.DueAt"/> is when it fires.</summary>
    TimerCreated,

    /// <summary>A durable timer fired.</summary>
    TimerFired,

    /// <summary>A subflow was started; <see cref="JournalEvent.Detail"/> is the child run id.</summary>
    SubflowStarted,

    /// <summary>A subflow completed (payload: its result).</summary>
    SubflowCompleted,

    /// <summary>A subflow failed, crashed or was cancelled.</summary>
    SubflowFailed,

    /// <summary>The flow started waiting for an external event named <see cref="JournalEvent.Name"/>.</summary>
    EventWaitStarted,

    /// <summary>An external event was delivered to the run (payload: the event's data).</summary>
    EventReceived,

    /// <summary>Cancellation was requested.</summary>
    CancelRequested,

    /// <summary>A value the flow read from the context (time, GUID, random seed) at this point, recorded for replay.</summary>
    Marker,
}

/// <summary>
/// One event in a flow run's journal. Events are appended in order; replaying them against the flow
/// code reproduces the flow's state without re-running recorded work.
/// </summary>
public sealed record JournalEvent
{
    /// <summary>The position in the attempt's journal, from 1, assigned by the engine.</summary>
    public required int Index { get; init; }

    /// <summary>What happened.</summary>
    public required JournalEventKind Kind { get; init; }

    /// <summary>The flow call this event belongs to (the sequence number of the task, timer, subflow or wait in the flow code), or 0 for run-level events.</summary>
    public int CallId { get; init; }

    /// <summary>The task, subflow, timer or event name.</summary>
    public string? Name { get; init; }

    /// <summary>The task attempt, from 1, for task events.</summary>
    public int Attempt { get; init; }

    /// <summary>The task run's state after this event, for task events (e.g. Completed, Cached, Failed, AwaitingRetry).</summary>
    public RunState? State { get; init; }

    /// <summary>When the event was recorded.</summary>
    public required DateTimeOffset Timestamp { get; init; }

    /// <summary>When the work the event reports began (a task attempt's start), if it has one.</summary>
    public DateTimeOffset? StartedAt { get; init; }

    /// <summary>When a timer fires or a retry is due.</summary>
    public DateTimeOffset? DueAt { get; init; }

    /// <summary>A JSON payload: a result, an input, an event's data. May be large; stores keep it exactly.</summary>
    public string? Payload { get; init; }

    /// <summary>Failure details for failure events.</summary>
    public FailureInfo? Failure { get; init; }

    /// <summary>A short extra value: a child run id, a cache key, a marker's value.</summary>
    public string? Detail { get; init; }
}

/// <summary>The kinds of inbox item other parties deliver to a run.</summary>
public enum InboxItemKind
{
    /// <summary>A distributed task finished (payload: result).</summary>
    TaskCompleted,

    /// <summary>A distributed task failed for good.</summary>
    TaskFailed,

    /// <summary>A distributed task attempt failed and should be retried.</summary>
    TaskAttemptFailed,

    /// <summary>A subflow reached a successful final state.</summary>
    SubflowCompleted,

    /// <summary>A subflow reached an unsuccessful final state.</summary>
    SubflowFailed,

    /// <summary>An external event (payload: its data).</summary>
    Event,

    /// <summary>Cancellation was requested.</summary>
    CancelRequested,
}

/// <summary>
/// Something delivered to a run from outside its episode. Inbox items are written with an id that is
/// unique per run and deterministic per delivery (e.g. <c>task-1-17</c>), so a repeated delivery is
/// recognised and ignored; the next episode moves them into the journal in arrival order.
/// </summary>
public sealed record InboxItem
{
    /// <summary>The id, unique within the run: 1-200 ASCII letters, digits, '-', '_' and '.'.</summary>
    public required string Id { get; init; }

    /// <summary>What was delivered.</summary>
    public required InboxItemKind Kind { get; init; }

    /// <summary>The flow-run attempt it targets (deliveries for an older attempt are discarded), or 0 for any attempt.</summary>
    public int RunAttempt { get; init; }

    /// <summary>The call id it answers, or 0.</summary>
    public int CallId { get; init; }

    /// <summary>The task attempt it reports, for task items.</summary>
    public int Attempt { get; init; }

    /// <summary>The task or event name.</summary>
    public string? Name { get; init; }

    /// <summary>A JSON payload.</summary>
    public string? Payload { get; init; }

    /// <summary>Failure details.</summary>
    public FailureInfo? Failure { get; init; }

    /// <summary>When the work reported started.</summary>
    public DateTimeOffset? StartedAt { get; init; }

    /// <summary>When it was delivered.</summary>
    public required DateTimeOffset Timestamp { get; init; }

    /// <summary>A short extra value.</summary>
    public string? Detail { get; init; }
}

/// <summary>One stored state transition of a run.</summary>
/// <param name="Index">The position in the run's history, from 1.</param>
/// <param name="From">The state left, or null for the first state.</param>
/// <param name="To">The state entered.</param>
/// <param name="Timestamp">When.</param>
/// <param name="Message">Why, in words, or null.</param>
/// <param name="Attempt">The flow-run attempt.</param>
public sealed record StateTransition(int Index, RunState? From, RunState To, DateTimeOffset Timestamp, string? Message, int Attempt);

/// <summary>A log line attached to a run (and optionally to one of its task calls).</summary>
/// <param name="Timestamp">When.</param>
/// <param name="Level">The level name: Trace, Debug, Information, Warning, Error, Critical.</param>
/// <param name="Message">The formatted message.</param>
/// <param name="CallId">The task call it belongs to, or 0 for the flow itself.</param>
/// <param name="Attempt">The flow-run attempt.</param>
public sealed record RunLogLine(DateTimeOffset Timestamp, string Level, string Message, int CallId = 0, int Attempt = 1);

/// <summary>The kinds of artifact.</summary>
public enum ArtifactType
{
    /// <summary>Markdown text.</summary>
    Markdown,

    /// <summary>A table: a JSON array of row objects.</summary>
    Table,

    /// <summary>A link: a URI.</summary>
    Link,
}

/// <summary>A named output of a run shown next to it: a markdown report, a table, a link.</summary>
/// <param name="Key">The key, unique within the run (a later artifact with the same key replaces it): 1-200 ASCII letters, digits, '-', '_' and '.'.</param>
/// <param name="Type">The kind.</param>
/// <param name="Data">The content: markdown text, a JSON array of objects, or a URI.</param>
/// <param name="Description">An optional description.</param>
/// <param name="CreatedAt">When.</param>
/// <param name="CallId">The task call that created it, or 0 for the flow.</param>
public sealed record RunArtifact(string Key, ArtifactType Type, string Data, string? Description, DateTimeOffset CreatedAt, int CallId = 0);

/// <summary>A cached task result.</summary>
/// <param name="Key">The cache key.</param>
/// <param name="Value">The result as JSON.</param>
/// <param name="TaskName">The task that produced it.</param>
/// <param name="RunId">The run that produced it.</param>
/// <param name="CreatedAt">When.</param>
/// <param name="ExpiresAt">When it stops being valid, or null for never.</param>
public sealed record CacheEntry(string Key, string Value, string TaskName, string RunId, DateTimeOffset CreatedAt, DateTimeOffset? ExpiresAt);

/// <summary>The journal of one attempt of a run as loaded by an episode.</summary>
/// <param name="Events">The events with index 1..<see cref="FlowRunRecord.JournalLength"/>, in order.</param>
/// <param name="Inbox">Undelivered inbox items, oldest first (by timestamp, then id, ordinal).</param>
public sealed record RunJournal(IReadOnlyList<JournalEvent> Events, IReadOnlyList<InboxItem> Inbox);
