using System.ComponentModel;
using Flow.ControlPlane;
using Flow.Engine.Runs;
using Flow.Engine.Storage;
using Flow.Sdk;
using Microsoft.Extensions.Logging;

namespace Flow.Process;

// The state hook a finished process run still owes (docs/hooks.md). The flow code, and so the hook, lives in the subprocess: when the
// run ended without its hook having run — the worker marked it Crashed after its process died (OnCrashed), or the process died after
// its final commit — the worker starts the same command, with the same clean environment, again in hook-only mode (FLOW_HOOK=1 and a
// hook token that cannot change the run), and keeps the run's work item until the hook is recorded.
public sealed partial class ProcessRunExecutor
{
    /// <summary>The longest a hook-only subprocess may run when the deployment sets no timeout.</summary>
    private static readonly TimeSpan DefaultHookTimeout = TimeSpan.FromMinutes(5);

    /// <summary>After the worker settled a run: its owed hook when the run is final and owes one, else done.</summary>
    private async Task<TimeSpan?> AfterSettledAsync(LeasedWorkItem item, string runId, CancellationToken cancellationToken)
    {
        var stored = await _store.GetRunAsync(runId, cancellationToken).ConfigureAwait(false);
        return stored is not null && stored.Record.HookPending && stored.Record.State.IsFinal()
            ? await RunOwedHookAsync(item, stored, cancellationToken).ConfigureAwait(false)
            : null;
    }

    /// <summary>Runs the owed hook of a finished run in a hook-only subprocess; a delay when the item must come back (it did not get recorded).</summary>
    private async Task<TimeSpan?> RunOwedHookAsync(LeasedWorkItem item, StoredRun stored, CancellationToken cancellationToken)
    {
        var run = stored.Record;
        if (!IsSdk(run))
        {
            // A plain command has no hooks (only a Flow.Sdk process declares them): nothing is owed.
            await _lifecycle.RecordHookAsync(stored, null, cancellationToken).ConfigureAwait(false);
            return null;
        }

        var deployment = run.Deployment is { } name ? (await _control.GetDeploymentAsync(name, cancellationToken).ConfigureAwait(false))?.Record : null;
        string? notRun = item.DequeueCount > _engine.MaxDequeueCount
            ? $"its work item was delivered {item.DequeueCount} times (limit {_engine.MaxDequeueCount}); the hook's process keeps dying."
            : deployment is not { Entrypoint: { Kind: DeploymentEntrypoint.ProcessKind, Command.Count: > 0 } } ? $"deployment '{run.Deployment}' does not run a process (any more)." : null;
        var (executable, environment, refusal) = notRun is null ? await ResolveCommandAsync(run, deployment!, cancellationToken).ConfigureAwait(false) : default;
        if ((notRun ?? refusal) is { } why)
        {
            LogHookNotRun(_logger, run.RunId, why);
            var line = new RunLogLine(Now, "Error", $"Hook of the {run.State} state not run (idempotency key {RunLifecycle.HookKey(run)}): {why}", 0, run.Attempt);
            await _lifecycle.RecordHookAsync(stored, line, cancellationToken).ConfigureAwait(false);
            return null;
        }

        var token = await _tokens.IssueHookAsync(run.RunId, _options.TokenLifetime, cancellationToken).ConfigureAwait(false);
        AddFlowVariables(environment!, run, deployment!, token);
        environment!["FLOW_HOOK"] = "1";
        var output = new OutputCapture(_time, _options.MaxLineLength, _options.MaxOutputPerAttempt, run.Attempt);
        var entry = deployment!.Entrypoint;
        try
        {
            using var process = await ProcessTree.StartAsync(executable!, entry.Command!.Skip(1), entry.WorkingDirectory, environment, cancellationToken).ConfigureAwait(false);
            LogHookStarted(_logger, run.RunId, process.Id, run.State);
            output.AddWorkerLine("Information", $"Started process {process.Id} on {WorkerId} for the owed hook of the {run.State} state (hook-only mode)");
            var shutdown = await SuperviseHookAsync(run.RunId, item, process, output, entry.TimeoutSeconds is { } s ? TimeSpan.FromSeconds(s) : DefaultHookTimeout, cancellationToken).ConfigureAwait(false);
            if (shutdown)
            {
                return TimeSpan.Zero;
            }
        }
        catch (Exception e) when (e is Win32Exception or InvalidOperationException or IOException)
        {
            output.AddWorkerLine("Error", $"The hook's process could not be started: {e.Message}");
        }

        await CommitOutputAsync(run.RunId, output, cancellationToken).ConfigureAwait(false);
        var after = await _store.GetRunAsync(run.RunId, cancellationToken).ConfigureAwait(false);

        // Not recorded: the process died in the hook (or before it). The item comes back and the hook runs again, up to the limit.
        return after?.Record.HookPending == true ? TimeSpan.FromSeconds(Math.Min(30, Math.Pow(2, item.DequeueCount))) : null;
    }

    /// <summary>Waits for the hook's process, renewing the work item; kills its tree at the timeout or at shutdown (true).</summary>
    private async Task<bool> SuperviseHookAsync(string runId, LeasedWorkItem item, System.Diagnostics.Process process, OutputCapture output, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var pid = process.Id;
        var pumps = Task.WhenAll(
            Task.Run(() => output.PumpAsync(process.StandardOutput, "Information"), CancellationToken.None),
            Task.Run(() => output.PumpAsync(process.StandardError, "Error"), CancellationToken.None));
        var exited = process.WaitForExitAsync(CancellationToken.None);
        var deadline = Now + timeout;
        var shutdown = false;
        while (!exited.IsCompleted)
        {
            await Task.WhenAny(exited, Task.Delay(Heartbeat, CancellationToken.None)).ConfigureAwait(false);
            if (exited.IsCompleted)
            {
                break;
            }

            shutdown = cancellationToken.IsCancellationRequested;
            if (shutdown || Now >= deadline)
            {
                output.AddWorkerLine("Error", shutdown ? $"Worker {WorkerId} is shutting down: the hook's process was stopped." : $"The hook's process ran longer than {timeout.TotalSeconds:0} s and was killed.");
                break;
            }

            try
            {
                item = await _queue.ExtendLeaseAsync(item, _engine.LeaseDuration, cancellationToken).ConfigureAwait(false);
            }
            catch (LeaseLostException)
            {
                // the item shows up again; whoever takes it finds the hook recorded, or runs it again (at least once)
            }
        }

        ProcessTree.Signal(pid, ProcessTree.Descendants(pid), kill: true);
        await exited.WaitAsync(TimeSpan.FromSeconds(30), CancellationToken.None).ConfigureAwait(false);
        await pumps.WaitAsync(TimeSpan.FromSeconds(5), CancellationToken.None).ContinueWith(_ => { }, CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default).ConfigureAwait(false);
        output.Finish();
        LogExited(_logger, runId, pid, process.HasExited ? process.ExitCode : -1);
        return shutdown;
    }

    /// <summary>Writes the hook process's output into the run's logs: log-only commits on the finished run.</summary>
    private async Task CommitOutputAsync(string runId, OutputCapture output, CancellationToken cancellationToken)
    {
        for (var attempt = 0; output.Pending > 0 && attempt < 20; attempt++)
        {
            if (await _store.GetRunAsync(runId, cancellationToken).ConfigureAwait(false) is not { } stored)
            {
                return;
            }

            var lines = output.Take(_store.MaxItemsPerCommit);
            try
            {
                await _store.CommitAsync(new RunCommit { ExpectedVersion = stored.Version, Run = stored.Record with { LogCount = stored.Record.LogCount + lines.Count }, Logs = lines }, cancellationToken).ConfigureAwait(false);
            }
            catch (ConcurrencyException)
            {
                output.Return(lines);
            }
        }
    }

    [LoggerMessage(806, LogLevel.Information, "Run {RunId}: process {Pid} started for the owed hook of the {State} state")]
    private static partial void LogHookStarted(ILogger logger, string runId, int pid, RunState state);

    [LoggerMessage(807, LogLevel.Warning, "Run {RunId}: the owed hook is not run: {Reason}")]
    private static partial void LogHookNotRun(ILogger logger, string runId, string reason);
}
