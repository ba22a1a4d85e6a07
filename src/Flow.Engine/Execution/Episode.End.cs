using Flow.Engine.Diagnostics;
using Flow.Engine.Runs;
using Flow.Engine.Storage;
using Flow.Sdk;
using Microsoft.Extensions.DependencyInjection;

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

            // The hook is owed in the final commit itself (the outbox), unless the flow has none for this state.
            var final = change.Run with { HookPending = HookRunner.For(_flowOptions, change.Run.State) is not null };
            _writes.Transitions.AddRange(change.Transitions);
            try
            {
                await _committer.CommitFinalAsync(final, ct => FlushAsync(ct), cancellationToken).ConfigureAwait(false);
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

    /// <summary>Runs the hook the final commit left owed and records it; this episode's work item is completed only afterwards.</summary>
    private Task RunHookAsync(CancellationToken cancellationToken) =>
        new HookRunner(_core).RunPendingAsync(new StoredRun(Run, _committer.Version), _flowOptions, Services, giveUp: null, cancellationToken);

    /// <summary>
    /// For a work item of a final run whose hook is still owed (its runner died after the final commit, or the run was marked Crashed):
    /// resolves the flow's options and runs the hook — unless the item came back so often that the hook evidently kills its process.
    /// </summary>
    private async Task RunOwedHookAsync(StoredRun stored, CancellationToken cancellationToken)
    {
        string? giveUp = null;
        FlowOptions? options = null;
        if (_message.DequeueCount > _core.Options.MaxDequeueCount)
        {
            giveUp = $"its work item was delivered {_message.DequeueCount} times (limit {_core.Options.MaxDequeueCount}); the process running it keeps dying.";
        }
        else if (_core.Registry.TryGetFlow(stored.Record.FlowName, out var flow))
        {
            _scope = _core.Services.GetService<IServiceScopeFactory>()?.CreateScope();
            options = flow.GetOptions(Services);
        }
        else
        {
            giveUp = $"no flow named '{stored.Record.FlowName}' is registered in this application.";
        }

        await new HookRunner(_core).RunPendingAsync(stored, options, Services, giveUp, cancellationToken).ConfigureAwait(false);
    }
}
