using Flow.ControlPlane.Automations;
using Microsoft.Extensions.Options;

namespace Flow.Functions.Hosting;

/// <summary>
/// Standalone, scheduler role: evaluates automations every <see cref="AutomationOptions.PollInterval"/> (reactive automations
/// act within about one interval of their event). Under Functions the evaluator runs on the scheduler's timer tick instead.
/// </summary>
internal sealed partial class AutomationLoop(AutomationEvaluator evaluator, StartupGate gate, IOptions<AutomationOptions> options, ILogger<AutomationLoop> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await gate.WaitAsync(stoppingToken).ConfigureAwait(false);
        using var timer = new PeriodicTimer(options.Value.PollInterval);
        do
        {
            try
            {
                await evaluator.TickAsync(stoppingToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
            {
                LogTickFailed(logger, e);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false));
    }

    [LoggerMessage(725, LogLevel.Error, "Automation evaluation failed; the next poll tries again")]
    private static partial void LogTickFailed(ILogger logger, Exception exception);
}
