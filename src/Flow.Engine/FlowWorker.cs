using Flow.Engine.Storage;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Flow.Engine;

/// <summary>Worker settings, bound from <c>Flow:Worker</c>. Defaults are documented per property.</summary>
public sealed class FlowWorkerOptions
{
    /// <summary>The configuration section.</summary>
    public const string SectionName = "Flow:Worker";

    /// <summary>The pools whose queues this worker serves. Default: <c>default</c>.</summary>
    public IList<string> Pools { get; } = ["default"];

    /// <summary>The most episodes (run work items) processed at once. Default 16.</summary>
    public int MaxConcurrentRuns { get; set; } = 16;

    /// <summary>The most distributed task attempts executed at once. Default 16.</summary>
    public int MaxConcurrentTasks { get; set; } = 16;

    /// <summary>The shortest wait between polls of an empty queue; doubles while it stays empty. Default 20 ms.</summary>
    public TimeSpan MinPollInterval { get; set; } = TimeSpan.FromMilliseconds(20);

    /// <summary>The longest wait between polls of an empty queue. Default 1 s.</summary>
    public TimeSpan MaxPollInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Whether the worker also executes distributed tasks. Default true.</summary>
    public bool ExecuteTasks { get; set; } = true;
}

/// <summary>
/// The small host that runs episodes and distributed tasks from the work queues: polls each served
/// pool's queues (backing off while they are empty), takes items with a lease, and processes them
/// with bounded concurrency. The standalone app and the CLI worker run it; under the Functions host the
/// queue triggers call <see cref="FlowEngine.ProcessAsync"/> instead.
/// </summary>
public sealed class FlowWorker : BackgroundService
{
    private readonly FlowEngine _engine;
    private readonly FlowWorkerOptions _options;
    private readonly ILogger _logger;

    /// <summary>Creates the worker.</summary>
    /// <param name="engine">The engine.</param>
    /// <param name="options">The worker options.</param>
    /// <param name="logger">The logger.</param>
    public FlowWorker(FlowEngine engine, IOptions<FlowWorkerOptions> options, ILogger<FlowWorker>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(engine);
        ArgumentNullException.ThrowIfNull(options);
        _engine = engine;
        _options = options.Value;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
    }

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await _engine.InitializeAsync(_options.Pools, stoppingToken).ConfigureAwait(false);
        var loops = new List<Task>();
        using var runSlots = new SemaphoreSlim(_options.MaxConcurrentRuns);
        using var taskSlots = new SemaphoreSlim(_options.MaxConcurrentTasks);
        foreach (var pool in _options.Pools)
        {
            loops.Add(PollAsync(FlowEngine.RunQueueName(pool), runSlots, _options.MaxConcurrentRuns, stoppingToken));
            if (_options.ExecuteTasks)
            {
                loops.Add(PollAsync(FlowEngine.TaskQueueName(pool), taskSlots, _options.MaxConcurrentTasks, stoppingToken));
            }
        }

        Logs.WorkerStarted(_logger, _engine.Options.WorkerId, string.Join(", ", _options.Pools));
        await Task.WhenAll(loops).ConfigureAwait(false);
    }

    /// <summary>Waits for a notification; a notifier that gives up early without one (notifications off, a lost connection) still waits out the back-off, so the poll never spins.</summary>
    private static async Task<bool> WaitForWorkAsync(IWorkQueueNotifier notifier, string queue, TimeSpan backoff, CancellationToken cancellationToken)
    {
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        if (await notifier.WaitForWorkAsync(queue, backoff, cancellationToken).ConfigureAwait(false))
        {
            return true;
        }

        var left = backoff - System.Diagnostics.Stopwatch.GetElapsedTime(started);
        return left > TimeSpan.Zero && await DelayAsync(left, cancellationToken).ConfigureAwait(false);
    }

    private static async Task<bool> DelayAsync(TimeSpan delay, CancellationToken cancellationToken)
    {
        await Task.Delay(delay, cancellationToken).ConfigureAwait(false);
        return false;
    }

    private async Task PollAsync(string queue, SemaphoreSlim slots, int capacity, CancellationToken stoppingToken)
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
                    items = await _engine.Queue.DequeueAsync(queue, free, _engine.Options.LeaseDuration, stoppingToken).ConfigureAwait(false);
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
                            try
                            {
                                await _engine.ProcessAsync(item, stoppingToken).ConfigureAwait(false);
                            }
                            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
                            {
                                // shutting down: the item becomes visible again when its lease ends
                            }
                            finally
                            {
                                slots.Release();
                            }
                        },
                        CancellationToken.None));
                }

                inFlight.RemoveAll(t => t.IsCompleted);
                if (items.Count == 0)
                {
                    // A queue that notifies (LISTEN/NOTIFY) wakes the worker when work arrives; others are polled with back-off.
                    var notified = _engine.Queue is IWorkQueueNotifier notifier
                        ? await WaitForWorkAsync(notifier, queue, backoff, stoppingToken).ConfigureAwait(false)
                        : await DelayAsync(backoff, stoppingToken).ConfigureAwait(false);
                    backoff = notified ? _options.MinPollInterval : TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, _options.MaxPollInterval.Ticks));
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
                Logs.PollFailed(_logger, e, queue);
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
        _ = capacity;
    }
}
