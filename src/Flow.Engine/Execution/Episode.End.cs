using Flow.Engine.Diagnostics;
using Flow.Engine.Runs;
using Flow.Sdk;

namespace Flow.Engine.Execution;

// How an episode ends: suspended on durable waits, retrying, or final (with the parent notified and the hook run). Every state
// change here is planned by RunLifecycle and committed by the EpisodeCommitter with what is still pending.
internal sealed partial class Episode
{
    private async Task<EpisodeResult?> TrySuspendAsync(ReplayCore replay, CancellationToken cancellationToken)
    {
        var (wakeAt, reason, retry) = replay.PlanSuspension();
        var change = RunLifecycle.PlanSuspend(Run, wakeAt, reason, _core.Now, retry);
        _writes.Transitions.AddRange(change.Transitions);
        try
        {
            await _committer.CommitFinalAsync(change.Run, ct => FlushAsync(ct), cancellationToken).ConfigureAwait(false);
        }
        catch (EpisodeCommitter.DeliveryRaceException)
        {
            _writes.Transitions.Clear();
            return null; // something arrived: keep going
        }

        if (wakeAt is { } at)
        {
            await _core.EnqueueRunAsync(Run, at - _core.Now, "timer", cancellationToken).ConfigureAwait(false);
        }

        if (replay.Scheduler.ForeignQueues > 0)
        {
            Logs.EscapedAwaits(_core.Logger, RunId, replay.Scheduler.ForeignQueues);
        }

        Logs.EpisodeSuspended(_core.Logger, RunId, reason, wakeAt);
        return Done();
    }

    /// <summary>Ends the attempt as the replay core judged it: a retry when the flow's policy allows one, otherwise the final state.</summary>
    private async Task<EpisodeResult> EndAsync(EpisodeEnd end, CancellationToken cancellationToken)
    {
        if (_replay?.Fatal is { } fatal)
        {
            Logs.NonDeterminism(_core.Logger, RunId, fatal.Message);
        }

        while (end.MayRetry)
        {
            var delay = RetryPolicy.Delay(_flowOptions.RetryDelay, 0, Run.Attempt);
            var change = RunLifecycle.PlanFailOrRetry(Run, end.Failure!, end.Message, _flowOptions.Retries, delay, crashed: false, _core.Now);
            if (change?.RetryAt is not { } due)
            {
                break; // no retry left (or cancellation requested): the final state below, which also runs the hook
            }

            _writes.Transitions.AddRange(change.Transitions);
            try
            {
                await _committer.CommitFinalAsync(change.Run, ct => FlushAsync(ct), cancellationToken).ConfigureAwait(false);
            }
            catch (EpisodeCommitter.DeliveryRaceException)
            {
                _writes.Transitions.Clear();
                continue;
            }

            await _core.Lifecycle.EnqueueRetryAsync(Run, due, cancellationToken).ConfigureAwait(false);
            return Done();
        }

        await FinishAsync(end, cancellationToken).ConfigureAwait(false);
        return Done();
    }

    /// <summary>Sets a final state (deciding again on deliveries that race with it), notifies a parent, runs the hook.</summary>
    private async Task FinishAsync(EpisodeEnd end, CancellationToken cancellationToken)
    {
        while (true)
        {
            if (RunLifecycle.PlanSettle(Run, end.State, end.Message, end.Result, end.Failure, _core.Now) is not { } change)
            {
                return; // final already
            }

            _writes.Transitions.AddRange(change.Transitions);
            try
            {
                await _committer.CommitFinalAsync(change.Run, ct => FlushAsync(ct), cancellationToken).ConfigureAwait(false);
                break;
            }
            catch (EpisodeCommitter.DeliveryRaceException)
            {
                _writes.Transitions.Clear();
            }
        }

        var duration = (Run.EndedAt ?? _core.Now) - (Run.StartedAt ?? Run.CreatedAt);
        Logs.RunFinished(_core.Logger, RunId, Run.FlowName, Run.Deployment ?? "-", Run.State, duration);
        FlowTelemetry.RunFinished(Run, duration);
        await _core.NotifyParentAsync(Run, cancellationToken).ConfigureAwait(false);
        await RunHookAsync(cancellationToken).ConfigureAwait(false);
    }

    private async Task RunHookAsync(CancellationToken cancellationToken)
    {
        var hook = Run.State switch
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
            await hook(new FlowHookContext(RunId, Run.FlowName, Run.State, Run.Result, Run.Failure, Services), cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            Logs.HookFailed(_core.Logger, e, RunId, Run.State);
        }
    }
}
