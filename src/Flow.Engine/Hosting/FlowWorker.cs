using Flow.Engine.Storage;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

// Hosting/ holds the engine's queue consumers; the public types keep the namespaces their users (the app, the CLI, the
// benchmarks) already import.
namespace Flow.Engine;

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
            loops.Add(PollAsync(FlowEngine.RunQueueName(pool), runSlots, stoppingToken));
            if (_options.ExecuteTasks)
            {
                loops.Add(PollAsync(FlowEngine.TaskQueueName(pool), taskSlots, stoppingToken));
            }
        }

        Logs.WorkerStarted(_logger, _engine.Options.WorkerId, string.Join(", ", _options.Pools));
        await Task.WhenAll(loops).ConfigureAwait(false);
    }

    private Task PollAsync(string queue, SemaphoreSlim slots, CancellationToken stoppingToken) =>
        QueuePoller.RunAsync(
            _engine.Queue,
            queue,
            slots,
            _engine.Options.LeaseDuration,
            _options.MinPollInterval,
            _options.MaxPollInterval,
            (item, ct) => _engine.ProcessAsync(item, ct),
            e => Logs.PollFailed(_logger, e, queue),
            stoppingToken);
}
