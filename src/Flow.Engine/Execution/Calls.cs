using Flow.Engine.Storage;
using Flow.Sdk;

namespace Flow.Engine.Execution;

internal enum CallKind
{
    Task,
    Timer,
    Subflow,
    EventWait,
}

/// <summary>One thing the flow code asked for: a task, a timer, a subflow or an event wait. Identified by its call id (the order of the calls).</summary>
internal abstract class Call
{
    protected Call(int id, CallKind kind, string name)
    {
        Id = id;
        Kind = kind;
        Name = name;
    }

    public int Id { get; }

    public CallKind Kind { get; }

    public string Name { get; }

    /// <summary>The JSON result (null for none) once resolved.</summary>
    public TaskCompletionSource<string?> Completion { get; } = new(TaskCreationOptions.None);

    public bool IsResolved => Completion.Task.IsCompleted;

    /// <summary>True while an event the episode recorded for this call waits to be committed, so the call is not acted on twice.</summary>
    public bool ActionPending { get; set; }

    public string Describe() => $"{KindWord(Kind)} '{Name}' (call {Id})";

    public static string KindWord(CallKind kind) => kind switch
    {
        CallKind.Task => "task",
        CallKind.Timer => "timer",
        CallKind.Subflow => "subflow",
        _ => "event wait",
    };
}

internal sealed class TaskCall : Call
{
    public TaskCall(int id, string name, TaskOptions options, string inputJson, Func<TaskContext, Task<string?>>? inlineBody, TaskDefinition? definition, bool distributed)
        : base(id, CallKind.Task, name)
    {
        Options = options;
        InputJson = inputJson;
        InlineBody = inlineBody;
        Definition = definition;
        Distributed = distributed;
    }

    public TaskOptions Options { get; }

    public string InputJson { get; }

    /// <summary>Runs one attempt and returns the result as JSON (inline tasks).</summary>
    public Func<TaskContext, Task<string?>>? InlineBody { get; }

    public TaskDefinition? Definition { get; }

    public bool Distributed { get; }

    /// <summary>The number of attempts recorded as failed.</summary>
    public int FailedAttempts { get; set; }

    /// <summary>When the next attempt may start, after a recorded failed attempt.</summary>
    public DateTimeOffset? RetryDueAt { get; set; }

    /// <summary>The attempt currently executing inline, or 0.</summary>
    public int InFlightAttempt { get; set; }

    /// <summary>The attempt dispatched to the task queue (distributed), or 0.</summary>
    public int DispatchedAttempt { get; set; }

    /// <summary>The journal index of the TaskDispatched event.</summary>
    public int DispatchIndex { get; set; }

    public CancellationTokenSource? AttemptCancellation { get; set; }
}

internal sealed class TimerCall : Call
{
    public TimerCall(int id, string name, TimeSpan delay)
        : base(id, CallKind.Timer, name) => Delay = delay;

    public TimeSpan Delay { get; }

    public DateTimeOffset? DueAt { get; set; }
}

internal sealed class SubflowCall : Call
{
    public SubflowCall(int id, string flowName, string inputJson, SubflowOptions? options)
        : base(id, CallKind.Subflow, flowName)
    {
        InputJson = inputJson;
        Options = options;
    }

    public string InputJson { get; }

    public SubflowOptions? Options { get; }

    public string? ChildRunId { get; set; }
}

internal sealed class EventWaitCall : Call
{
    public EventWaitCall(int id, string eventName, TimeSpan? timeout)
        : base(id, CallKind.EventWait, eventName) => Timeout = timeout;

    public TimeSpan? Timeout { get; }

    public bool Started { get; set; }

    public DateTimeOffset? DueAt { get; set; }
}

/// <summary>What an inline task attempt produced, handed from the thread pool to the episode loop.</summary>
internal sealed record TaskOutcome(TaskCall Call, int Attempt, DateTimeOffset StartedAt, DateTimeOffset EndedAt, string? Result, RunState State, Exception? Error, string? CacheKey);

/// <summary>Maps a recorded event to the kind of call it belongs to.</summary>
internal static class JournalCallKinds
{
    public static CallKind? Of(JournalEventKind kind) => kind switch
    {
        JournalEventKind.TaskStarted or JournalEventKind.TaskAttemptFailed or JournalEventKind.TaskCompleted
            or JournalEventKind.TaskFailed or JournalEventKind.TaskDispatched => CallKind.Task,
        JournalEventKind.TimerCreated => CallKind.Timer,
        JournalEventKind.SubflowStarted or JournalEventKind.SubflowCompleted or JournalEventKind.SubflowFailed => CallKind.Subflow,
        JournalEventKind.EventWaitStarted => CallKind.EventWait,
        _ => null,
    };
}
