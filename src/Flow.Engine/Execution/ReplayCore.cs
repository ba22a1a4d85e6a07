using System.Text.Json;
using Flow.Engine.Storage;
using Flow.Sdk;

namespace Flow.Engine.Execution;

/// <summary>
/// The deterministic heart of an episode, and the only part that runs flow code (DESIGN.md §4). Given what was loaded — the run
/// record and its journal — it runs the flow on its own single-threaded scheduler, matches each call the code makes to the journal
/// (replay), and turns what is new into decisions: journal events, consumed inbox items and commands (send a task, start or cancel
/// a child, run an inline attempt), all put into <see cref="EpisodeWrites"/>. It does no I/O: no store, no queue, no waiting, so
/// it can be driven by a test with a hand-written journal, as Temporal's workflow instance is driven by activations.
/// The driver (<see cref="Episode"/>) loads, commits through <see cref="EpisodeCommitter"/> and feeds committed events back with
/// <see cref="Apply"/>. Single use; not thread-safe except where noted.
/// </summary>
internal sealed partial class ReplayCore : IDisposable
{
    private readonly List<Call> _calls = [];
    private readonly Dictionary<string, Queue<string?>> _unclaimedEvents = new(StringComparer.Ordinal);
    private readonly Dictionary<int, JournalEvent> _recordedCalls = [];
    private readonly CancellationTokenSource _runCancellation = new();
    private readonly IReadOnlyList<JournalEvent> _replay;
    private int _replayPosition;
    private Task<object?>? _flowTask;
    private NonDeterminismException? _fatal;

    /// <summary>Creates the core for one episode.</summary>
    /// <param name="run">The run record as claimed.</param>
    /// <param name="journal">The journal of the run's current attempt, in order.</param>
    /// <param name="flow">The flow's code.</param>
    /// <param name="flowOptions">The flow's options (timeout, retries, hooks).</param>
    /// <param name="settings">Registry, services, loggers, limits.</param>
    /// <param name="writes">Where decisions go.</param>
    /// <param name="signal">Called (from any thread) when the flow code has work to run.</param>
    public ReplayCore(FlowRunRecord run, IReadOnlyList<JournalEvent> journal, FlowDefinition flow, FlowOptions flowOptions, ReplaySettings settings, EpisodeWrites writes, Action signal)
    {
        Run = run;
        Flow = flow;
        FlowOptions = flowOptions;
        Settings = settings;
        Writes = writes;
        Scheduler = new FlowScheduler(signal);
        _replay = journal;
        foreach (var e in journal)
        {
            if (e.CallId > 0 && JournalCallKinds.Of(e.Kind) is not null)
            {
                _recordedCalls.TryAdd(e.CallId, e);
            }
        }

        FlowNow = run.StartedAt ?? run.CreatedAt;
    }

    /// <summary>The run record as last committed (the driver keeps it current).</summary>
    public FlowRunRecord Run { get; set; }

    public string RunId => Run.RunId;

    public FlowDefinition Flow { get; }

    public FlowOptions FlowOptions { get; }

    public ReplaySettings Settings { get; }

    public EpisodeWrites Writes { get; }

    public FlowScheduler Scheduler { get; }

    public JsonSerializerOptions Json => Settings.Registry.SerializerOptions;

    /// <summary>The flow's clock: the latest recorded time, so replay sees what the first run saw.</summary>
    public DateTimeOffset FlowNow { get; private set; }

    public bool IsReplaying => _replayPosition < _replay.Count;

    /// <summary>How many journal events were replayed.</summary>
    public int Replayed => _replayPosition;

    public int JournalCount => _replay.Count;

    /// <summary>The first non-determinism found, or null.</summary>
    public NonDeterminismException? Fatal => _fatal;

    public bool CancelRequested { get; private set; }

    public CancellationToken RunCancellation => _runCancellation.Token;

    public Task<object?>? FlowTask => _flowTask;

    public string Serialize(object? value, Type type) => JsonSerializer.Serialize(value, type, Json);

    public T Deserialize<T>(string? json) => json is null ? default! : JsonSerializer.Deserialize<T>(json, Json)!;

    public object? Deserialize(string? json, Type type) => json is null ? null : JsonSerializer.Deserialize(json, type, Json);

    /// <summary>Starts the flow code on the core's scheduler (it runs when the driver pumps <see cref="Scheduler"/>).</summary>
    /// <param name="input">The bound input.</param>
    /// <param name="services">The episode's service scope.</param>
    public void Start(object? input, IServiceProvider services)
    {
        var context = new EpisodeContext(this, services);
        var flow = Flow;
        using (Scheduler.Own())
        {
            // Queued by the engine itself: not a continuation that escaped the flow context.
            _flowTask = Task.Factory.StartNew(() => flow.Invoke(services, context, input), CancellationToken.None, TaskCreationOptions.None, Scheduler).Unwrap();
        }
    }

    /// <summary>Applies the next recorded event, if any is left to replay.</summary>
    /// <returns>True when one was applied.</returns>
    public bool ReplayNext()
    {
        if (_replayPosition >= _replay.Count)
        {
            return false;
        }

        using (Scheduler.Own())
        {
            Apply(_replay[_replayPosition++]);
        }

        return true;
    }

    /// <summary>A recorded event with a call that the replay has not reached, if the code finished before reaching it.</summary>
    public JournalEvent? UnreplayedCall() => _replay.Skip(_replayPosition).FirstOrDefault(e => e.CallId > 0);

    /// <summary>
    /// Replays the whole journal, running the flow code, until the code waits for something the journal does not have, finishes
    /// or turns out non-deterministic (the replayer: nothing new is decided or executed).
    /// </summary>
    /// <param name="cancellationToken">Stops the replay.</param>
    public void ReplayAll(CancellationToken cancellationToken)
    {
        do
        {
            cancellationToken.ThrowIfCancellationRequested();
            Scheduler.RunUntilIdle();
        }
        while (!_flowTask!.IsCompleted && _fatal is null && (ReplayNext() || Scheduler.HasWork));

        CheckFinishedCode();
    }

    /// <summary>A flow that returned while the journal records more steps changed its code: that is a non-determinism.</summary>
    private void CheckFinishedCode()
    {
        if (_flowTask!.IsCompletedSuccessfully && _fatal is null && UnreplayedCall() is { } remaining)
        {
            SetFatal($"The flow code finished, but the journal records more: {remaining.Kind} of '{remaining.Name}' (call {remaining.CallId}).");
        }
    }

    /// <summary>Records a non-determinism (the first one wins).</summary>
    /// <param name="message">What differs.</param>
    public void SetFatal(string message) => _fatal ??= new NonDeterminismException(message);

    public void Dispose()
    {
        _runCancellation.Cancel();
        _runCancellation.Dispose();
    }

    // ---------------------------------------------------------------- recording

    /// <summary>Appends a new journal event, numbered after the committed journal and what is pending.</summary>
    internal void Record(JournalEvent e)
    {
        var index = Run.JournalLength + Writes.Events.Count + 1;
        Writes.Events.Add(e with { Index = index });
    }

    internal void AddLog(string level, string message, int callId, DateTimeOffset now) =>
        Writes.Logs.Enqueue(new RunLogLine(now, level, message, callId, Run.Attempt));

    internal void AddArtifact(string key, ArtifactKind kind, string data, string? description, int callId, DateTimeOffset now)
    {
        if (string.IsNullOrEmpty(key) || key.Length > 100 || !key.All(c => c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '-'))
        {
            throw new ArgumentException($"The artifact key '{key}' is not valid: use 1-100 lowercase letters, digits and '-'.", nameof(key));
        }

        var type = kind switch
        {
            ArtifactKind.Markdown => ArtifactType.Markdown,
            ArtifactKind.Table => ArtifactType.Table,
            _ => ArtifactType.Link,
        };
        Writes.Artifacts.Enqueue(new RunArtifact(key, type, data, description, now, callId));
    }

    /// <summary>Turns inbox items (task results, events, child completions, a cancel request) into journal events of this attempt.</summary>
    /// <param name="inbox">The items as loaded.</param>
    /// <param name="now">The time to record.</param>
    public void ConsumeInbox(IReadOnlyList<InboxItem> inbox, DateTimeOffset now)
    {
        foreach (var item in inbox)
        {
            if (Writes.InboxToRemove.Contains(item.Id))
            {
                continue;
            }

            Writes.InboxToRemove.Add(item.Id);
            if (item.RunAttempt != 0 && item.RunAttempt != Run.Attempt)
            {
                continue;
            }

            var kind = item.Kind switch
            {
                InboxItemKind.TaskCompleted => JournalEventKind.TaskCompleted,
                InboxItemKind.TaskFailed => JournalEventKind.TaskFailed,
                InboxItemKind.TaskAttemptFailed => JournalEventKind.TaskAttemptFailed,
                InboxItemKind.SubflowCompleted => JournalEventKind.SubflowCompleted,
                InboxItemKind.SubflowFailed => JournalEventKind.SubflowFailed,
                InboxItemKind.Event => JournalEventKind.EventReceived,
                _ => JournalEventKind.CancelRequested,
            };
            RunState? state = kind switch
            {
                JournalEventKind.TaskCompleted => Enum.TryParse<RunState>(item.Detail, out var s) ? s : RunState.Completed,
                JournalEventKind.TaskFailed => RunState.Failed,
                JournalEventKind.TaskAttemptFailed => RunState.AwaitingRetry,
                _ => null,
            };
            Record(new JournalEvent
            {
                Index = 0,
                Kind = kind,
                CallId = item.CallId,
                Name = item.Name,
                Attempt = item.Attempt,
                State = state,
                Timestamp = now,
                StartedAt = item.StartedAt,
                DueAt = kind == JournalEventKind.TaskAttemptFailed && DateTimeOffset.TryParse(item.Detail, System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.RoundtripKind, out var due) ? due : null,
                Payload = item.Payload,
                Failure = item.Failure,
                Detail = item.Detail,
            });
        }
    }

    // ---------------------------------------------------------------- applying recorded events

    /// <summary>Feeds a recorded (replayed or just committed) event to the calls it belongs to. Call inside <see cref="FlowScheduler.Own"/>.</summary>
    /// <param name="e">The event.</param>
    public void Apply(JournalEvent e)
    {
        if (e.Timestamp > FlowNow)
        {
            FlowNow = e.Timestamp;
        }

        switch (e.Kind)
        {
            case JournalEventKind.CancelRequested:
                ApplyCancel();
                return;
            case JournalEventKind.EventReceived:
                ApplyEventReceived(e);
                return;
            case JournalEventKind.Marker:
                return;
        }

        var call = e.CallId >= 1 && e.CallId <= _calls.Count ? _calls[e.CallId - 1] : null;
        var expectedKind = e.Kind == JournalEventKind.TimerFired ? call?.Kind : JournalCallKinds.Of(e.Kind);
        if (call is null)
        {
            SetFatal($"The journal records {Call.KindWord(expectedKind ?? CallKind.Task)} '{e.Name}' as call {e.CallId} ({e.Kind}), but the flow code made only {_calls.Count} calls and is waiting on {DescribeWaits()}.");
            return;
        }

        if (call.Kind != expectedKind || (e.Name is not null && e.Kind != JournalEventKind.TimerFired && e.Name != call.Name))
        {
            SetFatal($"At call {e.CallId} the journal records {Call.KindWord(expectedKind ?? call.Kind)} '{e.Name}' but the flow code now asks for {call.Describe()}.");
            return;
        }

        call.ActionPending = false;
        if (!call.IsResolved)
        {
            ApplyToCall(call, e);
        }
    }

    private static void ApplyToCall(Call call, JournalEvent e)
    {
        switch (call, e.Kind)
        {
            case (TaskCall { Distributed: true } t, JournalEventKind.TaskAttemptFailed):
                // The executing worker retries distributed tasks itself: the next attempt is already on the task queue.
                t.FailedAttempts = Math.Max(t.FailedAttempts, e.Attempt);
                t.DispatchedAttempt = Math.Max(t.DispatchedAttempt, e.Attempt + 1);
                break;
            case (TaskCall t, JournalEventKind.TaskAttemptFailed):
                t.FailedAttempts = Math.Max(t.FailedAttempts, e.Attempt);
                t.RetryDueAt = e.DueAt;
                t.InFlightAttempt = 0;
                break;
            case (TaskCall t, JournalEventKind.TaskDispatched):
                t.DispatchedAttempt = e.Attempt;
                t.DispatchIndex = e.Index;
                break;
            case (TaskCall, JournalEventKind.TaskCompleted):
            case (SubflowCall, JournalEventKind.SubflowCompleted):
                call.Completion.TrySetResult(e.Payload);
                break;
            case (TaskCall, JournalEventKind.TaskFailed) when e.State == RunState.Cancelled:
                call.Completion.TrySetCanceled();
                break;
            case (TaskCall, JournalEventKind.TaskFailed):
            case (SubflowCall, JournalEventKind.SubflowFailed):
                call.Completion.TrySetException(new FlowTaskFailedException(call.Name, e.Failure ?? new FailureInfo("unknown", "failed")));
                break;
            case (TimerCall timer, JournalEventKind.TimerCreated):
                timer.DueAt = e.DueAt;
                break;
            case (TimerCall, JournalEventKind.TimerFired):
                call.Completion.TrySetResult(null);
                break;
            case (EventWaitCall wait, JournalEventKind.EventWaitStarted):
                wait.Started = true;
                wait.DueAt = e.DueAt;
                break;
            case (EventWaitCall wait, JournalEventKind.TimerFired):
                call.Completion.TrySetException(new TimeoutException($"No event '{wait.Name}' arrived within {wait.Timeout}."));
                break;
            case (SubflowCall sub, JournalEventKind.SubflowStarted):
                sub.ChildRunId = e.Detail;
                break;
        }
    }

    private void ApplyEventReceived(JournalEvent e)
    {
        var name = e.Name ?? string.Empty;
        var waiter = _calls.OfType<EventWaitCall>().FirstOrDefault(w => !w.IsResolved && w.Name == name);
        if (waiter is not null)
        {
            waiter.Completion.TrySetResult(e.Payload);
            return;
        }

        if (!_unclaimedEvents.TryGetValue(name, out var queue))
        {
            _unclaimedEvents[name] = queue = new Queue<string?>();
        }

        queue.Enqueue(e.Payload);
    }

    private void ApplyCancel()
    {
        if (CancelRequested)
        {
            return;
        }

        CancelRequested = true;
        _runCancellation.Cancel();
        foreach (var call in _calls.Where(c => !c.IsResolved).ToList())
        {
            call.Completion.TrySetCanceled();
            if (call is SubflowCall { ChildRunId: { } child })
            {
                Writes.AfterCommit.Add(new CancelChildCommand(child));
            }
        }
    }

    /// <summary>Marks the run cancelled before its code started (nothing to replay, nothing to cancel).</summary>
    public void CancelBeforeStart() => CancelRequested = true;

    public string DescribeWaits()
    {
        var open = _calls.Where(c => !c.IsResolved).Select(c => c.Describe()).ToList();
        return open.Count == 0 ? "nothing from the context" : string.Join(", ", open);
    }

    // ---------------------------------------------------------------- calls from flow code

    /// <summary>Registers a call the flow code makes, checking it against the journal. Runs on the flow scheduler.</summary>
    internal T AddCall<T>(Func<int, T> create)
        where T : Call
    {
        var call = create(_calls.Count + 1);
        _calls.Add(call);
        if (_fatal is not null)
        {
            return call;
        }

        if (_recordedCalls.TryGetValue(call.Id, out var recorded))
        {
            var kind = JournalCallKinds.Of(recorded.Kind);
            if (kind != call.Kind || (recorded.Name is not null && recorded.Name != call.Name))
            {
                SetFatal($"At call {call.Id} the journal records {Call.KindWord(kind ?? CallKind.Task)} '{recorded.Name}' but the flow code now asks for {call.Describe()}.");
                return call;
            }
        }

        if (CancelRequested)
        {
            call.Completion.TrySetCanceled();
        }
        else if (call is EventWaitCall wait && _unclaimedEvents.TryGetValue(wait.Name, out var queue) && queue.Count > 0)
        {
            wait.Completion.TrySetResult(queue.Dequeue());
        }

        return call;
    }
}
