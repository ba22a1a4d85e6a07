using Flow.ControlPlane;
using Flow.Engine.Storage;
using Microsoft.Extensions.Options;

namespace Flow.Functions.Hosting;

/// <summary>Standalone: the scheduler tick on a timer (every <see cref="FlowAppOptions.SchedulerTickInterval"/>), the Functions timer trigger's stand-in.</summary>
internal sealed partial class SchedulerTimer(DeploymentScheduler scheduler, StartupGate gate, IOptions<FlowAppOptions> options, ILogger<SchedulerTimer> logger) : PeriodicTicker(gate)
{
    protected override TimeSpan Interval => options.Value.SchedulerTickInterval;

    protected override Task TickAsync(CancellationToken cancellationToken) => scheduler.TickAsync(cancellationToken);

    protected override void OnTickFailed(Exception exception) => LogTickFailed(logger, exception);

    [LoggerMessage(720, LogLevel.Error, "Scheduler tick failed; the next tick tries again")]
    private static partial void LogTickFailed(ILogger logger, Exception exception);
}

/// <summary>
/// Standalone: polls the run-request queue with the Functions queue trigger's semantics — a message is invisible while it
/// is handled, deleted when handled (or refused for good: the refusal is recorded), made visible again after a failure with
/// a growing delay, and moved to the poison queue after <see cref="FlowAppOptions.RunRequestMaxDequeueCount"/> deliveries.
/// An empty queue is polled less and less often, up to <see cref="FlowAppOptions.RunRequestMaxPollInterval"/>.
/// </summary>
internal sealed partial class RunRequestPoller(IWorkQueue queue, RunRequestHandler handler, StartupGate gate, IOptions<FlowAppOptions> options, ILogger<RunRequestPoller> logger) : BackgroundService
{
    private static readonly TimeSpan Visibility = TimeSpan.FromSeconds(30);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await gate.WaitAsync(stoppingToken).ConfigureAwait(false);
        using var slots = new SemaphoreSlim(4);
        await QueuePoller.RunAsync(
            queue,
            RunRequestHandler.QueueName,
            slots,
            Visibility,
            TimeSpan.FromMilliseconds(50),
            options.Value.RunRequestMaxPollInterval,
            HandleAsync,
            e => LogPollFailed(logger, e),
            stoppingToken).ConfigureAwait(false);
    }

    private async Task HandleAsync(LeasedWorkItem message, CancellationToken ct)
    {
        try
        {
            await handler.HandleAsync(message.RawBody, message.MessageId, "flow-run-requests", ct).ConfigureAwait(false);
            await queue.CompleteAsync(message, ct).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            LogHandleFailed(logger, e, message.MessageId, message.DequeueCount);
            try
            {
                if (message.DequeueCount >= options.Value.RunRequestMaxDequeueCount)
                {
                    await queue.DeadLetterAsync(message, $"Failed {message.DequeueCount} times: {e.Message}", ct).ConfigureAwait(false);
                }
                else
                {
                    await queue.AbandonAsync(message, TimeSpan.FromSeconds(Math.Min(60, Math.Pow(2, message.DequeueCount))), ct).ConfigureAwait(false);
                }
            }
            catch (Exception settle) when (settle is not OperationCanceledException)
            {
                LogHandleFailed(logger, settle, message.MessageId, message.DequeueCount);
            }
        }
    }

    [LoggerMessage(721, LogLevel.Error, "Polling the run-request queue failed; backing off")]
    private static partial void LogPollFailed(ILogger logger, Exception exception);

    [LoggerMessage(722, LogLevel.Error, "Run request {MessageId} failed (delivery {DequeueCount})")]
    private static partial void LogHandleFailed(ILogger logger, Exception exception, string messageId, int dequeueCount);
}
