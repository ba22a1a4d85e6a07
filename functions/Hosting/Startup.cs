using Flow.Engine;
using Flow.ControlPlane;
using Flow.ControlPlane.Automations;
using Microsoft.Extensions.Options;

namespace Flow.Functions.Hosting;

/// <summary>Opens when start-up initialization is done; the scheduler and pollers wait for it.</summary>
internal sealed class StartupGate
{
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public bool IsReady => _ready.Task.IsCompletedSuccessfully;

    public string? Problem { get; set; }

    public void Open() => _ready.TrySetResult();

    public Task WaitAsync(CancellationToken cancellationToken) => _ready.Task.WaitAsync(cancellationToken);
}

/// <summary>
/// Start-up in the background so the process answers <c>GET /</c> at once (the Functions host's 30 s limit): creates tables and
/// queues, the default pool, and applies the deployments file. Storage that is not reachable yet is retried with back-off;
/// the health endpoint says <c>starting</c> and what is wrong meanwhile. A storage configuration that can never work (the
/// account refuses the key, its host does not exist: <see cref="StorageFailure"/>) and an invalid deployments file stop the
/// app with a non-zero exit code and a message naming the setting.
/// </summary>
internal sealed partial class StartupService(
    FlowEngine engine,
    IControlStore control,
    DeploymentService deployments,
    AutomationService automations,
    DeploymentScheduler scheduler,
    StartupGate gate,
    IOptions<FlowAppOptions> options,
    IOptions<FlowWorkerOptions> worker,
    IHostApplicationLifetime lifetime,
    ILogger<StartupService> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var delay = TimeSpan.FromMilliseconds(200);
        for (var attempt = 1; !stoppingToken.IsCancellationRequested; attempt++)
        {
            try
            {
                await engine.InitializeAsync([.. worker.Value.Pools.Append(ControlNames.DefaultPool).Distinct(StringComparer.Ordinal)], stoppingToken).ConfigureAwait(false);
                await engine.Queue.EnsureQueueAsync(RunRequestHandler.QueueName, stoppingToken).ConfigureAwait(false);
                await control.InitializeAsync(stoppingToken).ConfigureAwait(false);
                await deployments.EnsureDefaultPoolAsync(stoppingToken).ConfigureAwait(false);
                break;
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                if (StorageFailure.Permanent(e, attempt) is { } fatal)
                {
                    // A configuration that can never work: stop with a non-zero exit code so a supervisor sees the failure.
                    gate.Problem = fatal;
                    LogStorageMisconfigured(logger, fatal);
                    await Console.Error.WriteLineAsync("flow: error: " + fatal).ConfigureAwait(false);
                    Environment.ExitCode = 4;
                    lifetime.StopApplication();
                    return;
                }

                gate.Problem = "storage not reachable: " + e.Message;
                LogStorageUnavailable(logger, e, delay);
                await Task.Delay(delay, stoppingToken).ConfigureAwait(false);
                delay = TimeSpan.FromTicks(Math.Min(TimeSpan.FromSeconds(10).Ticks, delay.Ticks * 2));
            }
        }

        if (options.Value.DeploymentsFile is { Length: > 0 } file)
        {
            try
            {
                var path = Path.GetFullPath(file);
                var text = await File.ReadAllTextAsync(path, stoppingToken).ConfigureAwait(false);
                var content = DeploymentFile.Parse(text, yaml: !path.EndsWith(".json", StringComparison.OrdinalIgnoreCase));
                var (results, _) = await DeploymentFile.ApplyWithAutomationsAsync(deployments, automations, content, "file:" + Path.GetFileName(path), stoppingToken).ConfigureAwait(false);
                foreach (var changed in results.Where(r => r.Outcome != "unchanged"))
                {
                    await scheduler.TickDeploymentAsync(changed.Name, stoppingToken).ConfigureAwait(false);
                }

                LogApplied(logger, path, results.Count(r => r.Outcome == "created"), results.Count(r => r.Outcome == "updated"), results.Count(r => r.Outcome == "unchanged"));
            }
            catch (Exception e) when (e is InvalidRequestException or IOException or UnauthorizedAccessException)
            {
                LogFileInvalid(logger, e, file, e.Message);
                gate.Problem = $"deployments file {file}: {e.Message}";
                Environment.ExitCode = 3;
                lifetime.StopApplication();
                return;
            }
        }

        gate.Problem = null;
        gate.Open();
        LogReady(logger);
    }

    [LoggerMessage(730, LogLevel.Warning, "Storage is not reachable yet; retrying in {Delay}")]
    private static partial void LogStorageUnavailable(ILogger logger, Exception exception, TimeSpan delay);

    [LoggerMessage(731, LogLevel.Information, "Applied deployments file {Path}: {Created} created, {Updated} updated, {Unchanged} unchanged")]
    private static partial void LogApplied(ILogger logger, string path, int created, int updated, int unchanged);

    [LoggerMessage(732, LogLevel.Critical, "The deployments file {Path} is invalid: {Reason}")]
    private static partial void LogFileInvalid(ILogger logger, Exception exception, string path, string reason);

    [LoggerMessage(734, LogLevel.Critical, "Storage can never be reached with this configuration: {Reason}")]
    private static partial void LogStorageMisconfigured(ILogger logger, string reason);

    [LoggerMessage(733, LogLevel.Information, "Flow is ready")]
    private static partial void LogReady(ILogger logger);
}
