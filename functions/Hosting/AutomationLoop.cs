using Flow.ControlPlane.Automations;
using Microsoft.Extensions.Options;

namespace Flow.Functions.Hosting;

/// <summary>
/// Standalone, scheduler role: evaluates automations every <see cref="AutomationOptions.PollInterval"/> (reactive automations
/// act within about one interval of their event). Under Functions the evaluator runs on the scheduler's timer tick instead.
/// </summary>
internal sealed partial class AutomationLoop(AutomationEvaluator evaluator, StartupGate gate, IOptions<AutomationOptions> options, ILogger<AutomationLoop> logger) : PeriodicTicker(gate)
{
    protected override TimeSpan Interval => options.Value.PollInterval;

    protected override Task TickAsync(CancellationToken cancellationToken) => evaluator.TickAsync(cancellationToken);

    protected override void OnTickFailed(Exception exception) => LogTickFailed(logger, exception);

    [LoggerMessage(725, LogLevel.Error, "Automation evaluation failed; the next poll tries again")]
    private static partial void LogTickFailed(ILogger logger, Exception exception);
}
