using Flow.Engine;
using Flow.Engine.Storage;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Flow.Process;

/// <summary>
/// The process worker host: polls the run queues of <see cref="ProcessWorkerOptions.Pools"/> (backing off while they are
/// empty), takes items with a lease and hands each to <see cref="ProcessRunExecutor"/>, at most
/// <see cref="ProcessWorkerOptions.MaxConcurrentRuns"/> at once. <c>flow worker start --pool NAME</c> runs it on any machine
/// that reaches the storage and the API; the standalone Flow app runs it when <c>Flow:ProcessWorker:Pools</c> is set.
/// </summary>
public sealed partial class ProcessWorker : BackgroundService
{
    private readonly ProcessRunExecutor _executor;
    private readonly IWorkQueue _queue;
    private readonly ProcessWorkerOptions _options;
    private readonly FlowEngineOptions _engine;
    private readonly ILogger _logger;
    private int _running;

    /// <summary>Creates the worker.</summary>
    /// <param name="executor">Runs one item.</param>
    /// <param name="queue">The work queue.</param>
    /// <param name="options">The process worker options.</param>
    /// <param name="engineOptions">The lease duration.</param>
    /// <param name="logger">The logger.</param>
    public ProcessWorker(ProcessRunExecutor executor, IWorkQueue queue, IOptions<ProcessWorkerOptions> options, IOptions<FlowEngineOptions> engineOptions, ILogger<ProcessWorker>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(executor);
        ArgumentNullException.ThrowIfNull(queue);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(engineOptions);
        _executor = executor;
        _queue = queue;
        _options = options.Value;
        _engine = engineOptions.Value;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
    }

    /// <summary>How many subprocesses run now.</summary>
    public int Running => Volatile.Read(ref _running);

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (_options.Pools.Count == 0)
        {
            return;
        }

        foreach (var pool in _options.Pools)
        {
            await _queue.EnsureQueueAsync(FlowEngine.RunQueueName(pool), stoppingToken).ConfigureAwait(false);
        }

        using var slots = new SemaphoreSlim(_options.MaxConcurrentRuns);
        LogStarted(_logger, _engine.WorkerId, string.Join(", ", _options.Pools), _options.MaxConcurrentRuns);
        await Task.WhenAll(_options.Pools.Select(p => PollAsync(FlowEngine.RunQueueName(p), slots, stoppingToken))).ConfigureAwait(false);
    }

    private Task PollAsync(string queue, SemaphoreSlim slots, CancellationToken stoppingToken) =>
        QueuePoller.RunAsync(
            _queue,
            queue,
            slots,
            _engine.LeaseDuration,
            _options.MinPollInterval,
            _options.MaxPollInterval,
            ProcessItemAsync,
            e => LogPollFailed(_logger, e, queue),
            stoppingToken);

    private async Task ProcessItemAsync(LeasedWorkItem item, CancellationToken stoppingToken)
    {
        Interlocked.Increment(ref _running);
        try
        {
            await _executor.ProcessAsync(item, stoppingToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OutOfMemoryException && !(e is OperationCanceledException && stoppingToken.IsCancellationRequested))
        {
            LogItemFailed(_logger, e, item.Item?.RunId ?? item.MessageId);
            try
            {
                await _queue.AbandonAsync(item, TimeSpan.FromSeconds(Math.Min(30, Math.Pow(2, item.DequeueCount))), stoppingToken).ConfigureAwait(false);
            }
            catch (Exception abandon) when (abandon is not OutOfMemoryException)
            {
                LogItemFailed(_logger, abandon, item.Item?.RunId ?? item.MessageId);
            }
        }
        finally
        {
            Interlocked.Decrement(ref _running);
        }
    }

    [LoggerMessage(820, LogLevel.Information, "Process worker {WorkerId} serving pools {Pools} (up to {Limit} processes)")]
    private static partial void LogStarted(ILogger logger, string workerId, string pools, int limit);

    [LoggerMessage(821, LogLevel.Error, "Polling {Queue} failed; backing off")]
    private static partial void LogPollFailed(ILogger logger, Exception exception, string queue);

    [LoggerMessage(822, LogLevel.Error, "Processing the work item of run {RunId} failed; it is delivered again")]
    private static partial void LogItemFailed(ILogger logger, Exception exception, string runId);
}
