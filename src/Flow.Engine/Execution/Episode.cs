using System.Collections.Concurrent;
using System.Text.Json;
using Flow.Engine.Diagnostics;
using Flow.Engine.Runs;
using Flow.Engine.Storage;
using Flow.Sdk;
using Microsoft.Extensions.DependencyInjection;

namespace Flow.Engine.Execution;

/// <summary>What the host does with the work item after an episode.</summary>
internal enum EpisodeDisposition
{
    /// <summary>Delete it: the run was handled (or needs nothing from this item).</summary>
    Complete,

    /// <summary>Put it back to be delivered again after <see cref="EpisodeResult.RetryAfter"/>.</summary>
    Abandon,
}

internal sealed record EpisodeResult(EpisodeDisposition Disposition, LeasedWorkItem Message, TimeSpan RetryAfter = default);

/// <summary>
/// One execution attempt of a run, started by a work item (DESIGN.md §4): take the lease, load the
/// journal, replay the flow code against it, execute new work, append events in batches, and either
/// suspend on durable waits or finish. Single use.
/// </summary>
internal sealed partial class Episode
{
    private readonly EngineCore _core;
    private readonly ConcurrentQueue<TaskOutcome> _outcomes = new();
    private readonly ConcurrentQueue<RunLogLine> _logs = new();
    private readonly ConcurrentQueue<RunArtifact> _artifacts = new();
    private readonly SemaphoreSlim _signal = new(0);
    private readonly List<Call> _calls = [];
    private readonly List<JournalEvent> _buffer = [];
    private readonly List<StateTransition> _transitions = [];
    private readonly List<string> _inboxToRemove = [];
    private readonly List<Func<CancellationToken, Task>> _afterCommit = [];
    private readonly List<Func<CancellationToken, Task>> _taskSends = [];
    private readonly Dictionary<string, Queue<string?>> _unclaimedEvents = new(StringComparer.Ordinal);
    private readonly Dictionary<int, JournalEvent> _recordedCalls = [];
    private readonly CancellationTokenSource _runCancellation = new();
    private readonly FlowScheduler _scheduler;
    private readonly bool _replayOnly;
    private LeasedWorkItem _message;
    private FlowRunRecord _run = null!;
    private string _version = string.Empty;
    private FlowDefinition _flow = null!;
    private FlowOptions _flowOptions = FlowOptions.Default;
    private IReadOnlyList<JournalEvent> _replay = [];
    private int _replayPosition;
    private Task<object?>? _flowTask;
    private DateTimeOffset _flowNow;
    private DateTimeOffset _lastCommit;
    private DateTimeOffset _messageRenewedAt;
    private int _inlineInFlight;
    private bool _cancelRequested;
    private bool _recovery;
    private bool _recoveryResent;
    private bool _messageLost;
    private NonDeterminismException? _fatal;
    private EpisodeContext _context = null!;
    private IServiceScope? _scope;

    public Episode(EngineCore core, LeasedWorkItem message, bool replayOnly = false)
    {
        _core = core;
        _message = message;
        _replayOnly = replayOnly;
        _scheduler = new FlowScheduler(Signal);
        _messageRenewedAt = core.Now;
    }

    /// <summary>In replay-only mode (the replayer), the first non-determinism found, or null when the code matched the journal.</summary>
    public NonDeterminismException? ReplayError => _fatal;

    /// <summary>In replay-only mode, how many events were replayed.</summary>
    public int Replayed => _replayPosition;

    public string RunId => _message.Item!.RunId;

    internal FlowRunRecord Run => _run;

    internal DateTimeOffset FlowNow => _flowNow;

    internal bool IsReplaying => _replayPosition < _replay.Count;

    internal EngineCore Core => _core;

    internal CancellationToken RunCancellation => _runCancellation.Token;

    internal IServiceProvider Services => _scope?.ServiceProvider ?? _core.Services;

    internal FlowDefinition Flow => _flow;

    public async Task<EpisodeResult> RunAsync(CancellationToken cancellationToken)
    {
        try
        {
            var start = await StartAsync(cancellationToken).ConfigureAwait(false);
            if (start is not null)
            {
                return start;
            }

            return await LoopAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (LeaseLostException)
        {
            Logs.LeaseLost(_core.Logger, RunId);
            return new EpisodeResult(EpisodeDisposition.Complete, _message);
        }
        finally
        {
            await _runCancellation.CancelAsync().ConfigureAwait(false);
            _runCancellation.Dispose();
            _scope?.Dispose();
        }
    }

    private void Signal()
    {
        if (_signal.CurrentCount == 0)
        {
            _signal.Release();
        }
    }

    // ---------------------------------------------------------------- start

    private async Task<EpisodeResult?> StartAsync(CancellationToken cancellationToken)
    {
        for (var attempt = 0; ; attempt++)
        {
            var stored = await _core.Store.GetRunAsync(RunId, cancellationToken).ConfigureAwait(false);
            if (stored is null)
            {
                Logs.WorkItemDropped(_core.Logger, RunId, "no such run");
                return new EpisodeResult(EpisodeDisposition.Complete, _message);
            }

            var run = stored.Record;
            var now = _core.Now;
            if (run.State.IsFinal())
            {
                // A child whose parent notification may have been lost in a crash: notify again (idempotent).
                await _core.NotifyParentAsync(run, cancellationToken).ConfigureAwait(false);
                Logs.WorkItemDropped(_core.Logger, RunId, "the run is " + run.State);
                return new EpisodeResult(EpisodeDisposition.Complete, _message);
            }

            if (run.IsLeased(now) && !(_core.Options.AdoptOwnLease && run.LeaseOwner == _core.Options.WorkerId))
            {
                // Another episode holds the run (in this process or another): alive, or dead with its lease not yet
                // expired. Look again when the lease ends: a live holder will have renewed it; a dead one's run is taken over.
                Logs.WorkItemDeferred(_core.Logger, RunId, run.LeaseOwner!, run.LeaseUntil!.Value);
                return new EpisodeResult(EpisodeDisposition.Abandon, _message, run.LeaseUntil!.Value - now);
            }

            var notBefore = RunLifecycle.NotBefore(run, now);
            if (notBefore > now && run.State == RunState.Scheduled && notBefore - now <= RunLifecycle.MaxInProcessWait)
            {
                // The item came early on purpose (RunLifecycle.ScheduledStartLead): start on the dot, then read the run again.
                await Task.Delay(notBefore - now, _core.Time, cancellationToken).ConfigureAwait(false);
                continue;
            }

            if (notBefore > now)
            {
                return new EpisodeResult(EpisodeDisposition.Abandon, _message, notBefore - now);
            }

            if (!_core.Registry.TryGetFlow(run.FlowName, out var flow))
            {
                await FailUnstartableAsync(stored, new FailureInfo("Flow.FlowNotRegistered", $"No flow named '{run.FlowName}' is registered in this application (registered: {string.Join(", ", _core.Registry.Flows.Select(f => f.Name).Order(StringComparer.Ordinal))})."), cancellationToken).ConfigureAwait(false);
                return new EpisodeResult(EpisodeDisposition.Complete, _message);
            }

            if (run.State is RunState.Scheduled or RunState.Pending && !run.CancelRequested && _core.Services.GetService<IRunAdmission>() is { } admission)
            {
                var decision = await admission.AdmitAsync(run, cancellationToken).ConfigureAwait(false);
                if (decision.Kind == AdmissionKind.Defer)
                {
                    Logs.RunDeferred(_core.Logger, RunId, decision.Reason ?? "deferred");
                    return new EpisodeResult(EpisodeDisposition.Abandon, _message, decision.RetryAfter);
                }

                if (decision.Kind == AdmissionKind.Reject)
                {
                    _run = run;
                    _version = stored.Version;
                    await FinishAsync(RunState.Cancelled, null, null, decision.Reason ?? "Not admitted", cancellationToken).ConfigureAwait(false);
                    return new EpisodeResult(EpisodeDisposition.Complete, _message);
                }
            }

            _flow = flow;
            _recovery = run.LeaseOwner is not null;
            var leased = await _core.Lifecycle.TryClaimAsync(stored, _core.Options.WorkerId, _core.Options.LeaseDuration, null, cancellationToken).ConfigureAwait(false);
            if (leased is null)
            {
                if (attempt < 20)
                {
                    continue;
                }

                throw new ConcurrencyException($"Run {RunId} kept changing while this episode tried to claim it.");
            }

            _run = leased.Record;
            _version = leased.Version;
            _lastCommit = now;
            break;
        }

        RunJournal journal;
        object? input;
        try
        {
            journal = await _core.Store.LoadJournalAsync(_run, cancellationToken).ConfigureAwait(false);
            ValidateJournal(journal.Events);
        }
        catch (Exception e) when (e is JsonException or FormatException or InvalidDataException or ArgumentException or KeyNotFoundException)
        {
            await FinishAsync(RunState.Failed, null, new FailureInfo("Flow.CorruptJournal", $"The journal of run {RunId} attempt {_run.Attempt} cannot be read: {e.Message}", e.ToString()), "Corrupt journal", cancellationToken).ConfigureAwait(false);
            return new EpisodeResult(EpisodeDisposition.Complete, _message);
        }

        _scope = _core.Services.GetService<IServiceScopeFactory>()?.CreateScope();
        try
        {
            _flowOptions = _flow.GetOptions(Services);
            input = ParameterBinder.Bind(_run.Parameters, _flow.InputType, _core.Json);
        }
        catch (FlowParameterException e)
        {
            await FinishAsync(RunState.Failed, null, new FailureInfo(typeof(FlowParameterException).FullName!, e.Message), "Invalid parameters", cancellationToken).ConfigureAwait(false);
            return new EpisodeResult(EpisodeDisposition.Complete, _message);
        }

        _replay = journal.Events;
        foreach (var e in _replay)
        {
            if (e.CallId > 0 && JournalCallKinds.Of(e.Kind) is not null)
            {
                _recordedCalls.TryAdd(e.CallId, e);
            }
        }

        _flowNow = _run.StartedAt ?? _run.CreatedAt;
        ConsumeInbox(journal.Inbox);
        if (_run.CancelRequested && _run.JournalLength == 0)
        {
            // Cancelled before the flow code did anything: don't start it at all.
            _cancelRequested = true;
            await FinishAsync(RunState.Cancelled, null, null, "Cancelled before it started", cancellationToken).ConfigureAwait(false);
            return new EpisodeResult(EpisodeDisposition.Complete, _message);
        }

        Logs.EpisodeStarted(_core.Logger, RunId, _run.FlowName, _core.Options.WorkerId, _replay.Count, _recovery);
        LogAndMeasureStart();

        _context = new EpisodeContext(this);
        var flowDefinition = _flow;
        var context = _context;
        var services = Services;
        using (_scheduler.Own())
        {
            // Queued by the engine itself: not a continuation that escaped the flow context.
            _flowTask = Task.Factory.StartNew(() => flowDefinition.Invoke(services, context, input), CancellationToken.None, TaskCreationOptions.None, _scheduler).Unwrap();
        }
        return null;
    }

    /// <summary>Operational logs and telemetry of an episode's start: a run (attempt) started, or taken over from a dead worker.</summary>
    private void LogAndMeasureStart()
    {
        var firstOfAttempt = _replay.Count == 0 && !_recovery;
        if (_recovery)
        {
            Logs.RunTakenOver(_core.Logger, RunId, _run.FlowName, _core.Options.WorkerId, _replay.Count);
        }
        else if (firstOfAttempt)
        {
            Logs.RunStarted(_core.Logger, RunId, _run.FlowName, _run.Deployment ?? "-", _run.Pool, _run.Attempt);
        }

        FlowTelemetry.EpisodeStarted(_run, firstOfAttempt && _run.Attempt == 1, _recovery, _core.Now);
    }

    private void ValidateJournal(IReadOnlyList<JournalEvent> events)
    {
        for (var i = 0; i < events.Count; i++)
        {
            if (events[i].Index != i + 1)
            {
                throw new InvalidDataException($"event {i + 1} has index {events[i].Index}: the journal has a gap or is out of order");
            }
        }

        if (events.Count != _run.JournalLength)
        {
            throw new InvalidDataException($"the run record says {_run.JournalLength} events but {events.Count} were found");
        }
    }

    private async Task FailUnstartableAsync(StoredRun stored, FailureInfo failure, CancellationToken cancellationToken)
    {
        _run = stored.Record;
        _version = stored.Version;
        await FinishAsync(RunState.Failed, null, failure, failure.Message, cancellationToken).ConfigureAwait(false);
    }

    private void ConsumeInbox(IReadOnlyList<InboxItem> inbox)
    {
        foreach (var item in inbox)
        {
            if (_inboxToRemove.Contains(item.Id))
            {
                continue;
            }

            _inboxToRemove.Add(item.Id);
            if (item.RunAttempt != 0 && item.RunAttempt != _run.Attempt)
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
                Timestamp = _core.Now,
                StartedAt = item.StartedAt,
                DueAt = kind == JournalEventKind.TaskAttemptFailed && DateTimeOffset.TryParse(item.Detail, System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.RoundtripKind, out var due) ? due : null,
                Payload = item.Payload,
                Failure = item.Failure,
                Detail = item.Detail,
            });
        }
    }

    // ---------------------------------------------------------------- loop

    private async Task<EpisodeResult> LoopAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            _scheduler.RunUntilIdle();
            if (_replayOnly)
            {
                var caughtUp = _replayPosition >= _replay.Count && !_scheduler.HasWork;
                if (_flowTask!.IsCompleted && _fatal is null && _replay.Skip(_replayPosition).FirstOrDefault(e => e.CallId > 0) is { } extra)
                {
                    Fatal($"The flow code finished, but the journal records more: {extra.Kind} of '{extra.Name}' (call {extra.CallId}).");
                }

                if (_fatal is not null || caughtUp || _flowTask.IsCompleted)
                {
                    return new EpisodeResult(EpisodeDisposition.Complete, _message);
                }
            }

            if (_fatal is not null)
            {
                return await FailNonDeterministicAsync(cancellationToken).ConfigureAwait(false);
            }

            if (_flowTask!.IsCompleted)
            {
                return await CompleteFlowAsync(cancellationToken).ConfigureAwait(false);
            }

            if (_replayPosition < _replay.Count)
            {
                using (_scheduler.Own())
                {
                    Apply(_replay[_replayPosition++]);
                }

                continue;
            }

            if (_scheduler.HasWork)
            {
                continue;
            }

            if (FlowDeadlinePassed())
            {
                return await FailTimeoutAsync(cancellationToken).ConfigureAwait(false);
            }

            using (_scheduler.Own())
            {
                DrainOutcomes();
            }

            if (HasPendingWrites)
            {
                // Results become durable before the flow code sees them; inbox items are applied before new work starts.
                await FlushAsync(cancellationToken).ConfigureAwait(false);
                continue;
            }

            using (_scheduler.Own())
            {
                if (!_recoveryResent && _recovery)
                {
                    _recoveryResent = true;
                    ResendAfterRecovery();
                }

                Decide();
            }

            if (HasPendingWrites || _afterCommit.Count > 0 || _taskSends.Count > 0)
            {
                await FlushAsync(cancellationToken).ConfigureAwait(false);
                continue;
            }

            if (_scheduler.HasWork)
            {
                continue;
            }

            if (_inlineInFlight > 0 || !_outcomes.IsEmpty || !HasDurableWaits())
            {
                // Inline work runs, or the code awaits something outside the context: wait for it, heartbeating.
                await WaitForSignalAsync(cancellationToken).ConfigureAwait(false);
                continue;
            }

            var suspended = await TrySuspendAsync(cancellationToken).ConfigureAwait(false);
            if (suspended is not null)
            {
                return suspended;
            }
        }
    }

    private bool HasPendingWrites => _buffer.Count > 0 || _transitions.Count > 0 || _inboxToRemove.Count > 0;

    private bool HasDurableWaits() => _calls.Any(c => !c.IsResolved);

    private async Task WaitForSignalAsync(CancellationToken cancellationToken)
    {
        var heartbeat = _core.Options.EffectiveHeartbeat;
        var untilHeartbeat = _lastCommit + heartbeat - _core.Now;
        if (FlowDeadline() is { } deadline && deadline - _core.Now < untilHeartbeat)
        {
            untilHeartbeat = deadline - _core.Now;
        }

        if (untilHeartbeat > TimeSpan.Zero)
        {
            using var wait = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            var signalled = _signal.WaitAsync(wait.Token);
            var timer = Task.Delay(untilHeartbeat, _core.Time, wait.Token);
            await Task.WhenAny(signalled, timer).ConfigureAwait(false);
            await wait.CancelAsync().ConfigureAwait(false);
            try
            {
                await Task.WhenAll(signalled, timer).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                // the loser of the race
            }
        }

        if (_core.Now - _lastCommit >= heartbeat)
        {
            await HeartbeatAsync(cancellationToken).ConfigureAwait(false);
        }
        else if (_core.Now - _messageRenewedAt >= heartbeat)
        {
            // A busy episode commits (renewing the run lease) too often to need the heartbeat, but its work item must
            // stay hidden as long as the lease: once visible, it would be taken again while this episode runs.
            await RenewMessageAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task HeartbeatAsync(CancellationToken cancellationToken)
    {
        await RenewMessageAsync(cancellationToken).ConfigureAwait(false);
        await FlushAsync(cancellationToken, force: true).ConfigureAwait(false);
    }

    private async Task RenewMessageAsync(CancellationToken cancellationToken)
    {
        _messageRenewedAt = _core.Now;
        if (!_messageLost)
        {
            try
            {
                _message = await _core.Queue.ExtendLeaseAsync(_message, _core.Options.LeaseDuration, cancellationToken).ConfigureAwait(false);
            }
            catch (LeaseLostException)
            {
                // Our work item became visible again (a long pause?). The run lease still fences us; leave a
                // recovery item behind in case this process dies before the episode ends.
                _messageLost = true;
                await _core.EnqueueRunAsync(_run, _core.Options.LeaseDuration, "recover", cancellationToken).ConfigureAwait(false);
            }
        }
    }

    // ---------------------------------------------------------------- recording and committing

    internal void Record(JournalEvent e)
    {
        var index = _run.JournalLength + _buffer.Count + 1;
        _buffer.Add(e with { Index = index });
    }

    internal void AddLog(string level, string message, int callId)
    {
        _logs.Enqueue(new RunLogLine(_core.Now, level, message, callId, _run.Attempt));
    }

    internal void AddArtifact(string key, ArtifactKind kind, string data, string? description, int callId)
    {
        ValidateArtifactKey(key);
        var type = kind switch
        {
            ArtifactKind.Markdown => ArtifactType.Markdown,
            ArtifactKind.Table => ArtifactType.Table,
            _ => ArtifactType.Link,
        };
        _artifacts.Enqueue(new RunArtifact(key, type, data, description, _core.Now, callId));
    }

    private static void ValidateArtifactKey(string key)
    {
        if (string.IsNullOrEmpty(key) || key.Length > 100 || !key.All(c => c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '-'))
        {
            throw new ArgumentException($"The artifact key '{key}' is not valid: use 1-100 lowercase letters, digits and '-'.", nameof(key));
        }
    }

    /// <summary>Commits everything buffered (in chunks the store accepts), then applies the committed events and runs the after-commit actions.</summary>
    private async Task FlushAsync(CancellationToken cancellationToken, bool force = false)
    {
        do
        {
            if (force || HasPendingWrites || !_logs.IsEmpty || !_artifacts.IsEmpty)
            {
                force = false;
                var committed = await CommitAsync(cancellationToken).ConfigureAwait(false);
                using (_scheduler.Own())
                {
                    foreach (var e in committed)
                    {
                        Apply(e);
                    }
                }
            }
        }
        while (HasPendingWrites);

        // Only after the last chunk: a task message sent after an earlier chunk could be taken before its
        // TaskDispatched event is stored, and the worker would drop it as not dispatched. Task messages are
        // independent of each other and go out concurrently (a fan-out's dispatches take a few round trips'
        // time, not one each); the other actions keep their order (a child is started before it is cancelled).
        if (_taskSends.Count > 0)
        {
            var sends = _taskSends.ToArray();
            _taskSends.Clear();
            await Parallel.ForEachAsync(
                sends,
                new ParallelOptions { MaxDegreeOfParallelism = TaskSendConcurrency, CancellationToken = cancellationToken },
                async (send, ct) => await send(ct).ConfigureAwait(false)).ConfigureAwait(false);
        }

        var actions = _afterCommit.ToArray();
        _afterCommit.Clear();
        foreach (var action in actions)
        {
            await action(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>How many task messages one flush sends at once.</summary>
    private const int TaskSendConcurrency = 16;

    /// <summary>One commit: the run record (lease renewed) plus as many buffered items as fit. Handles a version conflict by reloading.</summary>
    private async Task<IReadOnlyList<JournalEvent>> CommitAsync(CancellationToken cancellationToken, FlowRunRecord? final = null)
    {
        while (true)
        {
            var budget = _core.Store.MaxItemsPerCommit;
            var transitions = Take(_transitions, ref budget);
            var removals = Take(_inboxToRemove, ref budget);
            var events = Take(_buffer, ref budget);
            var logs = TakeQueue(_logs, ref budget);
            var artifacts = TakeQueue(_artifacts, ref budget);
            var now = _core.Now;
            var run = (final ?? _run) with
            {
                JournalLength = _run.JournalLength + events.Count,
                LogCount = _run.LogCount + logs.Count,
                HeartbeatAt = now,
            };
            if (final is null)
            {
                run = RunLifecycle.PlanRenew(run, _core.Options.WorkerId, _core.Options.LeaseDuration, now);
            }

            if (transitions.Count > 0)
            {
                run = run with { TransitionCount = transitions[^1].Index, State = transitions[^1].To, StateMessage = transitions[^1].Message, StateTime = transitions[^1].Timestamp };
            }

            try
            {
                var stored = await _core.Store.CommitAsync(new RunCommit
                {
                    ExpectedVersion = _version,
                    Run = run,
                    Events = events,
                    Transitions = transitions,
                    InboxToRemove = removals,
                    Logs = logs,
                    Artifacts = artifacts,
                }, cancellationToken).ConfigureAwait(false);
                _run = stored.Record;
                _version = stored.Version;
                _lastCommit = now;
                return events;
            }
            catch (ConcurrencyException)
            {
                // Put everything back in order, reload, and take in what was delivered meanwhile.
                _transitions.InsertRange(0, transitions);
                _inboxToRemove.InsertRange(0, removals);
                _buffer.InsertRange(0, events);
                foreach (var line in logs)
                {
                    _logs.Enqueue(line);
                }

                foreach (var artifact in artifacts)
                {
                    _artifacts.Enqueue(artifact);
                }

                await ReloadAfterConflictAsync(cancellationToken).ConfigureAwait(false);
                if (final is not null)
                {
                    throw new RetryFinalException();
                }
            }
        }
    }

    private static List<T> Take<T>(List<T> source, ref int budget)
    {
        var n = Math.Min(budget, source.Count);
        var taken = source.GetRange(0, n);
        source.RemoveRange(0, n);
        budget -= n;
        return taken;
    }

    private static List<T> TakeQueue<T>(ConcurrentQueue<T> source, ref int budget)
    {
        var taken = new List<T>();
        while (budget > 0 && source.TryDequeue(out var item))
        {
            taken.Add(item);
            budget--;
        }

        return taken;
    }

    private async Task ReloadAfterConflictAsync(CancellationToken cancellationToken)
    {
        var stored = await _core.Store.GetRunAsync(RunId, cancellationToken).ConfigureAwait(false);
        if (stored is null || stored.Record.LeaseOwner != _core.Options.WorkerId || stored.Record.Attempt != _run.Attempt || stored.Record.JournalLength != _run.JournalLength)
        {
            throw new LeaseLostException($"Run {RunId} was taken over by {stored?.Record.LeaseOwner ?? "nobody (deleted)"}.");
        }

        // Someone delivered to the inbox (or requested cancellation): adopt their changes, keep our lease.
        var theirs = stored.Record;
        _run = theirs with { WakeRequested = false };
        _version = stored.Version;
        var renumbered = _transitions.Select((t, i) => t with { Index = theirs.TransitionCount + i + 1 }).ToList();
        _transitions.Clear();
        _transitions.AddRange(renumbered);
        var inbox = await _core.Store.LoadJournalAsync(theirs with { JournalLength = 0 }, cancellationToken).ConfigureAwait(false);
        ConsumeInbox(inbox.Inbox);
    }

    // ---------------------------------------------------------------- applying recorded events

    private void Apply(JournalEvent e)
    {
        if (e.Timestamp > _flowNow)
        {
            _flowNow = e.Timestamp;
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
            Fatal($"The journal records {Call.KindWord(expectedKind ?? CallKind.Task)} '{e.Name}' as call {e.CallId} ({e.Kind}), but the flow code made only {_calls.Count} calls and is waiting on {DescribeWaits()}.");
            return;
        }

        if (call.Kind != expectedKind || (e.Name is not null && e.Kind != JournalEventKind.TimerFired && e.Name != call.Name))
        {
            Fatal($"At call {e.CallId} the journal records {Call.KindWord(expectedKind ?? call.Kind)} '{e.Name}' but the flow code now asks for {call.Describe()}.");
            return;
        }

        call.ActionPending = false;
        if (call.IsResolved)
        {
            return;
        }

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
        if (_cancelRequested)
        {
            return;
        }

        _cancelRequested = true;
        _runCancellation.Cancel();
        foreach (var call in _calls)
        {
            CancelCall(call);
        }
    }

    private void CancelCall(Call call)
    {
        if (call.IsResolved)
        {
            return;
        }

        call.Completion.TrySetCanceled();
        if (call is SubflowCall { ChildRunId: { } child })
        {
            _afterCommit.Add(ct => CancelChildAsync(child, ct));
        }
    }

    private Task CancelChildAsync(string childRunId, CancellationToken cancellationToken) =>
        _core.Lifecycle.RequestCancelAsync(childRunId, "The parent run was cancelled", cancellationToken);

    private void Fatal(string message)
    {
        _fatal ??= new NonDeterminismException(message);
    }

    private string DescribeWaits()
    {
        var open = _calls.Where(c => !c.IsResolved).Select(c => c.Describe()).ToList();
        return open.Count == 0 ? "nothing from the context" : string.Join(", ", open);
    }

    // ---------------------------------------------------------------- calls from flow code

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
                Fatal($"At call {call.Id} the journal records {Call.KindWord(kind ?? CallKind.Task)} '{recorded.Name}' but the flow code now asks for {call.Describe()}.");
                return call;
            }
        }

        if (_cancelRequested)
        {
            call.Completion.TrySetCanceled();
        }
        else if (call is EventWaitCall wait && _unclaimedEvents.TryGetValue(wait.Name, out var queue) && queue.Count > 0)
        {
            wait.Completion.TrySetResult(queue.Dequeue());
        }

        return call;
    }

    // ---------------------------------------------------------------- live decisions

    private void Decide()
    {
        var now = _core.Now;
        foreach (var call in _calls)
        {
            if (call.IsResolved || call.ActionPending)
            {
                continue;
            }

            switch (call)
            {
                case TaskCall { Distributed: true } t:
                    if (t.DispatchedAttempt == 0 && (t.RetryDueAt is null || t.RetryDueAt <= now))
                    {
                        Dispatch(t);
                    }

                    break;
                case TaskCall t:
                    if (t.InFlightAttempt == 0)
                    {
                        var delay = t.RetryDueAt is { } due ? due - now : TimeSpan.Zero;
                        if (delay <= _core.Options.InlineRetryThreshold)
                        {
                            StartInline(t, t.FailedAttempts + 1, delay);
                        }
                    }

                    break;
                case TimerCall timer:
                    if (timer.DueAt is null)
                    {
                        var delay = timer.Delay < TimeSpan.Zero ? TimeSpan.Zero : timer.Delay;
                        RecordFor(timer, new JournalEvent { Index = 0, Kind = JournalEventKind.TimerCreated, CallId = timer.Id, Name = timer.Name, Timestamp = now, DueAt = _flowNow + delay });
                    }
                    else if (timer.DueAt <= now)
                    {
                        RecordFor(timer, new JournalEvent { Index = 0, Kind = JournalEventKind.TimerFired, CallId = timer.Id, Name = timer.Name, Timestamp = now, DueAt = timer.DueAt });
                    }

                    break;
                case SubflowCall sub:
                    if (sub.ChildRunId is null)
                    {
                        var childId = EngineCore.ChildRunId(RunId, _run.Attempt, sub.Id);
                        RecordFor(sub, new JournalEvent { Index = 0, Kind = JournalEventKind.SubflowStarted, CallId = sub.Id, Name = sub.Name, Timestamp = now, Detail = childId, Payload = sub.InputJson });
                        _afterCommit.Add(ct => StartChildAsync(sub, childId, ct));
                    }

                    break;
                case EventWaitCall wait:
                    if (!wait.Started)
                    {
                        RecordFor(wait, new JournalEvent { Index = 0, Kind = JournalEventKind.EventWaitStarted, CallId = wait.Id, Name = wait.Name, Timestamp = now, DueAt = wait.Timeout is { } timeout ? _flowNow + timeout : null });
                    }
                    else if (wait.DueAt is { } due && due <= now)
                    {
                        RecordFor(wait, new JournalEvent { Index = 0, Kind = JournalEventKind.TimerFired, CallId = wait.Id, Name = wait.Name, Timestamp = now, DueAt = due });
                    }

                    break;
            }
        }
    }

    private void RecordFor(Call call, JournalEvent e)
    {
        call.ActionPending = true;
        Record(e);
    }

    private void Dispatch(TaskCall t)
    {
        var attempt = t.FailedAttempts + 1;
        var index = _run.JournalLength + _buffer.Count + 1;
        RecordFor(t, new JournalEvent
        {
            Index = 0,
            Kind = JournalEventKind.TaskDispatched,
            CallId = t.Id,
            Name = t.Name,
            Attempt = attempt,
            State = RunState.Pending,
            Timestamp = _core.Now,
            Payload = t.InputJson,
            // A key function exists only here, in the parent: the worker gets the key it computed.
            Detail = DistributedTaskOptions.From(t.Options, t.Options.Cache is { KeyFunction: not null } cache ? EngineCore.CacheKeyFor(cache, t.Name, t.InputJson, _run.FlowName, RunId) : null).ToJson(),
        });
        _taskSends.Add(ct => SendTaskAsync(t.Name, t.Id, attempt, index, ct));
    }

    private Task SendTaskAsync(string name, int callId, int attempt, int journalIndex, CancellationToken cancellationToken) =>
        _core.Queue.EnqueueAsync(EngineCore.TaskQueue(_run.Pool), new WorkItem
        {
            Kind = WorkItem.TaskKind,
            RunId = RunId,
            RunAttempt = _run.Attempt,
            CallId = callId,
            JournalIndex = journalIndex,
            Name = name,
            Attempt = attempt,
            Reason = "dispatch",
            TraceParent = FlowTelemetry.CurrentTraceParent(),
        }, TimeSpan.Zero, cancellationToken);

    private void ResendAfterRecovery()
    {
        // The previous episode died: messages it meant to send after its last commit may be missing. Sending again is safe (results are idempotent by inbox id; child creation by run id).
        foreach (var call in _calls)
        {
            if (call.IsResolved)
            {
                continue;
            }

            if (call is TaskCall { Distributed: true, DispatchedAttempt: > 0 } t)
            {
                _taskSends.Add(ct => SendTaskAsync(t.Name, t.Id, t.DispatchedAttempt, t.DispatchIndex, ct));
            }
            else if (call is SubflowCall { ChildRunId: { } child } sub)
            {
                _afterCommit.Add(ct => StartChildAsync(sub, child, ct));
            }
        }

    }

    private async Task StartChildAsync(SubflowCall sub, string childRunId, CancellationToken cancellationToken)
    {
        var tags = new Dictionary<string, string>(_run.Tags, StringComparer.Ordinal);
        foreach (var (k, v) in sub.Options?.Tags ?? new Dictionary<string, string>())
        {
            tags[k] = v;
        }

        var (child, created) = await _core.Lifecycle.CreateAsync(new NewRun
        {
            RunId = childRunId,
            FlowName = sub.Name,
            Pool = _run.Pool,
            Parameters = sub.InputJson,
            Tags = tags,
            ParentRunId = RunId,
            ParentAttempt = _run.Attempt,
            ParentCallId = sub.Id,
            Message = "Started by run " + RunId,
        }, ensureQueue: false, cancellationToken).ConfigureAwait(false);
        if (created)
        {
            return;
        }

        if (!child.State.IsFinal())
        {
            // Started before (this is a replayed start after a crash): its first work item may be lost; another is harmless.
            await _core.EnqueueRunAsync(child, TimeSpan.Zero, "subflow start", cancellationToken).ConfigureAwait(false);
        }
        else
        {
            await _core.NotifyParentAsync(child, cancellationToken).ConfigureAwait(false);
        }
    }

    // ---------------------------------------------------------------- inline tasks

    private void StartInline(TaskCall t, int attempt, TimeSpan delay)
    {
        t.InFlightAttempt = attempt;
        _inlineInFlight++;
        _ = Task.Run(() => RunInlineAttemptAsync(t, attempt, delay));
    }

    private async Task RunInlineAttemptAsync(TaskCall t, int attempt, TimeSpan delay)
    {
        using var span = FlowTelemetry.StartTaskAttempt(RunId, t.Name, t.Id, attempt);
        var started = _core.Now;
        string? cacheKey = null;
        TaskOutcome outcome;
        CancellationTokenSource? timeout = null;
        try
        {
            if (delay > TimeSpan.Zero)
            {
                await Task.Delay(delay, _core.Time, _runCancellation.Token).ConfigureAwait(false);
                started = _core.Now;
            }

            if (t.Options.Cache is { } cache)
            {
                cacheKey = EngineCore.CacheKeyFor(cache, t.Name, t.InputJson, _run.FlowName, RunId);
                if (!cache.Refresh)
                {
                    var entry = await _core.GetValidCacheEntryAsync(cacheKey, _runCancellation.Token).ConfigureAwait(false);
                    if (entry is not null)
                    {
                        _outcomes.Enqueue(new TaskOutcome(t, attempt, started, _core.Now, entry.Value, RunState.Cached, null, cacheKey));
                        FlowTelemetry.TaskAttemptEnded(span, _run.FlowName, t.Name, RunState.Cached, _core.Now - started);
                        return;
                    }
                }
            }

            timeout = t.Options.Timeout is { } limit ? new CancellationTokenSource(limit, _core.Time) : null;
            using var linked = timeout is null
                ? CancellationTokenSource.CreateLinkedTokenSource(_runCancellation.Token)
                : CancellationTokenSource.CreateLinkedTokenSource(_runCancellation.Token, timeout.Token);
            var context = new EpisodeTaskContext(this, t, attempt, linked.Token);
            var body = t.InlineBody!(context);
            var result = t.Options.Timeout is { } max
                ? await body.WaitAsync(max, _core.Time).ConfigureAwait(false)
                : await body.ConfigureAwait(false);
            if (cacheKey is not null)
            {
                await _core.TryPutCacheEntryAsync(cacheKey, result, t.Options.Cache!, t.Name, RunId, _runCancellation.Token).ConfigureAwait(false);
            }

            outcome = new TaskOutcome(t, attempt, started, _core.Now, result, RunState.Completed, null, cacheKey);
        }
        catch (Exception e)
        {
            outcome = new TaskOutcome(t, attempt, started, _core.Now, null, RunState.Failed, EngineCore.AttemptError(e, timeout, t.Name, attempt, t.Options.Timeout), cacheKey);
        }
        finally
        {
            timeout?.Dispose();
        }

        FlowTelemetry.TaskAttemptEnded(span, _run.FlowName, t.Name, outcome.State, outcome.EndedAt - outcome.StartedAt);
        _outcomes.Enqueue(outcome);
        Signal();
    }

    private void DrainOutcomes()
    {
        while (_outcomes.TryDequeue(out var o))
        {
            _inlineInFlight--;
            var t = o.Call;
            if (t.IsResolved || t.InFlightAttempt != o.Attempt)
            {
                continue;
            }

            if (o.Error is null && TooLarge(o.Result) is { } tooLarge)
            {
                o = o with { Error = new PayloadTooLargeException($"The result of task '{t.Name}' is {tooLarge:N0} bytes of JSON; the store keeps at most {_core.Store.MaxPayloadBytes:N0} bytes per value (MaxPayloadBytes)."), State = RunState.Failed, Result = null };
            }

            var recorded = new JournalEvent
            {
                Index = 0,
                Kind = JournalEventKind.TaskCompleted,
                CallId = t.Id,
                Name = t.Name,
                Attempt = o.Attempt,
                State = o.State,
                Timestamp = o.EndedAt,
                StartedAt = o.StartedAt,
            };
            if (o.Error is null)
            {
                RecordFor(t, recorded with { Payload = o.Result, Detail = o.CacheKey });
                continue;
            }

            var failure = FailureInfo.From(o.Error);
            Logs.TaskAttemptFailed(_core.Logger, t.Name, t.Id, RunId, o.Attempt, failure.ToString());
            var cancelled = _cancelRequested || (o.Error is OperationCanceledException && _runCancellation.IsCancellationRequested);
            var retry = !cancelled && o.Error is not PayloadTooLargeException && o.Attempt <= t.Options.Retries && EngineCore.ShouldRetry(t.Options, o.Error);
            RecordFor(t, retry
                ? recorded with { Kind = JournalEventKind.TaskAttemptFailed, State = RunState.AwaitingRetry, Failure = failure, DueAt = o.EndedAt + RetryPolicy.Delay(t.Options.RetryDelay, t.Options.RetryJitterFactor, o.Attempt) }
                : recorded with { Kind = JournalEventKind.TaskFailed, State = cancelled ? RunState.Cancelled : RunState.Failed, Failure = failure });
        }
    }

    private int? TooLarge(string? json)
    {
        if (json is null || json.Length <= _core.Store.MaxPayloadBytes / 3)
        {
            return null;
        }

        var bytes = System.Text.Encoding.UTF8.GetByteCount(json);
        return bytes > _core.Store.MaxPayloadBytes ? bytes : null;
    }

    // ---------------------------------------------------------------- suspension and the end

    private DateTimeOffset? FlowDeadline() => _flowOptions.Timeout is { } timeout && _run.StartedAt is { } started ? started + timeout : null;

    private bool FlowDeadlinePassed() => FlowDeadline() is { } deadline && _core.Now >= deadline;

    private async Task<EpisodeResult?> TrySuspendAsync(CancellationToken cancellationToken)
    {
        var open = _calls.Where(c => !c.IsResolved).ToList();
        DateTimeOffset? wakeAt = null;
        foreach (var call in open)
        {
            DateTimeOffset? due = call switch
            {
                TimerCall timer => timer.DueAt,
                EventWaitCall wait => wait.DueAt,
                TaskCall { Distributed: false } task => task.RetryDueAt,
                _ => null,
            };
            if (due is { } d && (wakeAt is null || d < wakeAt))
            {
                wakeAt = d;
            }
        }

        if (FlowDeadline() is { } deadline && (wakeAt is null || deadline < wakeAt))
        {
            wakeAt = deadline;
        }

        var reason = "Waiting for " + string.Join(", ", open.Take(3).Select(c => c.Describe())) + (open.Count > 3 ? $" and {open.Count - 3} more" : string.Empty);
        var change = RunLifecycle.PlanSuspend(_run, wakeAt, reason, _core.Now);
        _transitions.AddRange(change.Transitions);
        try
        {
            await CommitFinalAsync(change.Run, cancellationToken).ConfigureAwait(false);
        }
        catch (RetryFinalException)
        {
            _transitions.Clear();
            return null; // something arrived: keep going
        }

        if (wakeAt is { } at)
        {
            await _core.EnqueueRunAsync(_run, at - _core.Now, "timer", cancellationToken).ConfigureAwait(false);
        }

        if (_scheduler.ForeignQueues > 0)
        {
            Logs.EscapedAwaits(_core.Logger, RunId, _scheduler.ForeignQueues);
        }

        Logs.EpisodeSuspended(_core.Logger, RunId, reason, wakeAt);
        return new EpisodeResult(EpisodeDisposition.Complete, _message);
    }

    /// <summary>Commits a record that releases the lease, with everything still buffered; throws <see cref="RetryFinalException"/> when a delivery got in first.</summary>
    private async Task CommitFinalAsync(FlowRunRecord next, CancellationToken cancellationToken)
    {
        // Everything but the last chunk goes out under the lease.
        while (_buffer.Count + _transitions.Count + _inboxToRemove.Count + _logs.Count + _artifacts.Count > _core.Store.MaxItemsPerCommit)
        {
            var pendingTransitions = _transitions.ToList();
            _transitions.Clear();
            await FlushAsync(cancellationToken).ConfigureAwait(false);
            _transitions.AddRange(pendingTransitions.Select((t, i) => t with { Index = _run.TransitionCount + i + 1 }));
            next = next with { TransitionCount = _run.TransitionCount + pendingTransitions.Count };
        }

        var final = next with { JournalLength = _run.JournalLength, LogCount = _run.LogCount, CancelRequested = _run.CancelRequested || next.CancelRequested };
        await CommitAsync(cancellationToken, final).ConfigureAwait(false);
    }

    private async Task<EpisodeResult> CompleteFlowAsync(CancellationToken cancellationToken)
    {
        // A flow that returned while the journal records more steps changed its code; one that threw says why itself.
        var remaining = _flowTask!.IsCompletedSuccessfully ? _replay.Skip(_replayPosition).FirstOrDefault(e => e.CallId > 0) : null;
        if (remaining is not null)
        {
            Fatal($"The flow code finished, but the journal records more: {remaining.Kind} of '{remaining.Name}' (call {remaining.CallId}).");
            return await FailNonDeterministicAsync(cancellationToken).ConfigureAwait(false);
        }

        var task = _flowTask!;
        if (_cancelRequested)
        {
            return await EndAsync(RunState.Cancelled, null, null, "Cancelled", cancellationToken).ConfigureAwait(false);
        }

        if (task.IsCompletedSuccessfully)
        {
            string result;
            try
            {
                result = _core.Serialize(task.Result, _flow.OutputType);
                if (TooLarge(result) is { } size)
                {
                    return await EndAsync(RunState.Failed, null, FailureInfo.From(new PayloadTooLargeException($"The flow's result is {size:N0} bytes of JSON; the store keeps at most {_core.Store.MaxPayloadBytes:N0} bytes per value (MaxPayloadBytes).")), "The result is too large", cancellationToken).ConfigureAwait(false);
                }
            }
            catch (Exception e) when (e is JsonException or NotSupportedException)
            {
                return await FailOrRetryAsync(FailureInfo.From(e), "The result cannot be serialized", cancellationToken).ConfigureAwait(false);
            }

            return await EndAsync(RunState.Completed, result, null, "Completed", cancellationToken).ConfigureAwait(false);
        }

        var error = task.Exception?.InnerException ?? new OperationCanceledException("The flow code was cancelled.");
        if (error is NonDeterminismException nd)
        {
            _fatal = nd;
            return await FailNonDeterministicAsync(cancellationToken).ConfigureAwait(false);
        }

        return await FailOrRetryAsync(FailureInfo.From(error), "Failed: " + error.Message, cancellationToken).ConfigureAwait(false);
    }

    private async Task<EpisodeResult> FailNonDeterministicAsync(CancellationToken cancellationToken)
    {
        Logs.NonDeterminism(_core.Logger, RunId, _fatal!.Message);
        return await EndAsync(RunState.Failed, null, FailureInfo.From(_fatal), "Non-determinism: " + _fatal.Message, cancellationToken).ConfigureAwait(false);
    }

    private async Task<EpisodeResult> FailTimeoutAsync(CancellationToken cancellationToken)
    {
        await _runCancellation.CancelAsync().ConfigureAwait(false);
        var failure = FailureInfo.From(new TimeoutException($"Flow '{_run.FlowName}' attempt {_run.Attempt} timed out after {_flowOptions.Timeout}."));
        return await FailOrRetryAsync(failure, failure.Message, cancellationToken).ConfigureAwait(false);
    }

    private async Task<EpisodeResult> FailOrRetryAsync(FailureInfo failure, string message, CancellationToken cancellationToken)
    {
        var delay = RetryPolicy.Delay(_flowOptions.RetryDelay, 0, _run.Attempt);
        var change = RunLifecycle.PlanFailOrRetry(_run, failure, message, _flowOptions.Retries, delay, crashed: false, _core.Now);
        if (change?.RetryAt is not { } due)
        {
            // No retry left (or cancellation requested): the final state goes through FinishAsync, which also runs the hook.
            return await EndAsync(RunState.Failed, null, failure, message, cancellationToken).ConfigureAwait(false);
        }

        _transitions.AddRange(change.Transitions);
        try
        {
            await CommitFinalAsync(change.Run, cancellationToken).ConfigureAwait(false);
        }
        catch (RetryFinalException)
        {
            _transitions.Clear();
            return await FailOrRetryAsync(failure, message, cancellationToken).ConfigureAwait(false);
        }

        await _core.Lifecycle.EnqueueRetryAsync(_run, due, cancellationToken).ConfigureAwait(false);
        return new EpisodeResult(EpisodeDisposition.Complete, _message);
    }

    private async Task<EpisodeResult> EndAsync(RunState state, string? result, FailureInfo? failure, string message, CancellationToken cancellationToken)
    {
        await FinishAsync(state, result, failure, message, cancellationToken).ConfigureAwait(false);
        return new EpisodeResult(EpisodeDisposition.Complete, _message);
    }

    /// <summary>Sets a final state (retrying on deliveries that race with it), notifies a parent, runs the hook.</summary>
    private async Task FinishAsync(RunState state, string? result, FailureInfo? failure, string message, CancellationToken cancellationToken)
    {
        while (true)
        {
            if (RunLifecycle.PlanSettle(_run, state, message, result, failure, _core.Now) is not { } change)
            {
                return; // final already
            }

            _transitions.AddRange(change.Transitions);
            try
            {
                await CommitFinalAsync(change.Run, cancellationToken).ConfigureAwait(false);
                break;
            }
            catch (RetryFinalException)
            {
                _transitions.Clear();
            }
        }

        var duration = (_run.EndedAt ?? _core.Now) - (_run.StartedAt ?? _run.CreatedAt);
        Logs.RunFinished(_core.Logger, RunId, _run.FlowName, _run.Deployment ?? "-", _run.State, duration);
        FlowTelemetry.RunFinished(_run, duration);
        await _core.NotifyParentAsync(_run, cancellationToken).ConfigureAwait(false);
        await RunHookAsync(cancellationToken).ConfigureAwait(false);
    }

    private async Task RunHookAsync(CancellationToken cancellationToken)
    {
        var hook = _run.State switch
        {
            RunState.Completed => _flowOptions.OnCompletion,
            RunState.Failed => _flowOptions.OnFailure,
            RunState.Crashed => _flowOptions.OnCrashed,
            RunState.Cancelled => _flowOptions.OnCancellation,
            _ => null,
        };
        if (hook is null)
        {
            return;
        }

        try
        {
            await hook(new FlowHookContext(RunId, _run.FlowName, _run.State, _run.Result, _run.Failure, Services), cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            Logs.HookFailed(_core.Logger, e, RunId, _run.State);
        }
    }

    private sealed class RetryFinalException : Exception
    {
    }
}
