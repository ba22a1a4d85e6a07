using System.Collections.Concurrent;
using System.Text.Json;
using Flow.Engine.Diagnostics;
using Flow.Engine.Runs;
using Flow.Engine.Storage;
using Flow.Sdk;
using Microsoft.Extensions.DependencyInjection;

namespace Flow.Engine.Execution;

/// <summary>
/// The I/O driver of one execution attempt of a run, started by a work item (DESIGN.md §4): it reads the run, claims it through
/// <see cref="RunLifecycle"/>, loads the journal, and then pumps the <see cref="ReplayCore"/> (which runs the flow code and
/// decides), commits its decisions through the <see cref="EpisodeCommitter"/>, carries out its commands (task messages, child
/// runs, inline task attempts), heartbeats, and finally suspends the run on durable waits or settles it. Single use.
/// </summary>
internal sealed partial class Episode
{
    /// <summary>How many task messages one flush sends at once.</summary>
    private const int TaskSendConcurrency = 16;

    private readonly EngineCore _core;
    private readonly EpisodeWrites _writes = new();
    private readonly ConcurrentQueue<TaskOutcome> _outcomes = new();
    private readonly SemaphoreSlim _signal = new(0);
    private LeasedWorkItem _message;
    private EpisodeCommitter _committer = null!;
    private ReplayCore? _replay;
    private FlowOptions _flowOptions = FlowOptions.Default;
    private DateTimeOffset _messageRenewedAt;
    private int _inlineInFlight;
    private bool _recovery;
    private bool _recoveryResent;
    private bool _messageLost;
    private IServiceScope? _scope;

    public Episode(EngineCore core, LeasedWorkItem message)
    {
        _core = core;
        _message = message;
        _messageRenewedAt = core.Now;
    }

    public string RunId => _message.Item!.RunId;

    private FlowRunRecord Run => _committer.Run;

    private IServiceProvider Services => _scope?.ServiceProvider ?? _core.Services;

    public async Task<EpisodeResult> RunAsync(CancellationToken cancellationToken)
    {
        try
        {
            var start = await StartAsync(cancellationToken).ConfigureAwait(false);
            if (start is not null)
            {
                return start;
            }

            return await LoopAsync(_replay!, cancellationToken).ConfigureAwait(false);
        }
        catch (LeaseLostException)
        {
            Logs.LeaseLost(_core.Logger, RunId);
            return Done();
        }
        finally
        {
            _replay?.Dispose();
            _scope?.Dispose();
        }
    }

    private EpisodeResult Done() => new(EpisodeDisposition.Complete, _message);

    private void Signal()
    {
        if (_signal.CurrentCount == 0)
        {
            _signal.Release();
        }
    }

    // ---------------------------------------------------------------- start

    /// <summary>Claims the run and starts the flow code; a result when the episode ends before that.</summary>
    private async Task<EpisodeResult?> StartAsync(CancellationToken cancellationToken)
    {
        FlowDefinition flow;
        for (var attempt = 0; ; attempt++)
        {
            var stored = await _core.Store.GetRunAsync(RunId, cancellationToken).ConfigureAwait(false);
            if (stored is null)
            {
                Logs.WorkItemDropped(_core.Logger, RunId, "no such run");
                return Done();
            }

            var run = stored.Record;
            var now = _core.Now;
            if (run.State.IsFinal())
            {
                // A child whose parent notification may have been lost in a crash: notify again (idempotent).
                await _core.NotifyParentAsync(run, cancellationToken).ConfigureAwait(false);
                if (run.HookPending)
                {
                    // The final commit left the hook owed and whoever should have run it died first: run it now (docs/hooks.md).
                    await RunOwedHookAsync(stored, cancellationToken).ConfigureAwait(false);
                    return Done();
                }

                Logs.WorkItemDropped(_core.Logger, RunId, "the run is " + run.State);
                return Done();
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

            if (!_core.Registry.TryGetFlow(run.FlowName, out flow!))
            {
                var registered = string.Join(", ", _core.Registry.Flows.Select(f => f.Name).Order(StringComparer.Ordinal));
                var failure = new FailureInfo("Flow.FlowNotRegistered", $"No flow named '{run.FlowName}' is registered in this application (registered: {registered}).");
                return await EndBeforeStartAsync(stored, new EpisodeEnd(RunState.Failed, null, failure, failure.Message), cancellationToken).ConfigureAwait(false);
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
                    return await EndBeforeStartAsync(stored, new EpisodeEnd(RunState.Cancelled, null, null, decision.Reason ?? "Not admitted"), cancellationToken).ConfigureAwait(false);
                }
            }

            _recovery = run.LeaseOwner is not null;
            var leased = await _core.Lifecycle.TryClaimAsync(stored, _core.Options.WorkerId, _core.Options.LeaseDuration, null, cancellationToken).ConfigureAwait(false);
            if (leased is not null)
            {
                _committer = new EpisodeCommitter(_core.Store, _writes, _core.Options, _core.Time, leased);
                break;
            }

            if (attempt >= 20)
            {
                throw new ConcurrencyException($"Run {RunId} kept changing while this episode tried to claim it.");
            }
        }

        return await LoadAndStartAsync(flow, cancellationToken).ConfigureAwait(false);
    }

    private async Task<EpisodeResult?> LoadAndStartAsync(FlowDefinition flow, CancellationToken cancellationToken)
    {
        RunJournal journal;
        try
        {
            journal = await _core.Store.LoadJournalAsync(Run, cancellationToken).ConfigureAwait(false);
            ValidateJournal(journal.Events, Run.JournalLength);
        }
        catch (Exception e) when (e is JsonException or FormatException or InvalidDataException or ArgumentException or KeyNotFoundException)
        {
            var failure = new FailureInfo("Flow.CorruptJournal", $"The journal of run {RunId} attempt {Run.Attempt} cannot be read: {e.Message}", e.ToString());
            await FinishAsync(new EpisodeEnd(RunState.Failed, null, failure, "Corrupt journal"), cancellationToken).ConfigureAwait(false);
            return Done();
        }

        _scope = _core.Services.GetService<IServiceScopeFactory>()?.CreateScope();
        object? input;
        try
        {
            _flowOptions = flow.GetOptions(Services);
            input = ParameterBinder.Bind(Run.Parameters, flow.InputType, _core.Json);
        }
        catch (FlowParameterException e)
        {
            await FinishAsync(new EpisodeEnd(RunState.Failed, null, new FailureInfo(typeof(FlowParameterException).FullName!, e.Message), "Invalid parameters"), cancellationToken).ConfigureAwait(false);
            return Done();
        }

        var settings = new ReplaySettings(_core.Registry, Services, _core.Logger, _core.RunLogger, _core.Time, _core.Options.InlineRetryThreshold, _core.Store.MaxPayloadBytes);
        var replay = _replay = new ReplayCore(Run, journal.Events, flow, _flowOptions, settings, _writes, Signal);
        _committer.Reloaded = (run, inbox) =>
        {
            replay.Run = run;
            replay.ConsumeInbox(inbox, _core.Now);
        };
        replay.ConsumeInbox(journal.Inbox, _core.Now);
        if (Run.CancelRequested && Run.JournalLength == 0)
        {
            // Cancelled before the flow code did anything: don't start it at all.
            replay.CancelBeforeStart();
            await FinishAsync(new EpisodeEnd(RunState.Cancelled, null, null, "Cancelled before it started"), cancellationToken).ConfigureAwait(false);
            return Done();
        }

        Logs.EpisodeStarted(_core.Logger, RunId, Run.FlowName, _core.Options.WorkerId, replay.JournalCount, _recovery);
        LogAndMeasureStart(replay.JournalCount);
        replay.Start(input, Services);
        return null;
    }

    /// <summary>Settles a run that cannot (or may not) start, without claiming it first.</summary>
    private async Task<EpisodeResult> EndBeforeStartAsync(StoredRun stored, EpisodeEnd end, CancellationToken cancellationToken)
    {
        _committer = new EpisodeCommitter(_core.Store, _writes, _core.Options, _core.Time, stored);
        await FinishAsync(end, cancellationToken).ConfigureAwait(false);
        return Done();
    }

    /// <summary>Operational logs and telemetry of an episode's start: a run (attempt) started, or taken over from a dead worker.</summary>
    private void LogAndMeasureStart(int replayCount)
    {
        var firstOfAttempt = replayCount == 0 && !_recovery;
        if (_recovery)
        {
            Logs.RunTakenOver(_core.Logger, RunId, Run.FlowName, _core.Options.WorkerId, replayCount);
        }
        else if (firstOfAttempt)
        {
            Logs.RunStarted(_core.Logger, RunId, Run.FlowName, Run.Deployment ?? "-", Run.Pool, Run.Attempt);
        }

        FlowTelemetry.EpisodeStarted(Run, firstOfAttempt && Run.Attempt == 1, _recovery, _core.Now);
    }

    private static void ValidateJournal(IReadOnlyList<JournalEvent> events, int journalLength)
    {
        for (var i = 0; i < events.Count; i++)
        {
            if (events[i].Index != i + 1)
            {
                throw new InvalidDataException($"event {i + 1} has index {events[i].Index}: the journal has a gap or is out of order");
            }
        }

        if (events.Count != journalLength)
        {
            throw new InvalidDataException($"the run record says {journalLength} events but {events.Count} were found");
        }
    }

    // ---------------------------------------------------------------- loop

    private async Task<EpisodeResult> LoopAsync(ReplayCore replay, CancellationToken cancellationToken)
    {
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            replay.Scheduler.RunUntilIdle();
            if (replay.Fatal is not null)
            {
                return await EndAsync(replay.NonDeterministic(), cancellationToken).ConfigureAwait(false);
            }

            if (replay.FlowTask!.IsCompleted)
            {
                return await EndAsync(replay.JudgeCompletion(), cancellationToken).ConfigureAwait(false);
            }

            if (replay.ReplayNext() || replay.Scheduler.HasWork)
            {
                continue;
            }

            if (replay.FlowDeadline is { } deadline && _core.Now >= deadline)
            {
                return await EndAsync(replay.TimedOut(), cancellationToken).ConfigureAwait(false);
            }

            DrainOutcomes(replay);
            if (_writes.HasPending)
            {
                // Results become durable before the flow code sees them; inbox items are applied before new work starts.
                await FlushAsync(cancellationToken).ConfigureAwait(false);
                continue;
            }

            using (replay.Scheduler.Own())
            {
                if (!_recoveryResent && _recovery)
                {
                    _recoveryResent = true;
                    replay.ResendAfterRecovery();
                }

                foreach (var start in replay.Decide(_core.Now))
                {
                    StartInline(replay, start);
                }
            }

            if (_writes.HasPending || _writes.AfterCommit.Count > 0 || _writes.TaskSends.Count > 0)
            {
                await FlushAsync(cancellationToken).ConfigureAwait(false);
                continue;
            }

            if (replay.Scheduler.HasWork)
            {
                continue;
            }

            if (_inlineInFlight > 0 || !_outcomes.IsEmpty || !replay.HasDurableWaits)
            {
                // Inline work runs, or the code awaits something outside the context: wait for it, heartbeating.
                await WaitForSignalAsync(replay, cancellationToken).ConfigureAwait(false);
                continue;
            }

            if (await TrySuspendAsync(replay, cancellationToken).ConfigureAwait(false) is { } suspended)
            {
                return suspended;
            }
        }
    }

    private void DrainOutcomes(ReplayCore replay)
    {
        using (replay.Scheduler.Own())
        {
            while (_outcomes.TryDequeue(out var outcome))
            {
                _inlineInFlight--;
                replay.RecordOutcome(outcome);
            }
        }
    }

    private async Task WaitForSignalAsync(ReplayCore replay, CancellationToken cancellationToken)
    {
        var heartbeat = _core.Options.EffectiveHeartbeat;
        var untilHeartbeat = _committer.LastCommit + heartbeat - _core.Now;
        if (replay.FlowDeadline is { } deadline && deadline - _core.Now < untilHeartbeat)
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

        if (_core.Now - _committer.LastCommit >= heartbeat)
        {
            await RenewMessageAsync(cancellationToken).ConfigureAwait(false);
            await FlushAsync(cancellationToken, force: true).ConfigureAwait(false);
        }
        else if (_core.Now - _messageRenewedAt >= heartbeat)
        {
            // A busy episode commits (renewing the run lease) too often to need the heartbeat, but its work item must
            // stay hidden as long as the lease: once visible, it would be taken again while this episode runs.
            await RenewMessageAsync(cancellationToken).ConfigureAwait(false);
        }
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
                await _core.EnqueueRunAsync(Run, _core.Options.LeaseDuration, "recover", cancellationToken).ConfigureAwait(false);
            }
        }
    }

    // ---------------------------------------------------------------- committing and carrying out commands

    /// <summary>Commits everything pending (in chunks the store accepts), applies the committed events, then carries out the commands.</summary>
    private async Task FlushAsync(CancellationToken cancellationToken, bool force = false)
    {
        do
        {
            if (force || _writes.HasPending || !_writes.Logs.IsEmpty || !_writes.Artifacts.IsEmpty)
            {
                force = false;
                var committed = await _committer.CommitAsync(cancellationToken).ConfigureAwait(false);
                if (_replay is { } replay)
                {
                    replay.Run = _committer.Run;
                    using (replay.Scheduler.Own())
                    {
                        foreach (var e in committed)
                        {
                            replay.Apply(e);
                        }
                    }
                }
            }
        }
        while (_writes.HasPending);

        // Only after the last chunk: a task message sent after an earlier chunk could be taken before its
        // TaskDispatched event is stored, and the worker would drop it as not dispatched. Task messages are
        // independent of each other and go out concurrently (a fan-out's dispatches take a few round trips'
        // time, not one each); the other actions keep their order (a child is started before it is cancelled).
        if (_writes.TaskSends.Count > 0)
        {
            var sends = _writes.TaskSends.ToArray();
            _writes.TaskSends.Clear();
            await Parallel.ForEachAsync(
                sends,
                new ParallelOptions { MaxDegreeOfParallelism = TaskSendConcurrency, CancellationToken = cancellationToken },
                async (send, ct) => await SendTaskAsync(send, ct).ConfigureAwait(false)).ConfigureAwait(false);
        }

        var actions = _writes.AfterCommit.ToArray();
        _writes.AfterCommit.Clear();
        foreach (var action in actions)
        {
            await (action switch
            {
                StartChildCommand start => StartChildAsync(start, cancellationToken),
                CancelChildCommand cancel => _core.Lifecycle.RequestCancelAsync(cancel.ChildRunId, "The parent run was cancelled", cancellationToken),
                _ => Task.CompletedTask,
            }).ConfigureAwait(false);
        }
    }

    private Task SendTaskAsync(SendTaskCommand send, CancellationToken cancellationToken) =>
        _core.Queue.EnqueueAsync(EngineCore.TaskQueue(Run.Pool), new WorkItem
        {
            Kind = WorkItem.TaskKind,
            RunId = RunId,
            RunAttempt = Run.Attempt,
            CallId = send.CallId,
            JournalIndex = send.JournalIndex,
            Name = send.Name,
            Attempt = send.Attempt,
            Reason = "dispatch",
            TraceParent = FlowTelemetry.CurrentTraceParent(),
        }, TimeSpan.Zero, cancellationToken);

    private async Task StartChildAsync(StartChildCommand start, CancellationToken cancellationToken)
    {
        var sub = start.Call;
        var tags = new Dictionary<string, string>(Run.Tags, StringComparer.Ordinal);
        foreach (var (k, v) in sub.Options?.Tags ?? new Dictionary<string, string>())
        {
            tags[k] = v;
        }

        var (child, created) = await _core.Lifecycle.CreateAsync(new NewRun
        {
            RunId = start.ChildRunId,
            FlowName = sub.Name,
            Pool = Run.Pool,
            Parameters = sub.InputJson,
            Tags = tags,
            ParentRunId = RunId,
            ParentAttempt = Run.Attempt,
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

    // ---------------------------------------------------------------- inline task attempts

    private void StartInline(ReplayCore replay, StartInlineCommand start)
    {
        _inlineInFlight++;
        _ = Task.Run(() => RunInlineAttemptAsync(replay, start));
    }

    private async Task RunInlineAttemptAsync(ReplayCore replay, StartInlineCommand start)
    {
        var (t, attempt, delay) = (start.Call, start.Attempt, start.Delay);
        using var span = FlowTelemetry.StartTaskAttempt(RunId, t.Name, t.Id, attempt);
        TaskOutcome outcome;
        try
        {
            if (delay > TimeSpan.Zero)
            {
                await Task.Delay(delay, _core.Time, replay.RunCancellation).ConfigureAwait(false);
            }

            var cacheKey = t.Options.Cache is { } cache ? EngineCore.CacheKeyFor(cache, t.Name, t.InputJson, Run.FlowName, RunId) : null;
            var services = Services;
            var result = await TaskAttempt.RunAsync(_core, Run.FlowName, RunId, t.Name, attempt, t.Options, cacheKey, ct => t.InlineBody!(new EpisodeTaskContext(replay, services, t, attempt, ct)), replay.RunCancellation, propagateCancellation: false).ConfigureAwait(false);
            outcome = new TaskOutcome(t, attempt, result.StartedAt, result.EndedAt, result.Result, result.State, result.Error, result.CacheKey);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // The retry delay was cancelled (the run was), or the cache key function threw.
            outcome = new TaskOutcome(t, attempt, _core.Now, _core.Now, null, RunState.Failed, e, null);
        }

        _outcomes.Enqueue(outcome);
        Signal();
    }
}
