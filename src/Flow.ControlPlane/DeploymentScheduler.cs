using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Flow.Engine.Storage;
using Flow.Sdk;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Flow.ControlPlane;

/// <summary>
/// The scheduler tick: for every active schedule of every deployment that is not paused, creates the runs whose time
/// falls between the schedule's cursor (or the catch-up window) and now + <see cref="ControlPlaneOptions.Horizon"/>. Run ids
/// are deterministic (deployment + schedule + occurrence), so ticks that overlap — two instances, a retried timer —
/// create each run once; each new run's work item is enqueued with a visibility delay so it starts on time without
/// waiting for the next tick. Occurrences older than <see cref="ControlPlaneOptions.CatchUpWindow"/> after downtime are skipped.
/// Each schedule's cursor (<c>cursor:DEPLOYMENT:SCHEDULE</c>, with a fingerprint of the schedule's definition) records how
/// far runs were created, so a tick costs one read per schedule when there is nothing new.
/// </summary>
public sealed partial class DeploymentScheduler
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private readonly DeploymentService _deployments;
    private readonly ControlPlaneOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;

    /// <summary>Creates the scheduler.</summary>
    /// <param name="deployments">The deployment service.</param>
    /// <param name="options">The options.</param>
    /// <param name="timeProvider">The clock.</param>
    /// <param name="logger">The logger.</param>
    public DeploymentScheduler(DeploymentService deployments, IOptions<ControlPlaneOptions> options, TimeProvider? timeProvider = null, ILogger<DeploymentScheduler>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(deployments);
        ArgumentNullException.ThrowIfNull(options);
        _deployments = deployments;
        _options = options.Value;
        _time = timeProvider ?? TimeProvider.System;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
    }

    /// <summary>Runs one tick.</summary>
    /// <param name="cancellationToken">Cancels the tick.</param>
    /// <returns>What it did.</returns>
    public async Task<SchedulerTickResult> TickAsync(CancellationToken cancellationToken) =>
        await TickAsync(await _deployments.ListAsync(cancellationToken).ConfigureAwait(false), cancellationToken).ConfigureAwait(false);

    /// <summary>
    /// Runs a tick for one deployment — called when a deployment is saved or resumed, so its first occurrences are created
    /// (and start on time) without waiting for the next tick, which is a minute away under the Functions host.
    /// </summary>
    /// <param name="name">The full deployment name.</param>
    /// <param name="cancellationToken">Cancels the tick.</param>
    /// <returns>What it did (nothing when the deployment does not exist).</returns>
    public async Task<SchedulerTickResult> TickDeploymentAsync(string name, CancellationToken cancellationToken)
    {
        var deployment = await _deployments.Store.GetDeploymentAsync(name, cancellationToken).ConfigureAwait(false);
        return deployment is null ? new SchedulerTickResult(0, 0) : await TickAsync([deployment.Record], cancellationToken).ConfigureAwait(false);
    }

    /// <summary>How many runs of one schedule are created at once.</summary>
    private const int CreateConcurrency = 8;

    private async Task<SchedulerTickResult> TickAsync(IReadOnlyList<DeploymentRecord> deployments, CancellationToken cancellationToken)
    {
        var now = _time.GetUtcNow();
        int created = 0, existing = 0;
        foreach (var deployment in deployments)
        {
            if (deployment.Paused)
            {
                continue;
            }

            foreach (var schedule in deployment.Schedules.Where(s => s.Active))
            {
                try
                {
                    var (c, e) = await TickScheduleAsync(deployment, schedule, now, cancellationToken).ConfigureAwait(false);
                    created += c;
                    existing += e;
                }
                catch (Exception ex) when (ex is ControlPlaneException or FormatException or ArgumentException or FlowException && ex is not OperationCanceledException)
                {
                    LogScheduleFailed(_logger, ex, deployment.Name, schedule.Id);
                }
            }
        }

        if (created > 0)
        {
            LogTick(_logger, created, existing);
        }

        return new SchedulerTickResult(created, existing);
    }

    private async Task<(int Created, int Existing)> TickScheduleAsync(DeploymentRecord deployment, DeploymentSchedule schedule, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var control = _deployments.Store;
        var key = "cursor:" + deployment.Name.Replace('/', ':') + ":" + schedule.Id;
        var fingerprint = Fingerprint(schedule);
        var cursorEntry = await control.GetStateAsync(key, cancellationToken).ConfigureAwait(false);
        var cursor = cursorEntry is null ? null : JsonSerializer.Deserialize<Cursor>(cursorEntry.Record, Json);
        var floor = now - _options.CatchUpWindow;
        DateTimeOffset after;
        if (cursor is not null && cursor.Fingerprint == fingerprint)
        {
            after = cursor.Through > floor ? cursor.Through : floor;
        }
        else
        {
            // A new or changed schedule starts after the moment it was saved (no backfill of its past), within the catch-up window.
            var since = deployment.UpdatedAt;
            after = since > floor ? since : floor;
        }

        var until = now + _options.Horizon;
        if (after >= until)
        {
            return (0, 0);
        }

        var occurrences = ScheduleRules.Build(schedule).GetOccurrences(after, until, _options.MaxRunsPerSchedulePerTick).ToList();
        int created = 0, existing = 0;
        var parameters = DeploymentValidator.MergeObjects(new ErrorList(), "parameters", deployment.Parameters, schedule.Parameters is null ? null : JsonDocument.Parse(schedule.Parameters).RootElement);
        var tags = new Dictionary<string, string>(deployment.Tags, StringComparer.Ordinal) { [ControlNames.ScheduleTag] = schedule.Id };
        // Runs are independent (deterministic ids, no shared counter), so they are created a few at a time: saving a
        // deployment with a 2-second schedule creates its first 60 runs in the request, and one at a time that took
        // seconds of round trips on a loaded machine.
        var parallel = new ParallelOptions { MaxDegreeOfParallelism = CreateConcurrency, CancellationToken = cancellationToken };
        await Parallel.ForEachAsync(occurrences, parallel, async (occurrence, ct) =>
        {
            var runId = ControlNames.ScheduledRunId(deployment.Name, schedule.Id, occurrence);
            var result = await _deployments.StartAsync(deployment, parameters, runId, occurrence, tags, ct).ConfigureAwait(false);
            if (result.Created)
            {
                Interlocked.Increment(ref created);
                LogRunScheduled(_logger, runId, deployment.Name, occurrence);
            }
            else
            {
                Interlocked.Increment(ref existing);
            }
        }).ConfigureAwait(false);

        var through = occurrences.Count >= _options.MaxRunsPerSchedulePerTick ? occurrences[^1] : until;
        try
        {
            await control.PutStateAsync(key, JsonSerializer.Serialize(new Cursor(fingerprint, through), Json), cursorEntry?.Version ?? IControlStore.MustNotExist, cancellationToken).ConfigureAwait(false);
        }
        catch (ConcurrencyException)
        {
            // Another scheduler moved the cursor; the runs are the same either way (deterministic ids).
        }

        return (created, existing);
    }

    private static string Fingerprint(DeploymentSchedule schedule) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(string.Join('\n', schedule.Cron, schedule.TimeZone, schedule.Interval?.Ticks.ToString(CultureInfo.InvariantCulture), schedule.Anchor?.UtcTicks.ToString(CultureInfo.InvariantCulture)))))[..16];

    private sealed record Cursor(string Fingerprint, DateTimeOffset Through);

    [LoggerMessage(630, LogLevel.Information, "Scheduler tick: {Created} runs created, {Existing} already existed")]
    private static partial void LogTick(ILogger logger, int created, int existing);

    [LoggerMessage(631, LogLevel.Information, "Schedule occurrence created: run {RunId} of {Deployment} for {Time}")]
    private static partial void LogRunScheduled(ILogger logger, string runId, string deployment, DateTimeOffset time);

    [LoggerMessage(632, LogLevel.Warning, "Schedule {ScheduleId} of deployment {Deployment} could not be ticked")]
    private static partial void LogScheduleFailed(ILogger logger, Exception exception, string deployment, string scheduleId);
}
