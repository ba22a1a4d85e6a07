using System.Text.Json;
using Flow.Engine.Runs;
using Flow.Engine.Storage;
using Flow.Sdk;

namespace Flow.Engine.Execution;

// Live decisions: what the calls that replay did not resolve need next, and how the flow ends. Still no I/O.
internal sealed partial class ReplayCore
{
    /// <summary>True while a call waits for something only the outside world (a queue, a clock, a delivery) can bring.</summary>
    public bool HasDurableWaits => _calls.Any(c => !c.IsResolved);

    /// <summary>
    /// Decides the next step of every open call: dispatch a distributed task, start an inline attempt (returned, for the driver to
    /// run at once), record a timer or event wait, fire one that is due, start a subflow. Call inside <see cref="FlowScheduler.Own"/>.
    /// </summary>
    /// <param name="now">The current time.</param>
    /// <returns>The inline attempts to start now.</returns>
    public IReadOnlyList<StartInlineCommand> Decide(DateTimeOffset now)
    {
        var inline = new List<StartInlineCommand>();
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
                        Dispatch(t, now);
                    }

                    break;
                case TaskCall t:
                    var retryDelay = t.RetryDueAt is { } retryAt ? retryAt - now : TimeSpan.Zero;
                    if (t.InFlightAttempt == 0 && retryDelay <= Settings.InlineRetryThreshold)
                    {
                        t.InFlightAttempt = t.FailedAttempts + 1;
                        inline.Add(new StartInlineCommand(t, t.InFlightAttempt, retryDelay));
                    }

                    break;
                case TimerCall timer:
                    if (timer.DueAt is null)
                    {
                        var delay = timer.Delay < TimeSpan.Zero ? TimeSpan.Zero : timer.Delay;
                        RecordFor(timer, new JournalEvent { Index = 0, Kind = JournalEventKind.TimerCreated, CallId = timer.Id, Name = timer.Name, Timestamp = now, DueAt = FlowNow + delay });
                    }
                    else if (timer.DueAt <= now)
                    {
                        RecordFor(timer, new JournalEvent { Index = 0, Kind = JournalEventKind.TimerFired, CallId = timer.Id, Name = timer.Name, Timestamp = now, DueAt = timer.DueAt });
                    }

                    break;
                case SubflowCall sub:
                    if (sub.ChildRunId is null)
                    {
                        var childId = EngineCore.ChildRunId(RunId, Run.Attempt, sub.Id);
                        RecordFor(sub, new JournalEvent { Index = 0, Kind = JournalEventKind.SubflowStarted, CallId = sub.Id, Name = sub.Name, Timestamp = now, Detail = childId, Payload = sub.InputJson });
                        Writes.AfterCommit.Add(new StartChildCommand(sub, childId));
                    }

                    break;
                case EventWaitCall wait:
                    if (!wait.Started)
                    {
                        RecordFor(wait, new JournalEvent { Index = 0, Kind = JournalEventKind.EventWaitStarted, CallId = wait.Id, Name = wait.Name, Timestamp = now, DueAt = wait.Timeout is { } timeout ? FlowNow + timeout : null });
                    }
                    else if (wait.DueAt is { } due && due <= now)
                    {
                        RecordFor(wait, new JournalEvent { Index = 0, Kind = JournalEventKind.TimerFired, CallId = wait.Id, Name = wait.Name, Timestamp = now, DueAt = due });
                    }

                    break;
            }
        }

        return inline;
    }

    private void RecordFor(Call call, JournalEvent e)
    {
        call.ActionPending = true;
        Record(e);
    }

    private void Dispatch(TaskCall t, DateTimeOffset now)
    {
        var attempt = t.FailedAttempts + 1;
        var index = Run.JournalLength + Writes.Events.Count + 1;
        RecordFor(t, new JournalEvent
        {
            Index = 0,
            Kind = JournalEventKind.TaskDispatched,
            CallId = t.Id,
            Name = t.Name,
            Attempt = attempt,
            State = RunState.Pending,
            Timestamp = now,
            Payload = t.InputJson,
            // A key function exists only here, in the parent: the worker gets the key it computed.
            Detail = DistributedTaskOptions.From(t.Options, t.Options.Cache is { KeyFunction: not null } cache ? EngineCore.CacheKeyFor(cache, t.Name, t.InputJson, Run.FlowName, RunId) : null).ToJson(),
        });
        Writes.TaskSends.Add(new SendTaskCommand(t.Name, t.Id, attempt, index));
    }

    /// <summary>
    /// After a takeover: the previous episode may have died before sending what its last commit recorded, so send the open
    /// dispatches and child starts again (safe: results are idempotent by inbox id, child creation by run id).
    /// </summary>
    public void ResendAfterRecovery()
    {
        foreach (var call in _calls.Where(c => !c.IsResolved))
        {
            if (call is TaskCall { Distributed: true, DispatchedAttempt: > 0 } t)
            {
                Writes.TaskSends.Add(new SendTaskCommand(t.Name, t.Id, t.DispatchedAttempt, t.DispatchIndex));
            }
            else if (call is SubflowCall { ChildRunId: { } child } sub)
            {
                Writes.AfterCommit.Add(new StartChildCommand(sub, child));
            }
        }
    }

    /// <summary>
    /// Records what an inline attempt produced: its result, or a failed attempt to retry (by the task's policy), or the task's final
    /// failure. Stale outcomes (the call was resolved meanwhile, or another attempt is in flight) are ignored.
    /// </summary>
    /// <param name="o">The outcome.</param>
    public void RecordOutcome(TaskOutcome o)
    {
        var t = o.Call;
        if (t.IsResolved || t.InFlightAttempt != o.Attempt)
        {
            return;
        }

        if (o.Error is null && TooLarge(o.Result) is { } tooLarge)
        {
            o = o with { Error = new PayloadTooLargeException($"The result of task '{t.Name}' is {tooLarge:N0} bytes of JSON; the store keeps at most {Settings.MaxPayloadBytes:N0} bytes per value (MaxPayloadBytes)."), State = RunState.Failed, Result = null };
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
            return;
        }

        var failure = FailureInfo.From(o.Error);
        Logs.TaskAttemptFailed(Settings.EngineLogger, t.Name, t.Id, RunId, o.Attempt, failure.ToString());
        var cancelled = CancelRequested || (o.Error is OperationCanceledException && _runCancellation.IsCancellationRequested);
        var retryAt = cancelled || o.Error is PayloadTooLargeException ? null : TaskAttempt.RetryAt(t.Options, o.Error, o.Attempt, o.EndedAt);
        RecordFor(t, retryAt is { } due
            ? recorded with { Kind = JournalEventKind.TaskAttemptFailed, State = RunState.AwaitingRetry, Failure = failure, DueAt = due }
            : recorded with { Kind = JournalEventKind.TaskFailed, State = cancelled ? RunState.Cancelled : RunState.Failed, Failure = failure });
    }

    private int? TooLarge(string? json)
    {
        if (json is null || json.Length <= Settings.MaxPayloadBytes / 3)
        {
            return null;
        }

        var bytes = System.Text.Encoding.UTF8.GetByteCount(json);
        return bytes > Settings.MaxPayloadBytes ? bytes : null;
    }

    // ---------------------------------------------------------------- suspension and the end

    /// <summary>When the flow's timeout ends the current attempt, or null.</summary>
    public DateTimeOffset? FlowDeadline => FlowOptions.Timeout is { } timeout && Run.StartedAt is { } started ? started + timeout : null;

    /// <summary>
    /// What the suspended run waits for and when it must be looked at again (the earliest timer, retry or deadline). When every open call
    /// is an inline task waiting for its retry delay, the earliest of those retries is returned too: the run then awaits a retry (no
    /// person or event is needed to go on), otherwise it is paused.
    /// </summary>
    /// <returns>The wake-up time (null: only a delivery wakes it), a description for the state history, and the task retry waited for (or null).</returns>
    public (DateTimeOffset? WakeAt, string Reason, TaskRetryWait? Retry) PlanSuspension()
    {
        var open = _calls.Where(c => !c.IsResolved).ToList();
        var retry = open.Count > 0 && open.All(c => c is TaskCall { Distributed: false, RetryDueAt: not null })
            ? open.Cast<TaskCall>().OrderBy(t => t.RetryDueAt).ThenBy(t => t.Id).Select(t => new TaskRetryWait(t.Name, t.Id, t.FailedAttempts + 1, t.RetryDueAt!.Value)).First()
            : null;
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

        if (FlowDeadline is { } deadline && (wakeAt is null || deadline < wakeAt))
        {
            wakeAt = deadline;
        }

        var reason = "Waiting for " + string.Join(", ", open.Take(3).Select(c => c.Describe())) + (open.Count > 3 ? $" and {open.Count - 3} more" : string.Empty);
        return (wakeAt, reason, retry);
    }

    /// <summary>The end of an attempt whose flow timeout passed: the run's code is cancelled and the attempt fails (retryable).</summary>
    public EpisodeEnd TimedOut()
    {
        _runCancellation.Cancel();
        var failure = FailureInfo.From(new TimeoutException($"Flow '{Run.FlowName}' attempt {Run.Attempt} timed out after {FlowOptions.Timeout}."));
        return new EpisodeEnd(RunState.Failed, null, failure, failure.Message, MayRetry: true);
    }

    /// <summary>The end of a non-deterministic replay.</summary>
    public EpisodeEnd NonDeterministic() => new(RunState.Failed, null, FailureInfo.From(_fatal!), "Non-determinism: " + _fatal!.Message);

    /// <summary>Judges the finished flow code: non-determinism, cancellation, its result (or a result too large), or its failure.</summary>
    public EpisodeEnd JudgeCompletion()
    {
        var task = _flowTask!;
        CheckFinishedCode(); // one that threw says why itself
        if (_fatal is not null)
        {
            return NonDeterministic();
        }

        if (CancelRequested)
        {
            return new EpisodeEnd(RunState.Cancelled, null, null, "Cancelled");
        }

        if (task.IsCompletedSuccessfully)
        {
            try
            {
                var result = Serialize(task.Result, Flow.OutputType);
                return TooLarge(result) is { } size
                    ? new EpisodeEnd(RunState.Failed, null, FailureInfo.From(new PayloadTooLargeException($"The flow's result is {size:N0} bytes of JSON; the store keeps at most {Settings.MaxPayloadBytes:N0} bytes per value (MaxPayloadBytes).")), "The result is too large")
                    : new EpisodeEnd(RunState.Completed, result, null, "Completed");
            }
            catch (Exception e) when (e is JsonException or NotSupportedException)
            {
                return new EpisodeEnd(RunState.Failed, null, FailureInfo.From(e), "The result cannot be serialized", MayRetry: true);
            }
        }

        var error = task.Exception?.InnerException ?? new OperationCanceledException("The flow code was cancelled.");
        if (error is NonDeterminismException nd)
        {
            _fatal = nd;
            return NonDeterministic();
        }

        return new EpisodeEnd(RunState.Failed, null, FailureInfo.From(error), "Failed: " + error.Message, MayRetry: true);
    }
}
