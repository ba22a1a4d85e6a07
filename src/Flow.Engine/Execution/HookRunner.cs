using System.Diagnostics;
using Flow.Engine.Runs;
using Flow.Engine.Storage;
using Flow.Sdk;

namespace Flow.Engine.Execution;

/// <summary>
/// Runs the state hook a final run owes (<see cref="FlowRunRecord.HookPending"/>) and records it: the hook is invoked with its
/// idempotency key, then one commit clears the flag and writes a run log line with the hook, its outcome and duration
/// (docs/hooks.md). A hook that throws is recorded as failed and counts as done; a process that dies in the hook leaves the flag set,
/// so the run's work item, redelivered, runs it again.
/// </summary>
internal sealed class HookRunner
{
    private readonly EngineCore _core;

    public HookRunner(EngineCore core) => _core = core;

    /// <summary>The hook of <paramref name="state"/> in <paramref name="options"/>, or null.</summary>
    public static FlowHook? For(FlowOptions options, RunState state) => state switch
    {
        RunState.Completed => options.OnCompletion,
        RunState.Failed => options.OnFailure,
        RunState.Crashed => options.OnCrashed,
        RunState.Cancelled => options.OnCancellation,
        _ => null,
    };

    /// <summary>The hook's name as users write it (OnCompletion, …), for logs.</summary>
    public static string Name(RunState state) => state switch
    {
        RunState.Completed => nameof(FlowOptions.OnCompletion),
        RunState.Failed => nameof(FlowOptions.OnFailure),
        RunState.Crashed => nameof(FlowOptions.OnCrashed),
        RunState.Cancelled => nameof(FlowOptions.OnCancellation),
        _ => "none",
    };

    /// <summary>
    /// Runs the pending hook of <paramref name="stored"/> (when <paramref name="options"/> has one for its state) and records it. Does
    /// nothing when no hook is pending. <paramref name="giveUp"/> records the hook as not run instead (its work item was delivered too
    /// often: a hook that kills its process each time must not loop forever).
    /// </summary>
    public async Task RunPendingAsync(StoredRun stored, FlowOptions? options, IServiceProvider services, string? giveUp, CancellationToken cancellationToken)
    {
        var run = stored.Record;
        if (!run.HookPending || !run.State.IsFinal())
        {
            return;
        }

        var name = Name(run.State);
        var key = RunLifecycle.HookKey(run);
        RunLogLine? line = null;
        if (giveUp is not null)
        {
            Logs.HookGivenUp(_core.Logger, run.RunId, name, giveUp);
            line = new RunLogLine(_core.Now, "Error", $"Hook {name} not run again (idempotency key {key}): {giveUp}", 0, run.Attempt);
        }
        else if (options is not null && For(options, run.State) is { } hook)
        {
            var clock = Stopwatch.StartNew();
            string outcome;
            var level = "Information";
            try
            {
                await hook(new FlowHookContext(run.RunId, run.FlowName, run.State, run.Result, run.Failure, services) { IdempotencyKey = key }, cancellationToken).ConfigureAwait(false);
                outcome = "completed";
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                throw; // the host stops: the hook stays pending and runs again on the next delivery
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                Logs.HookFailed(_core.Logger, e, run.RunId, run.State);
                outcome = $"failed ({e.GetType().Name}: {e.Message})";
                level = "Error";
            }

            line = new RunLogLine(_core.Now, level, $"Hook {name} {outcome} in {clock.Elapsed.TotalMilliseconds:0} ms (idempotency key {key})", 0, run.Attempt);
        }

        await _core.Lifecycle.RecordHookAsync(stored, line, cancellationToken).ConfigureAwait(false);
    }
}
