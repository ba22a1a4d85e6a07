using System.ComponentModel;
using Flow.Engine;
using Flow.ControlPlane;
using Flow.Engine.Runs;
using Flow.Engine.Storage;
using Flow.Sdk;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Flow.Process;

/// <summary>
/// Runs one work item of a process pool's run queue: claims the run (a version-checked write of its lease, Pending → Running),
/// starts the deployment's command as a subprocess with <c>FLOW_RUN_ID</c>, <c>FLOW_API_URL</c> and a run-scoped
/// <c>FLOW_RUN_TOKEN</c> in an environment built from nothing (<see cref="SubprocessEnvironment"/>: no worker credential ever
/// reaches it), provided the command resolves to an executable the worker allows (<see cref="ExecutableAllowList"/>), streams its output into the run's logs, renews the lease and the work item while it runs, enforces
/// the timeout and cancellation by stopping the whole process tree (SIGTERM, grace period, SIGKILL), and judges the exit code.
/// Used by <see cref="ProcessWorker"/> (standalone, the CLI) and by the Functions app's queue trigger of a process pool.
/// </summary>
public sealed partial class ProcessRunExecutor
{
    /// <summary>The run tag a Flow.Sdk process (<see cref="FlowProcess"/>) sets on its run: the run resumes from its journal after a crash.</summary>
    public const string SdkTag = "flow.process";

    /// <summary>The value of <see cref="SdkTag"/>.</summary>
    public const string SdkTagValue = "sdk";

    private const int DefaultRetryDelaySeconds = 10;
    private readonly IFlowStore _store;
    private readonly IWorkQueue _queue;
    private readonly IControlStore _control;
    private readonly IRunAdmission? _admission;
    private readonly RunTokens _tokens;
    private readonly FlowEngineOptions _engine;
    private readonly ProcessWorkerOptions _options;
    private readonly ExecutableAllowList _allowList;
    private readonly IConfiguration? _configuration;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly RunLifecycle _lifecycle;

    /// <summary>Creates the executor.</summary>
    /// <param name="store">The run store.</param>
    /// <param name="queue">The work queue.</param>
    /// <param name="control">The control-plane store (deployments, pools, the token key).</param>
    /// <param name="admission">Pool and deployment concurrency limits, or null for none.</param>
    /// <param name="tokens">Run tokens.</param>
    /// <param name="engineOptions">Lease duration, worker id, dequeue limit.</param>
    /// <param name="options">The process worker options.</param>
    /// <param name="configuration">Where <c>secret:NAME</c> environment values are looked up (<c>Flow:Secrets:NAME</c>), or null.</param>
    /// <param name="timeProvider">The clock.</param>
    /// <param name="logger">The logger.</param>
    /// <exception cref="ArgumentException">An entry of <see cref="ProcessWorkerOptions.AllowedExecutables"/> is not an executable file here.</exception>
    public ProcessRunExecutor(IFlowStore store, IWorkQueue queue, IControlStore control, IRunAdmission? admission, RunTokens tokens, IOptions<FlowEngineOptions> engineOptions, IOptions<ProcessWorkerOptions> options, IConfiguration? configuration = null, TimeProvider? timeProvider = null, ILogger<ProcessRunExecutor>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(queue);
        ArgumentNullException.ThrowIfNull(control);
        ArgumentNullException.ThrowIfNull(tokens);
        ArgumentNullException.ThrowIfNull(engineOptions);
        ArgumentNullException.ThrowIfNull(options);
        _store = store;
        _queue = queue;
        _control = control;
        _admission = admission;
        _tokens = tokens;
        _engine = engineOptions.Value;
        _options = options.Value;
        _allowList = new ExecutableAllowList(_options.AllowedExecutables, _options.AllowAnyExecutable);
        _configuration = configuration;
        _time = timeProvider ?? TimeProvider.System;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        _lifecycle = new RunLifecycle(store, queue, _time, _logger);
    }

    /// <summary>The executables this worker may start.</summary>
    public ExecutableAllowList AllowList => _allowList;

    /// <summary>This worker's lease owner id.</summary>
    public string WorkerId => _engine.WorkerId;

    private DateTimeOffset Now => StorageContract.NormalizeTime(_time.GetUtcNow());

    private TimeSpan Heartbeat => _engine.HeartbeatInterval ?? TimeSpan.FromTicks(Math.Min(_engine.LeaseDuration.Ticks / 3, TimeSpan.FromSeconds(5).Ticks));

    /// <summary>Processes one work item and settles it (completes, gives back with a delay, or dead-letters it).</summary>
    /// <param name="item">The item, taken from <c>runs-{pool}</c> of a process pool.</param>
    /// <param name="cancellationToken">Worker shutdown: the process is stopped and the run left for another worker.</param>
    /// <returns>A task.</returns>
    public async Task ProcessAsync(LeasedWorkItem item, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(item);
        if (item.Item is not { Kind: WorkItem.RunKind } work)
        {
            await _queue.DeadLetterAsync(item, "Process pools carry run items only (expected JSON with kind \"run\" and runId).", cancellationToken).ConfigureAwait(false);
            return;
        }

        var delay = await HandleAsync(item, work.RunId, cancellationToken).ConfigureAwait(false);
        if (delay is { } d)
        {
            await _queue.AbandonAsync(item, d < TimeSpan.Zero ? TimeSpan.Zero : d > TimeSpan.FromDays(6.9) ? TimeSpan.FromDays(6.9) : d, cancellationToken).ConfigureAwait(false);
        }
        else
        {
            await _queue.CompleteAsync(item, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Does the work; returns a delay when the item must come back later, null when it is done.</summary>
    private async Task<TimeSpan?> HandleAsync(LeasedWorkItem item, string runId, CancellationToken cancellationToken)
    {
        for (var attempt = 0; attempt < 50; attempt++)
        {
            var stored = await _store.GetRunAsync(runId, cancellationToken).ConfigureAwait(false);
            if (stored is null || stored.Record.State.IsFinal())
            {
                // A finished run's item is kept while its hook is owed (docs/hooks.md): whoever receives it runs the hook.
                return stored is { Record.HookPending: true } ? await RunOwedHookAsync(item, stored, cancellationToken).ConfigureAwait(false) : null;
            }

            var run = stored.Record;
            var now = Now;
            if (run.IsLeased(now))
            {
                return run.LeaseUntil!.Value - now;
            }

            if (RunLifecycle.NotBefore(run, now) is var notBefore && notBefore > now)
            {
                return notBefore - now;
            }

            var deployment = run.Deployment is { } name ? (await _control.GetDeploymentAsync(name, cancellationToken).ConfigureAwait(false))?.Record : null;
            if (run.CancelRequested)
            {
                if (await TrySettleAsync(stored, RunState.Cancelled, run.StartedAt is null ? "Cancelled before it started" : "Cancelled", null, cancellationToken).ConfigureAwait(false))
                {
                    return await AfterSettledAsync(item, runId, cancellationToken).ConfigureAwait(false);
                }

                continue;
            }

            if (deployment is not { Entrypoint.Kind: DeploymentEntrypoint.ProcessKind } || deployment.Entrypoint.Command is not { Count: > 0 })
            {
                var why = deployment is null ? $"Deployment '{run.Deployment}' does not exist (any more); a process worker runs only the commands of registered process deployments." : $"Deployment '{deployment.Name}' does not run a process.";
                if (await TrySettleAsync(stored, RunState.Failed, why, new FailureInfo("Flow.ProcessDeploymentMissing", why), cancellationToken).ConfigureAwait(false))
                {
                    return await AfterSettledAsync(item, runId, cancellationToken).ConfigureAwait(false);
                }

                continue;
            }

            var recovering = run.State is RunState.Running or RunState.Cancelling && run.LeaseOwner is not null;
            if (recovering && !IsSdk(run))
            {
                if (await CrashAsync(stored, deployment, $"The worker running attempt {run.Attempt} ({run.LeaseOwner}) stopped renewing its lease (it died or lost the storage); the process's outcome is unknown.", cancellationToken).ConfigureAwait(false))
                {
                    return await AfterSettledAsync(item, runId, cancellationToken).ConfigureAwait(false);
                }

                continue;
            }

            if (run.State is RunState.Scheduled or RunState.Pending && _admission is not null)
            {
                var decision = await _admission.AdmitAsync(run, cancellationToken).ConfigureAwait(false);
                if (decision.Kind == AdmissionKind.Defer)
                {
                    LogDeferred(_logger, runId, decision.Reason ?? "deferred");
                    return decision.RetryAfter;
                }

                if (decision.Kind == AdmissionKind.Reject)
                {
                    if (await TrySettleAsync(stored, RunState.Cancelled, decision.Reason ?? "Not admitted", null, cancellationToken).ConfigureAwait(false))
                    {
                        return await AfterSettledAsync(item, runId, cancellationToken).ConfigureAwait(false);
                    }

                    continue;
                }
            }

            // What to start: refuse for good (Failed, no retry) what can never start.
            var (executable, environment, refusal) = await ResolveCommandAsync(run, deployment, cancellationToken).ConfigureAwait(false);
            if (refusal is not null)
            {
                if (await TrySettleAsync(stored, RunState.Failed, refusal, new FailureInfo("Flow.ProcessNotStartable", refusal), cancellationToken).ConfigureAwait(false))
                {
                    return await AfterSettledAsync(item, runId, cancellationToken).ConfigureAwait(false);
                }

                continue;
            }

            var claimed = await TryClaimAsync(stored, recovering, cancellationToken).ConfigureAwait(false);
            if (claimed is null)
            {
                continue;
            }

            return await RunAttemptAsync(item, claimed, deployment, executable!, environment!, cancellationToken).ConfigureAwait(false)
                ?? await AfterSettledAsync(item, runId, CancellationToken.None).ConfigureAwait(false);
        }

        return TimeSpan.FromSeconds(1);
    }

    private static bool IsSdk(FlowRunRecord run) => run.Tags.TryGetValue(SdkTag, out var v) && v == SdkTagValue;

    private Task<StoredRun?> TryClaimAsync(StoredRun stored, bool recovering, CancellationToken cancellationToken)
    {
        var run = stored.Record;
        RunLogLine[]? note = recovering
            ? [new RunLogLine(Now, "Warning", $"Worker {WorkerId} takes over after {run.LeaseOwner}'s lease expired; the flow resumes from its journal.", 0, run.Attempt)]
            : null;
        return _lifecycle.TryClaimAsync(stored, WorkerId, _engine.LeaseDuration, note, cancellationToken);
    }

    // ------------------------------------------------------------------ one attempt

    private sealed class Attempt
    {
        public required LeasedWorkItem Message;
        public required StoredRun Stored;
        public required OutputCapture Output;
        public List<RunLogLine> Unsent = [];
        public DateTimeOffset LastCommit;
        public DateTimeOffset LastCheck;
        public DateTimeOffset MessageRenewed;
        public bool Lost;
    }

    private async Task<TimeSpan?> RunAttemptAsync(LeasedWorkItem item, StoredRun claimed, DeploymentRecord deployment, string executable, Dictionary<string, string> environment, CancellationToken cancellationToken)
    {
        var run = claimed.Record;
        var entry = deployment.Entrypoint;
        var token = await _tokens.IssueAsync(run.RunId, _options.TokenLifetime, cancellationToken).ConfigureAwait(false);
        AddFlowVariables(environment, run, deployment, token);
        var now = Now;
        var state = new Attempt
        {
            Message = item,
            Stored = claimed,
            Output = new OutputCapture(_time, _options.MaxLineLength, _options.MaxOutputPerAttempt, run.Attempt),
            LastCommit = now,
            LastCheck = now,
            MessageRenewed = now,
        };

        System.Diagnostics.Process process;
        try
        {
            process = await ProcessTree.StartAsync(executable, entry.Command!.Skip(1), entry.WorkingDirectory, environment, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is Win32Exception or InvalidOperationException or IOException)
        {
            var why = $"The process could not be started: {e.Message}";
            await SettleAttemptAsync(state, deployment, new Outcome(null, false, false, why), cancellationToken).ConfigureAwait(false);
            return null;
        }

        using (process)
        {
            var pid = process.Id;
            LogStarted(_logger, run.RunId, pid, run.Attempt);
            state.Output.AddWorkerLine("Information", $"Started process {pid} on {WorkerId}: {entry.Command![0]} ({entry.Command.Count - 1} argument(s)), attempt {run.Attempt}");
            var pumps = Task.WhenAll(
                Task.Run(() => state.Output.PumpAsync(process.StandardOutput, "Information"), CancellationToken.None),
                Task.Run(() => state.Output.PumpAsync(process.StandardError, "Error"), CancellationToken.None));
            var exited = process.WaitForExitAsync(CancellationToken.None);
            var deadline = entry.TimeoutSeconds is { } seconds ? (run.StartedAt ?? now) + TimeSpan.FromSeconds(seconds) : (DateTimeOffset?)null;
            var known = new Dictionary<int, long>();
            var lastScan = DateTimeOffset.MinValue;
            DateTimeOffset? killAt = null;
            bool timedOut = false, cancelled = false, shutdown = false;
            while (!exited.IsCompleted)
            {
                await Task.WhenAny(exited, Task.Delay(_options.FlushInterval, CancellationToken.None)).ConfigureAwait(false);
                now = Now;
                if (now - lastScan >= TimeSpan.FromSeconds(1))
                {
                    foreach (var (p, s) in ProcessTree.Descendants(pid))
                    {
                        known[p] = s;
                    }

                    lastScan = now;
                }

                if (!shutdown && cancellationToken.IsCancellationRequested)
                {
                    shutdown = true;
                    killAt = now;
                    ProcessTree.Signal(pid, known.Select(k => (k.Key, k.Value)), kill: true);
                    break;
                }

                await PulseAsync(state, cancellationToken).ConfigureAwait(false);
                if (state.Lost)
                {
                    // Another worker owns the run now: this process must not go on.
                    ProcessTree.Signal(pid, known.Select(k => (k.Key, k.Value)), kill: true);
                    break;
                }

                if (killAt is null && state.Stored.Record.CancelRequested)
                {
                    cancelled = true;
                    killAt = now + _options.GracePeriod;
                    state.Output.AddWorkerLine("Warning", $"Cancellation requested: sent SIGTERM to process group {pid}; SIGKILL in {_options.GracePeriod.TotalSeconds:0.#} s if it has not exited.");
                    ProcessTree.Signal(pid, known.Select(k => (k.Key, k.Value)), kill: false);
                }
                else if (killAt is null && deadline is { } due && now >= due)
                {
                    timedOut = true;
                    killAt = now + _options.GracePeriod;
                    state.Output.AddWorkerLine("Error", $"Timed out after {entry.TimeoutSeconds} s: sent SIGTERM to process group {pid}; SIGKILL in {_options.GracePeriod.TotalSeconds:0.#} s if it has not exited.");
                    ProcessTree.Signal(pid, known.Select(k => (k.Key, k.Value)), kill: false);
                }
                else if (killAt is { } killTime && now >= killTime)
                {
                    ProcessTree.Signal(pid, known.Select(k => (k.Key, k.Value)), kill: true);
                }
            }

            // Nothing the command started outlives it.
            foreach (var (p, s) in ProcessTree.Descendants(pid))
            {
                known[p] = s;
            }

            await exited.WaitAsync(TimeSpan.FromSeconds(30), CancellationToken.None).ConfigureAwait(false);
            ProcessTree.Signal(pid, known.Select(k => (k.Key, k.Value)), kill: true);
            await pumps.WaitAsync(TimeSpan.FromSeconds(5), CancellationToken.None).ContinueWith(_ => { }, CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default).ConfigureAwait(false);
            state.Output.Finish();
            var exitCode = process.HasExited ? process.ExitCode : (int?)null;
            LogExited(_logger, run.RunId, pid, exitCode ?? -1);
            if (state.Lost)
            {
                return null;
            }

            if (shutdown)
            {
                await ReleaseForShutdownAsync(state).ConfigureAwait(false);
                return TimeSpan.Zero;
            }

            var message = cancelled ? "Cancelled" : timedOut ? $"Timed out after {entry.TimeoutSeconds} s; the process tree was killed" : exitCode == 0 ? "Completed" : $"Process exited with code {exitCode}{SignalName(exitCode)}";
            await SettleAttemptAsync(state, deployment, new Outcome(exitCode, timedOut, cancelled, message), CancellationToken.None).ConfigureAwait(false);
            return null;
        }
    }

    private static string SignalName(int? exitCode) => exitCode switch
    {
        137 => " (killed by SIGKILL)",
        143 => " (terminated by SIGTERM)",
        139 => " (segmentation fault)",
        _ => string.Empty,
    };

    private sealed record Outcome(int? ExitCode, bool TimedOut, bool Cancelled, string Message);

    /// <summary>Writes pending output, renews the lease and the work item, and notices cancellation and lost leases.</summary>
    private async Task PulseAsync(Attempt a, CancellationToken cancellationToken)
    {
        var now = Now;
        var heartbeatDue = now - a.LastCommit >= Heartbeat;
        if (a.Unsent.Count > 0 || a.Output.Pending > 0 || heartbeatDue)
        {
            await CommitLogsAsync(a, cancellationToken).ConfigureAwait(false);
        }
        else if (now - a.LastCheck >= TimeSpan.FromSeconds(1))
        {
            var fresh = await _store.GetRunAsync(a.Stored.Record.RunId, cancellationToken).ConfigureAwait(false);
            a.LastCheck = now;
            if (fresh is null || fresh.Record.LeaseOwner != WorkerId)
            {
                a.Lost = true;
                return;
            }

            a.Stored = fresh;
        }

        if (now - a.MessageRenewed >= Heartbeat)
        {
            try
            {
                a.Message = await _queue.ExtendLeaseAsync(a.Message, _engine.LeaseDuration, cancellationToken).ConfigureAwait(false);
            }
            catch (LeaseLostException)
            {
                // the item shows up again; its next reader finds the run leased by us and waits for the lease
            }

            a.MessageRenewed = now;
        }
    }

    private async Task CommitLogsAsync(Attempt a, CancellationToken cancellationToken)
    {
        for (var attempt = 0; attempt < 10; attempt++)
        {
            var budget = _store.MaxItemsPerCommit;
            if (a.Unsent.Count < budget)
            {
                a.Unsent.AddRange(a.Output.Take(budget - a.Unsent.Count));
            }

            var run = a.Stored.Record;
            var now = Now;
            if (run.LeaseOwner != WorkerId)
            {
                a.Lost = true;
                return;
            }

            var lines = a.Unsent.Take(budget).ToList();
            var next = RunLifecycle.PlanRenew(run, WorkerId, _engine.LeaseDuration, now) with { LogCount = run.LogCount + lines.Count };
            try
            {
                a.Stored = await _store.CommitAsync(new RunCommit { ExpectedVersion = a.Stored.Version, Run = next, Logs = lines }, cancellationToken).ConfigureAwait(false);
                a.Unsent.RemoveRange(0, lines.Count);
                a.LastCommit = a.LastCheck = now;
                if (a.Unsent.Count == 0 && a.Output.Pending == 0)
                {
                    return;
                }
            }
            catch (ConcurrencyException)
            {
                var fresh = await _store.GetRunAsync(run.RunId, cancellationToken).ConfigureAwait(false);
                if (fresh is null || fresh.Record.LeaseOwner != WorkerId || fresh.Record.State.IsFinal())
                {
                    a.Lost = fresh is null || !fresh.Record.State.IsFinal();
                    a.Stored = fresh ?? a.Stored;
                    return;
                }

                a.Stored = fresh;
            }
        }
    }

    private async Task ReleaseForShutdownAsync(Attempt a)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        try
        {
            a.Output.AddWorkerLine("Warning", $"Worker {WorkerId} is shutting down: the process was stopped; another worker takes the run over.");
            await CommitLogsAsync(a, timeout.Token).ConfigureAwait(false);
            await _lifecycle.TryReleaseAsync(a.Stored, WorkerId, timeout.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is FlowStoreException or OperationCanceledException or HttpRequestException)
        {
            LogSettleFailed(_logger, e, a.Stored.Record.RunId);
        }
    }

    /// <summary>Sets the attempt's outcome: final state, or AwaitingRetry when retries remain. Leaves runs an SDK process settled itself alone.</summary>
    private async Task SettleAttemptAsync(Attempt a, DeploymentRecord deployment, Outcome outcome, CancellationToken cancellationToken)
    {
        for (var attempt = 0; attempt < 20; attempt++)
        {
            await CommitLogsAsync(a, cancellationToken).ConfigureAwait(false);
            var stored = a.Stored;
            if (a.Lost || stored.Record.State.IsFinal())
            {
                return;
            }

            var run = stored.Record;
            if (run.LeaseOwner != WorkerId || run.State is not (RunState.Running or RunState.Cancelling))
            {
                return; // a Flow.Sdk process settled its run itself (suspended, retrying or finished)
            }

            bool done;
            if (run.CancelRequested || outcome.Cancelled)
            {
                done = await TrySettleAsync(stored, RunState.Cancelled, "Cancelled", null, cancellationToken, a.Unsent).ConfigureAwait(false);
            }
            else if (outcome.ExitCode == 0 && !outcome.TimedOut)
            {
                done = await TrySettleAsync(stored, RunState.Completed, "Completed", null, cancellationToken, a.Unsent).ConfigureAwait(false);
            }
            else
            {
                var type = outcome.TimedOut ? "System.TimeoutException" : outcome.ExitCode is null ? "Flow.ProcessNotStarted" : "Flow.ProcessExitCode";
                // A Flow.Sdk process settles its run itself; one that exited leaving it Running died mid-flow: its outcome is unknown.
                var crashed = IsSdk(run) && !outcome.TimedOut && outcome.ExitCode is not null;
                done = await FailOrRetryAsync(stored, deployment, new FailureInfo(crashed ? "Flow.RunCrashed" : type, outcome.Message), crashed, cancellationToken, a.Unsent).ConfigureAwait(false);
            }

            if (done)
            {
                return;
            }

            a.Stored = await _store.GetRunAsync(run.RunId, cancellationToken).ConfigureAwait(false) ?? stored;
        }
    }

    private async Task<bool> CrashAsync(StoredRun stored, DeploymentRecord deployment, string reason, CancellationToken cancellationToken) =>
        await FailOrRetryAsync(stored, deployment, new FailureInfo("Flow.RunCrashed", reason), crashed: true, cancellationToken, []).ConfigureAwait(false);

    /// <summary>The deployment's retry policy through the lifecycle; false when the run changed meanwhile.</summary>
    private async Task<bool> FailOrRetryAsync(StoredRun stored, DeploymentRecord deployment, FailureInfo failure, bool crashed, CancellationToken cancellationToken, List<RunLogLine> logs)
    {
        var delay = TimeSpan.FromSeconds(deployment.Entrypoint.RetryDelaySeconds ?? DefaultRetryDelaySeconds);
        var after = await _lifecycle.TryFailOrRetryAsync(stored, failure, deployment.Entrypoint.Retries, delay, crashed, logs, owesHook: IsSdk(stored.Record), cancellationToken).ConfigureAwait(false);
        if (after is not null && after.Record.State.IsFinal())
        {
            LogFinished(_logger, after.Record.RunId, after.Record.State, Now - (after.Record.StartedAt ?? after.Record.CreatedAt), failure.Message);
        }

        return after is not null;
    }

    /// <summary>Moves a run to a final state (releasing its lease) through the lifecycle; false when it changed meanwhile.</summary>
    private async Task<bool> TrySettleAsync(StoredRun stored, RunState state, string message, FailureInfo? failure, CancellationToken cancellationToken, List<RunLogLine>? logs = null)
    {
        var alreadyFinal = stored.Record.State.IsFinal();
        var after = await _lifecycle.TrySettleAsync(stored, state, message, null, failure, logs, owesHook: IsSdk(stored.Record), cancellationToken).ConfigureAwait(false);
        if (after is not null && !alreadyFinal)
        {
            LogFinished(_logger, after.Record.RunId, after.Record.State, Now - (after.Record.StartedAt ?? after.Record.CreatedAt), message);
        }

        return after is not null;
    }

    [LoggerMessage(800, LogLevel.Information, "Run {RunId}: process {Pid} started (attempt {Attempt})")]
    private static partial void LogStarted(ILogger logger, string runId, int pid, int attempt);

    [LoggerMessage(801, LogLevel.Information, "Run {RunId}: process {Pid} exited with code {ExitCode}")]
    private static partial void LogExited(ILogger logger, string runId, int pid, int exitCode);

    [LoggerMessage(802, LogLevel.Information, "Run {RunId} finished {State} after {Duration}: {Message}")]
    private static partial void LogFinished(ILogger logger, string runId, RunState state, TimeSpan duration, string message);

    [LoggerMessage(804, LogLevel.Debug, "Run {RunId} deferred: {Reason}")]
    private static partial void LogDeferred(ILogger logger, string runId, string reason);

    [LoggerMessage(805, LogLevel.Warning, "Run {RunId}: releasing the run at shutdown failed; its lease expires instead")]
    private static partial void LogSettleFailed(ILogger logger, Exception exception, string runId);
}
