using Flow.Engine.Events;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Flow.Engine.Storage;

/// <summary>
/// Retention on a store's <see cref="IRunRetention"/>: every interval deletes the runs whose final state was reached more
/// than the retention period ago, batch by batch until a batch comes back short, then the events that occurred before the
/// same time (<see cref="IEventRetention"/>, when given: a run and the events about it age out together); 0 days turns it off. Several app
/// instances may run it at once (each backend's deletion tolerates a concurrent one). The backends' services
/// (PostgreSQL's, Azure's) derive from it with their own options.
/// </summary>
public abstract partial class RunRetentionService : BackgroundService
{
    /// <summary>The most event deletion calls one pass makes (the next pass goes on).</summary>
    private const int MaxEventCallsPerPass = 1000;

    private readonly IRunRetention _store;
    private readonly IEventRetention? _events;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;

    /// <summary>Creates the service.</summary>
    /// <param name="store">The store whose runs are deleted.</param>
    /// <param name="days">Runs that ended more than this many days ago are deleted; 0 keeps everything.</param>
    /// <param name="interval">How often to look.</param>
    /// <param name="batchSize">How many runs one deletion call removes.</param>
    /// <param name="timeProvider">The clock; null for the system clock.</param>
    /// <param name="logger">The logger; null for none.</param>
    protected RunRetentionService(IRunRetention store, int days, TimeSpan interval, int batchSize, TimeProvider? timeProvider, ILogger? logger)
        : this(store, null, days, interval, batchSize, timeProvider, logger)
    {
    }

    /// <summary>Creates the service, deleting old events too.</summary>
    /// <param name="store">The store whose runs are deleted.</param>
    /// <param name="events">The event store whose old events are deleted; null to keep events.</param>
    /// <param name="days">Runs that ended (and events that occurred) more than this many days ago are deleted; 0 keeps everything.</param>
    /// <param name="interval">How often to look.</param>
    /// <param name="batchSize">How many runs (or events) one deletion call removes.</param>
    /// <param name="timeProvider">The clock; null for the system clock.</param>
    /// <param name="logger">The logger; null for none.</param>
    protected RunRetentionService(IRunRetention store, IEventRetention? events, int days, TimeSpan interval, int batchSize, TimeProvider? timeProvider, ILogger? logger)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentOutOfRangeException.ThrowIfNegative(days);
        StorageContract.ValidateRetentionBatch(batchSize);
        _store = store;
        _events = events;
        Days = days;
        Interval = interval;
        BatchSize = batchSize;
        _time = timeProvider ?? TimeProvider.System;
        _logger = logger ?? NullLogger.Instance;
    }

    /// <summary>The retention period in days; 0: off.</summary>
    public int Days { get; }

    /// <summary>How often the service looks for runs to delete.</summary>
    public TimeSpan Interval { get; }

    /// <summary>How many runs one deletion call removes.</summary>
    public int BatchSize { get; }

    /// <summary>Deletes every run that ended more than the retention period before now, batch by batch.</summary>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>How many runs were deleted.</returns>
    public async Task<int> RunOnceAsync(CancellationToken cancellationToken)
    {
        if (Days == 0)
        {
            return 0;
        }

        var cutoff = _time.GetUtcNow() - TimeSpan.FromDays(Days);
        var total = 0;
        int deleted;
        do
        {
            deleted = await _store.DeleteFinishedRunsAsync(cutoff, BatchSize, cancellationToken).ConfigureAwait(false);
            total += deleted;
        }
        while (deleted == BatchSize);

        if (total > 0)
        {
            RetentionDeleted(_logger, total, cutoff);
        }

        if (_events is not null)
        {
            var events = 0;
            for (var call = 0; call < MaxEventCallsPerPass; call++)
            {
                var step = await _events.DeleteEventsBeforeAsync(cutoff, Math.Min(BatchSize, IEventRetention.MaxBatchSize), cancellationToken).ConfigureAwait(false);
                if (step == 0)
                {
                    break;
                }

                events += step;
            }

            if (events > 0)
            {
                EventsDeleted(_logger, events, cutoff);
            }
        }

        return total;
    }

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (Days == 0)
        {
            return;
        }

        using var timer = new PeriodicTimer(Interval, _time);
        do
        {
            try
            {
                await RunOnceAsync(stoppingToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                RetentionFailed(_logger, Interval, e);
            }
        }
        while (await WaitAsync(timer, stoppingToken).ConfigureAwait(false));
    }

    private static async Task<bool> WaitAsync(PeriodicTimer timer, CancellationToken stoppingToken)
    {
        try
        {
            return await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    [LoggerMessage(EventId = 4220, Level = LogLevel.Information, Message = "Retention: deleted {Count} runs that ended before {Cutoff:O}")]
    private static partial void RetentionDeleted(ILogger logger, int count, DateTimeOffset cutoff);

    [LoggerMessage(EventId = 4222, Level = LogLevel.Information, Message = "Retention: deleted {Count} event rows older than {Cutoff:O}")]
    private static partial void EventsDeleted(ILogger logger, int count, DateTimeOffset cutoff);

    [LoggerMessage(EventId = 4221, Level = LogLevel.Warning, Message = "Retention: deleting old runs failed; trying again in {Interval}")]
    private static partial void RetentionFailed(ILogger logger, TimeSpan interval, Exception exception);
}
