using Flow.ControlPlane;
using Microsoft.Extensions.Options;

namespace Flow.Functions.Hosting;

/// <summary>
/// Watches the storage once start-up has reached it: a single read (<see cref="IControlStore.GetStateAsync"/>) every
/// <see cref="FlowAppOptions.StorageProbeInterval"/> (every second while it fails), which must answer within
/// <see cref="FlowAppOptions.StorageTimeout"/> (twice in a row: one slow answer may be load), or fail with an error. While it fails, /api/health says <c>degraded</c> naming the storage, API calls
/// answer 503 at once (<see cref="Api.StorageOutage"/>), and calls already waiting on the storage are cancelled. A slow API
/// call (<see cref="Suspect"/>) asks for a probe at once, so an outage is noticed within about the storage timeout.
/// </summary>
internal sealed partial class StorageHealth(IControlStore control, StartupGate gate, IOptions<FlowAppOptions> options, ILogger<StorageHealth> logger) : BackgroundService
{
    private const string ProbeKey = "health:probe";
    private readonly SemaphoreSlim _wake = new(0, 1);
    private CancellationTokenSource _outage = new();
    private long _suspectedAt = long.MinValue;

    /// <summary>What is wrong with the storage, or null while it answers.</summary>
    public string? Failure { get; private set; }

    /// <summary>Cancelled when the storage is found down; a fresh token once it answers again.</summary>
    public CancellationToken OutageToken => Volatile.Read(ref _outage).Token;

    /// <summary>Asks for a probe now (an API call is waiting on the storage longer than it should).</summary>
    public void Suspect()
    {
        Interlocked.Exchange(ref _suspectedAt, Environment.TickCount64);
        try
        {
            _wake.Release();
        }
        catch (SemaphoreFullException)
        {
            // a probe is already asked for
        }
    }

    /// <inheritdoc />
    public override void Dispose()
    {
        _wake.Dispose();
        _outage.Dispose();
        base.Dispose();
    }

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await gate.WaitAsync(stoppingToken).ConfigureAwait(false);
        while (!stoppingToken.IsCancellationRequested)
        {
            var probeStarted = Environment.TickCount64;
            var suspected = probeStarted - Interlocked.Read(ref _suspectedAt) < 1_000;
            var (failure, timedOut) = await ProbeAsync(stoppingToken).ConfigureAwait(false);
            if (timedOut && Failure is null && !suspected)
            {
                // One slow answer may be load, not an outage: the storage is down when a second, independent request is slow
                // too — an API call that asked for this probe after waiting already counts as one; otherwise a second probe.
                (failure, _) = await ProbeAsync(stoppingToken).ConfigureAwait(false);
            }

            if (failure is not null && Failure is null)
            {
                Failure = failure;
                LogDown(logger, failure);
                await Volatile.Read(ref _outage).CancelAsync().ConfigureAwait(false);
            }
            else if (failure is null && Failure is not null)
            {
                Interlocked.Exchange(ref _outage, new CancellationTokenSource()).Dispose();
                Failure = null;
                LogUp(logger);
            }

            await _wake.WaitAsync(Failure is null ? options.Value.StorageProbeInterval : TimeSpan.FromSeconds(1), stoppingToken).ConfigureAwait(false);
        }
    }

    private async Task<(string? Failure, bool TimedOut)> ProbeAsync(CancellationToken stoppingToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        timeout.CancelAfter(options.Value.StorageTimeout);
        try
        {
            await control.GetStateAsync(ProbeKey, timeout.Token).ConfigureAwait(false);
            return (null, false);
        }
        catch (OperationCanceledException) when (!stoppingToken.IsCancellationRequested)
        {
            return ($"no answer within {options.Value.StorageTimeout.TotalSeconds:0.#} s", true);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            return (e.Message, false);
        }
    }

    [LoggerMessage(735, LogLevel.Error, "Storage is down: {Failure}; API calls answer 503 until it answers again")]
    private static partial void LogDown(ILogger logger, string failure);

    [LoggerMessage(736, LogLevel.Warning, "Storage answers again")]
    private static partial void LogUp(ILogger logger);
}
