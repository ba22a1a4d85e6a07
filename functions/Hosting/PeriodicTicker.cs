namespace Flow.Functions.Hosting;

/// <summary>Standalone: a role that ticks on a timer once start-up is done (the stand-in for a Functions timer trigger);
/// a failed tick is logged and the next one tries again.</summary>
/// <param name="gate">Opens when start-up is done.</param>
internal abstract class PeriodicTicker(StartupGate gate) : BackgroundService
{
    /// <summary>The time between ticks.</summary>
    protected abstract TimeSpan Interval { get; }

    /// <summary>One tick.</summary>
    /// <param name="cancellationToken">Stops the service.</param>
    /// <returns>A task.</returns>
    protected abstract Task TickAsync(CancellationToken cancellationToken);

    /// <summary>Logs a failed tick.</summary>
    /// <param name="exception">The failure.</param>
    protected abstract void OnTickFailed(Exception exception);

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await gate.WaitAsync(stoppingToken).ConfigureAwait(false);
        using var timer = new PeriodicTimer(Interval);
        do
        {
            try
            {
                await TickAsync(stoppingToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
            {
                OnTickFailed(e);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false));
    }
}
