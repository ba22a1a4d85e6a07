using System.Text.Json;
using Flow.Engine;
using Flow.Engine.Storage;
using Flow.Sdk;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Flow.ControlPlane;

/// <summary>
/// The control plane's admission rules, asked before a run first starts:
/// <list type="bullet">
/// <item><description>a run its schedule created is cancelled when, at its time, the deployment is gone or paused, or the schedule is gone or inactive;</description></item>
/// <item><description>a paused work pool holds its runs (they start when it is resumed);</description></item>
/// <item><description>a deployment's concurrency limit holds a run (collision strategy <c>enqueue</c>) or cancels it (<c>cancel-new</c>);</description></item>
/// <item><description>a work pool's concurrency limit holds a run.</description></item>
/// </list>
/// Slots are sets of run ids kept in versioned state entries (<c>slots:deployment:FLOW:NAME</c>, <c>slots:pool:NAME</c>); a
/// holder whose run has reached a final state (or no longer exists) is dropped from the set when someone next needs
/// the slot, so a slot is never leaked, even when the process that took it died.
/// </summary>
public sealed partial class RunAdmission : IRunAdmission
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private readonly IControlStore _control;
    private readonly IFlowStore _runs;
    private readonly ControlPlaneOptions _options;
    private readonly ILogger _logger;

    /// <summary>Creates the admission rules.</summary>
    /// <param name="control">The control-plane store.</param>
    /// <param name="runs">The run store.</param>
    /// <param name="options">The options.</param>
    /// <param name="logger">The logger.</param>
    public RunAdmission(IControlStore control, IFlowStore runs, IOptions<ControlPlaneOptions> options, ILogger<RunAdmission>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(control);
        ArgumentNullException.ThrowIfNull(runs);
        ArgumentNullException.ThrowIfNull(options);
        _control = control;
        _runs = runs;
        _options = options.Value;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
    }

    /// <inheritdoc />
    public async ValueTask<AdmissionDecision> AdmitAsync(FlowRunRecord run, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(run);
        DeploymentRecord? deployment = null;
        if (run.Deployment is { } name)
        {
            deployment = (await _control.GetDeploymentAsync(name, cancellationToken).ConfigureAwait(false))?.Record;
            if (run.Tags.TryGetValue(ControlNames.ScheduleTag, out var scheduleId))
            {
                var reason = deployment switch
                {
                    null => $"Deployment '{name}' was deleted before this scheduled run came due",
                    { Paused: true } => $"Deployment '{name}' was paused when this scheduled run came due",
                    _ when deployment.Schedules.FirstOrDefault(s => s.Id == scheduleId) is not { Active: true } => $"Schedule '{scheduleId}' of deployment '{name}' was removed or deactivated before this run came due",
                    _ => null,
                };
                if (reason is not null)
                {
                    return AdmissionDecision.Reject(reason);
                }
            }
        }

        var pool = (await _control.GetWorkPoolAsync(run.Pool, cancellationToken).ConfigureAwait(false))?.Record;
        if (pool is { Paused: true })
        {
            return AdmissionDecision.Defer(_options.SlotRetryInterval, $"work pool '{pool.Name}' is paused");
        }

        string? deploymentKey = null;
        if (deployment is { ConcurrencyLimit: { } limit })
        {
            deploymentKey = "slots:deployment:" + deployment.Name.Replace('/', ':');
            if (!await TryAcquireAsync(deploymentKey, run.RunId, limit, cancellationToken).ConfigureAwait(false))
            {
                return deployment.CollisionStrategy == CollisionStrategy.CancelNew
                    ? AdmissionDecision.Reject($"Deployment '{deployment.Name}' already runs {limit} run(s), its concurrency limit (collision strategy cancel-new)")
                    : AdmissionDecision.Defer(_options.SlotRetryInterval, $"waiting for one of deployment '{deployment.Name}''s {limit} concurrency slot(s)");
            }
        }

        if (pool is { ConcurrencyLimit: { } poolLimit } && !await TryAcquireAsync("slots:pool:" + pool.Name, run.RunId, poolLimit, cancellationToken).ConfigureAwait(false))
        {
            if (deploymentKey is not null)
            {
                await ReleaseAsync(deploymentKey, run.RunId, cancellationToken).ConfigureAwait(false);
            }

            return AdmissionDecision.Defer(_options.SlotRetryInterval, $"waiting for one of work pool '{pool.Name}''s {poolLimit} concurrency slot(s)");
        }

        return AdmissionDecision.Admit;
    }

    private async Task<bool> TryAcquireAsync(string key, string runId, int limit, CancellationToken cancellationToken)
    {
        for (var attempt = 0; attempt < 50; attempt++)
        {
            var entry = await _control.GetStateAsync(key, cancellationToken).ConfigureAwait(false);
            var holders = entry is null ? [] : JsonSerializer.Deserialize<List<string>>(entry.Record, Json) ?? [];
            if (holders.Contains(runId, StringComparer.Ordinal))
            {
                return true;
            }

            var live = new List<string>(holders.Count + 1);
            foreach (var holder in holders)
            {
                var held = await _runs.GetRunAsync(holder, cancellationToken).ConfigureAwait(false);
                if (held is not null && !held.Record.State.IsFinal())
                {
                    live.Add(holder);
                }
            }

            if (live.Count >= limit)
            {
                if (live.Count != holders.Count)
                {
                    await TryWriteAsync(key, live, entry, cancellationToken).ConfigureAwait(false);
                }

                return false;
            }

            live.Add(runId);
            if (await TryWriteAsync(key, live, entry, cancellationToken).ConfigureAwait(false))
            {
                LogSlotTaken(_logger, key, runId, live.Count, limit);
                return true;
            }
        }

        return false;
    }

    private async Task ReleaseAsync(string key, string runId, CancellationToken cancellationToken)
    {
        for (var attempt = 0; attempt < 20; attempt++)
        {
            var entry = await _control.GetStateAsync(key, cancellationToken).ConfigureAwait(false);
            var holders = entry is null ? [] : JsonSerializer.Deserialize<List<string>>(entry.Record, Json) ?? [];
            if (!holders.Remove(runId) || await TryWriteAsync(key, holders, entry, cancellationToken).ConfigureAwait(false))
            {
                return;
            }
        }
    }

    private async Task<bool> TryWriteAsync(string key, List<string> holders, Versioned<string>? entry, CancellationToken cancellationToken)
    {
        try
        {
            await _control.PutStateAsync(key, JsonSerializer.Serialize(holders, Json), entry?.Version ?? IControlStore.MustNotExist, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (ConcurrencyException)
        {
            return false;
        }
    }

    [LoggerMessage(620, LogLevel.Debug, "Run {RunId} took a slot of {Key} ({Count}/{Limit})")]
    private static partial void LogSlotTaken(ILogger logger, string key, string runId, int count, int limit);
}
