using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Flow.Storage.Azure;

/// <summary>
/// Runs the outbox sweeps (<see cref="AzureFlowStore.RelayPendingAsync"/> for run events, <see cref="AzureControlStore.RelayPendingAsync"/>
/// for control-plane events) every <see cref="AzureFlowStorageOptions.OutboxSweepInterval"/> in the app, so events left behind by a
/// process that died between its commit and its relay reach the event store.
/// Registered by <see cref="FlowAzureStorageServiceCollectionExtensions.AddFlowAzureStorage"/>; several instances may sweep at once.
/// </summary>
/// <param name="store">The store whose outbox it relays.</param>
/// <param name="control">The control store whose outbox it relays.</param>
/// <param name="options">The sweep interval.</param>
/// <param name="logger">Where failed sweeps are logged.</param>
public sealed partial class AzureOutboxRelayService(
    AzureFlowStore store, AzureControlStore control, Microsoft.Extensions.Options.IOptions<AzureFlowStorageOptions> options, ILogger<AzureOutboxRelayService> logger) : BackgroundService
{
    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.OutboxSweepInterval);
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
        {
            try
            {
                await store.RelayPendingAsync(stoppingToken).ConfigureAwait(false);
                await control.RelayPendingAsync(stoppingToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                LogSweepFailed(logger, e);
            }
        }
    }

    [LoggerMessage(EventId = 4133, Level = LogLevel.Warning, Message = "The event outbox sweep failed; it runs again at its next interval")]
    private static partial void LogSweepFailed(ILogger logger, Exception exception);
}
