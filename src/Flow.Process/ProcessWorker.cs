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

    private async Task PollAsync(string queue, SemaphoreSlim slots, CancellationToken stoppingToken)
    {
        var backoff = _options.MinPollInterval;
        var inFlight = new List<Task>();
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await slots.WaitAsync(stoppingToken).ConfigureAwait(false);
                var free = 1;
                while (free < 32 && slots.Wait(0, CancellationToken.None))
                {
                    free++;
                }

                IReadOnlyList<LeasedWorkItem> items;
                try
                {
                    items = await _queue.DequeueAsync(queue, free, _engine.LeaseDuration, stoppingToken).ConfigureAwait(false);
                }
                catch
                {
                    slots.Release(free);
                    throw;
                }

                if (items.Count < free)
                {
                    slots.Release(free - items.Count);
                }

                foreach (var item in items)
                {
                    inFlight.Add(Task.Run(
                        async () =>
                        {
                            Interlocked.Increment(ref _running);
                            try
                            {
                                await _executor.ProcessAsync(item, stoppingToken).ConfigureAwait(false);
                            }
                            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
                            {
                                // shutting down: the item becomes visible again when its lease ends
                            }
                            catch (Exception e) when (e is not OutOfMemoryException)
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
                                slots.Release();
                            }
                        },
                        CancellationToken.None));
                }

                inFlight.RemoveAll(t => t.IsCompleted);
                if (items.Count == 0)
                {
                    await Task.Delay(backoff, stoppingToken).ConfigureAwait(false);
                    backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, _options.MaxPollInterval.Ticks));
                }
                else
                {
                    backoff = _options.MinPollInterval;
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                LogPollFailed(_logger, e, queue);
                try
                {
                    await Task.Delay(_options.MaxPollInterval, stoppingToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
            }
        }

        await Task.WhenAll(inFlight).ConfigureAwait(false);
    }

    [LoggerMessage(820, LogLevel.Information, "Process worker {WorkerId} serving pools {Pools} (up to {Limit} processes)")]
    private static partial void LogStarted(ILogger logger, string workerId, string pools, int limit);

    [LoggerMessage(821, LogLevel.Error, "Polling {Queue} failed; backing off")]
    private static partial void LogPollFailed(ILogger logger, Exception exception, string queue);

    [LoggerMessage(822, LogLevel.Error, "Processing the work item of run {RunId} failed; it is delivered again")]
    private static partial void LogItemFailed(ILogger logger, Exception exception, string runId);
}
