namespace Flow.Functions.Hosting;

/// <summary>
/// Starts a storage-dependent hosted service (the flow worker, the process worker) only once start-up has reached the storage
/// (<see cref="StartupGate"/>): until then storage failures are <see cref="StartupService"/>'s to retry or to report, and a
/// worker that touched the storage first could not stop the host (with exit code 0) over an outage.
/// </summary>
internal sealed class AfterStartup(StartupGate gate, IHostedService inner) : BackgroundService
{
    private int _started;

    /// <summary>The wrapped service.</summary>
    public IHostedService Inner => inner;

    /// <summary>Wraps the hosted services of <paramref name="types"/> already registered in <paramref name="services"/>.</summary>
    /// <param name="services">The services.</param>
    /// <param name="types">The implementation types to wrap.</param>
    public static void Wrap(IServiceCollection services, params Type[] types)
    {
        foreach (var type in types)
        {
            foreach (var descriptor in services.Where(d => d.ServiceType == typeof(IHostedService) && d.ImplementationType == type).ToList())
            {
                services.Remove(descriptor);
                services.AddSingleton<IHostedService>(sp => new AfterStartup(sp.GetRequiredService<StartupGate>(), (IHostedService)ActivatorUtilities.CreateInstance(sp, type)));
            }
        }
    }

    /// <inheritdoc />
    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken).ConfigureAwait(false);
        if (Interlocked.Exchange(ref _started, 0) == 1)
        {
            await inner.StopAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <inheritdoc />
    public override void Dispose()
    {
        (inner as IDisposable)?.Dispose();
        base.Dispose();
    }

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await gate.WaitAsync(stoppingToken).ConfigureAwait(false);
        await inner.StartAsync(stoppingToken).ConfigureAwait(false);
        Interlocked.Exchange(ref _started, 1);
    }
}
