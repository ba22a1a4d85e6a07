using Flow.Engine.Diagnostics;
using Flow.Engine.Execution;
using Flow.Engine.Runs;
using Flow.Engine.Storage;
using Flow.Sdk;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Flow.Engine;

/// <summary>
/// The durable flow engine: starts runs, delivers events and cancellations, and processes work items
/// (episodes of runs, distributed task executions). Hosts — the worker service, the Functions app's
/// queue triggers, the test host — feed it work items; it does the rest. Thread-safe.
/// </summary>
public sealed class FlowEngine
{
    private readonly EngineCore _core;

    /// <summary>Creates the engine.</summary>
    /// <param name="store">The state store.</param>
    /// <param name="queue">The work queue.</param>
    /// <param name="registry">The registered flows and tasks.</param>
    /// <param name="services">Services for creating flows and tasks (and what hooks see).</param>
    /// <param name="options">The engine options.</param>
    /// <param name="timeProvider">The clock; null for the system clock.</param>
    /// <param name="loggerFactory">Logging; null for none.</param>
    public FlowEngine(IFlowStore store, IWorkQueue queue, FlowRegistry registry, IServiceProvider services, IOptions<FlowEngineOptions> options, TimeProvider? timeProvider = null, ILoggerFactory? loggerFactory = null)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(queue);
        ArgumentNullException.ThrowIfNull(registry);
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(options);
        _core = new EngineCore(store, queue, registry, services, options.Value, timeProvider ?? TimeProvider.System, loggerFactory ?? NullLoggerFactory.Instance);
    }

    /// <summary>The state store.</summary>
    public IFlowStore Store => _core.Store;

    /// <summary>The work queue.</summary>
    public IWorkQueue Queue => _core.Queue;

    /// <summary>The registry.</summary>
    public FlowRegistry Registry => _core.Registry;

    /// <summary>The options.</summary>
    public FlowEngineOptions Options => _core.Options;

    /// <summary>The run lifecycle: the one door through which every run state change passes.</summary>
    public RunLifecycle Lifecycle => _core.Lifecycle;

    /// <summary>Checks parameters against a flow input type the way a run binds them, listing every offending field.</summary>
    /// <param name="parametersJson">The parameters as JSON, or null.</param>
    /// <param name="inputType">The flow's input type.</param>
    /// <exception cref="FlowParameterException">The parameters do not bind to <paramref name="inputType"/>.</exception>
    public void CheckParameters(string? parametersJson, Type inputType)
    {
        ArgumentNullException.ThrowIfNull(inputType);
        ParameterBinder.Bind(parametersJson, inputType, _core.Json);
    }

    /// <summary>The logical name of a pool's run queue.</summary>
    /// <param name="pool">The pool.</param>
    /// <returns>The queue name.</returns>
    public static string RunQueueName(string pool) => RunLifecycle.RunQueueName(pool);

    /// <summary>The logical name of a pool's distributed task queue.</summary>
    /// <param name="pool">The pool.</param>
    /// <returns>The queue name.</returns>
    public static string TaskQueueName(string pool) => EngineCore.TaskQueue(pool);

    /// <summary>Creates the storage and the queues of the given pools (the default pool when none is given). Idempotent.</summary>
    /// <param name="pools">The pools.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>A task.</returns>
    public async Task InitializeAsync(IEnumerable<string>? pools = null, CancellationToken cancellationToken = default)
    {
        await _core.Store.InitializeAsync(cancellationToken).ConfigureAwait(false);
        foreach (var pool in (pools ?? [_core.Options.DefaultPool]).Distinct(StringComparer.Ordinal))
        {
            await _core.Queue.EnsureQueueAsync(RunQueueName(pool), cancellationToken).ConfigureAwait(false);
            await _core.Queue.EnsureQueueAsync(TaskQueueName(pool), cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Starts a run of a registered flow with parameters given as an object (serialized to JSON).</summary>
    /// <param name="flowName">The flow name.</param>
    /// <param name="parameters">The parameters.</param>
    /// <param name="options">Id, tags, pool, schedule.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The run (the existing one when <see cref="StartRunOptions.RunId"/> names a run that exists).</returns>
    /// <exception cref="FlowNotFoundException">No flow has that name.</exception>
    /// <exception cref="FlowParameterException">The parameters do not bind to the flow's input type.</exception>
    public Task<FlowRunRecord> StartRunAsync(string flowName, object? parameters, StartRunOptions? options = null, CancellationToken cancellationToken = default) =>
        StartRunJsonAsync(flowName, parameters is null ? null : _core.Serialize(parameters, parameters.GetType()), options, cancellationToken);

    /// <summary>Starts a run of a registered flow with parameters given as JSON.</summary>
    /// <param name="flowName">The flow name.</param>
    /// <param name="parametersJson">The parameters as JSON, or null.</param>
    /// <param name="options">Id, tags, pool, schedule.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The run.</returns>
    /// <exception cref="FlowNotFoundException">No flow has that name.</exception>
    /// <exception cref="FlowParameterException">The parameters do not bind to the flow's input type.</exception>
    public async Task<FlowRunRecord> StartRunJsonAsync(string flowName, string? parametersJson, StartRunOptions? options = null, CancellationToken cancellationToken = default) =>
        (await StartOrGetRunAsync(flowName, parametersJson, options, cancellationToken).ConfigureAwait(false)).Run;

    /// <summary>Starts a run and says whether this call created it (false: <see cref="StartRunOptions.RunId"/> named an existing run).</summary>
    /// <param name="flowName">The flow name.</param>
    /// <param name="parametersJson">The parameters as JSON, or null.</param>
    /// <param name="options">Id, tags, pool, deployment, schedule.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The run, and whether this call created it.</returns>
    /// <exception cref="FlowNotFoundException">No flow has that name.</exception>
    /// <exception cref="FlowParameterException">The parameters do not bind to the flow's input type.</exception>
    public async Task<(FlowRunRecord Run, bool Created)> StartOrGetRunAsync(string flowName, string? parametersJson, StartRunOptions? options, CancellationToken cancellationToken)
    {
        options ??= new StartRunOptions();
        if (!_core.Registry.TryGetFlow(flowName, out var flow))
        {
            throw new FlowNotFoundException(flowName, _core.Registry.Flows.Select(f => f.Name));
        }

        ParameterBinder.Bind(parametersJson, flow.InputType, _core.Json);
        var flowOptions = flow.GetOptions(_core.Services);
        var tags = new Dictionary<string, string>(flowOptions.Tags, StringComparer.Ordinal);
        foreach (var (k, v) in options.Tags ?? new Dictionary<string, string>())
        {
            tags[k] = v;
        }

        return await CreateAndEnqueueAsync(flowName, parametersJson, options, tags, flowOptions.Version, ensureQueue: false, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Creates a run of a process deployment: a run record (flow name as given, no registered flow needed) enqueued on its pool's
    /// run queue, where a process worker picks it up. Parameters are kept as given (any JSON value).
    /// </summary>
    /// <param name="flowName">The flow name the process reports (not registered in this app).</param>
    /// <param name="parametersJson">The parameters as JSON, or null.</param>
    /// <param name="options">Id, tags, pool, deployment, schedule.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The run, and whether this call created it.</returns>
    public async Task<(FlowRunRecord Run, bool Created)> StartProcessRunAsync(string flowName, string? parametersJson, StartRunOptions options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        return await CreateAndEnqueueAsync(flowName, parametersJson, options, options.Tags ?? FlowRunRecord.EmptyTags, null, ensureQueue: true, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Creates a run (Scheduled when its time is ahead, else Pending) and, when this call created it, enqueues its first work item.</summary>
    private Task<(FlowRunRecord Run, bool Created)> CreateAndEnqueueAsync(string flowName, string? parametersJson, StartRunOptions options, IReadOnlyDictionary<string, string> tags, string? flowVersion, bool ensureQueue, CancellationToken cancellationToken)
    {
        if (options.RunId is not null)
        {
            FlowNames.Validate(options.RunId, "run id");
        }

        return _core.Lifecycle.CreateAsync(new NewRun
        {
            RunId = options.RunId,
            FlowName = flowName,
            Pool = options.Pool ?? _core.Options.DefaultPool,
            Deployment = options.Deployment,
            Parameters = parametersJson,
            Tags = tags,
            ScheduledAt = options.ScheduledAt,
            FlowVersion = flowVersion,
        }, ensureQueue, cancellationToken);
    }

    /// <summary>Reads a run.</summary>
    /// <param name="runId">The run id.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The run, or null.</returns>
    public async Task<FlowRunRecord?> GetRunAsync(string runId, CancellationToken cancellationToken = default) =>
        (await _core.Store.GetRunAsync(runId, cancellationToken).ConfigureAwait(false))?.Record;

    /// <summary>Sends an external event to a run (delivered to the first <see cref="FlowContext.WaitForEventAsync{T}"/> with its name, now or later).</summary>
    /// <param name="runId">The run.</param>
    /// <param name="eventName">The event name.</param>
    /// <param name="payload">The payload (serialized to JSON).</param>
    /// <param name="eventId">An idempotency key: a second event with the same id is ignored. Null for a new id.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>True when delivered; false when the run does not exist or is final, or the id was seen before.</returns>
    public Task<bool> RaiseEventAsync(string runId, string eventName, object? payload, string? eventId = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(eventName);
        var id = "event-" + (eventId ?? Guid.CreateVersion7().ToString("N"));
        if (id.Length > 200 || !id.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.'))
        {
            throw new ArgumentException("The event id must be at most 190 characters of letters, digits, '-', '_' and '.'.", nameof(eventId));
        }

        return _core.DeliverAsync(runId, new InboxItem
        {
            Id = id,
            Kind = InboxItemKind.Event,
            Name = eventName,
            Payload = payload is null ? "null" : _core.Serialize(payload, payload.GetType()),
            Timestamp = _core.Now,
        }, wake: true, cancellationToken);
    }

    /// <summary>Requests cancellation: the run goes to Cancelling, its running tasks see their tokens cancelled, its waits are released, and it ends Cancelled. Subflows are cancelled too.</summary>
    /// <param name="runId">The run.</param>
    /// <param name="reason">Why, for the state history.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>True when requested; false when the run does not exist, is final or was already being cancelled.</returns>
    public Task<bool> RequestCancelAsync(string runId, string? reason = null, CancellationToken cancellationToken = default) =>
        _core.Lifecycle.RequestCancelAsync(runId, reason, cancellationToken);

    /// <summary>Polls a run until it reaches a final state.</summary>
    /// <param name="runId">The run.</param>
    /// <param name="pollInterval">How often to look; null for 50 ms.</param>
    /// <param name="cancellationToken">Gives up.</param>
    /// <returns>The final run.</returns>
    public async Task<FlowRunRecord> WaitForRunAsync(string runId, TimeSpan? pollInterval = null, CancellationToken cancellationToken = default)
    {
        while (true)
        {
            var run = await GetRunAsync(runId, cancellationToken).ConfigureAwait(false)
                ?? throw new FlowException($"Run {runId} does not exist.");
            if (run.State.IsFinal())
            {
                return run;
            }

            await Task.Delay(pollInterval ?? TimeSpan.FromMilliseconds(50), cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Processes one work item taken from a queue and settles it: completes it when handled, gives it back
    /// when it must wait, dead-letters it when it cannot be processed (unparseable, or delivered more than
    /// <see cref="FlowEngineOptions.MaxDequeueCount"/> times). An unexpected error leaves it to be delivered again.
    /// </summary>
    /// <param name="item">The item.</param>
    /// <param name="cancellationToken">Stops processing (host shutdown); the item is then delivered again later.</param>
    /// <returns>A task.</returns>
    public async Task ProcessAsync(LeasedWorkItem item, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(item);
        if (item.Item is null)
        {
            await DeadLetterAsync(item, "The message is not a Flow work item (expected JSON with kind and runId).", cancellationToken).ConfigureAwait(false);
            return;
        }

        try
        {
            await ProcessCoreAsync(item, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            Logs.WorkItemFailed(_core.Logger, e, item.MessageId, item.Queue);
            try
            {
                await _core.Queue.AbandonAsync(item, TimeSpan.FromSeconds(Math.Min(30, Math.Pow(2, item.DequeueCount))), cancellationToken).ConfigureAwait(false);
            }
            catch (Exception abandon) when (abandon is not OutOfMemoryException and not OperationCanceledException)
            {
                Logs.WorkItemFailed(_core.Logger, abandon, item.MessageId, item.Queue);
            }
        }
    }

    /// <summary>
    /// Processes one work item whose delivery a host owns (the Azure Functions queue trigger): the same as
    /// <see cref="ProcessAsync"/>, except that an unexpected error propagates, so the host fails the invocation and
    /// delivers the message again (and finally moves it to its poison queue). Use it with a <see cref="DeliveredWorkQueue"/>.
    /// </summary>
    /// <param name="item">The item (see <see cref="DeliveredWorkQueue.Wrap"/>).</param>
    /// <param name="cancellationToken">Stops processing.</param>
    /// <returns>A task.</returns>
    /// <exception cref="DeadLetterRequestedException">The item cannot be processed; the host should not deliver it again.</exception>
    public Task ProcessDeliveredAsync(LeasedWorkItem item, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(item);
        if (item.Item is null)
        {
            throw new DeadLetterRequestedException("The message is not a Flow work item (expected JSON with kind and runId).");
        }

        return ProcessCoreAsync(item, cancellationToken);
    }

    private async Task ProcessCoreAsync(LeasedWorkItem item, CancellationToken cancellationToken)
    {
        using var activity = FlowTelemetry.StartWorkItem(item.Item!);
        if (item.DequeueCount > _core.Options.MaxDequeueCount && await DiedProcessingAsync(item.Item!, cancellationToken).ConfigureAwait(false))
        {
            await GiveUpAsync(item, cancellationToken).ConfigureAwait(false);
            return;
        }

        {
            switch (item.Item!.Kind)
            {
                case WorkItem.RunKind:
                    var result = await new Episode(_core, item).RunAsync(cancellationToken).ConfigureAwait(false);
                    if (result.Disposition == EpisodeDisposition.Abandon)
                    {
                        await _core.Queue.AbandonAsync(result.Message, EngineCore.Clamp(result.RetryAfter), cancellationToken).ConfigureAwait(false);
                    }
                    else
                    {
                        await _core.Queue.CompleteAsync(result.Message, cancellationToken).ConfigureAwait(false);
                    }

                    break;
                case WorkItem.TaskKind:
                    await new TaskExecutor(_core).ExecuteAsync(item, cancellationToken).ConfigureAwait(false);
                    break;
                default:
                    await DeadLetterAsync(item, $"Unknown work item kind '{item.Item.Kind}' (expected run or task).", cancellationToken).ConfigureAwait(false);
                    break;
            }
        }
    }

    /// <summary>
    /// Whether an item's many deliveries mean that processing it keeps failing: always for a task item; for a run item
    /// only when an episode took the run's lease and died holding it (the lease was left to expire). A run item is also
    /// delivered again each time it is deferred while another episode holds the lease, and those deliveries are no failures.
    /// </summary>
    private async Task<bool> DiedProcessingAsync(WorkItem work, CancellationToken cancellationToken)
    {
        if (work.Kind != WorkItem.RunKind)
        {
            return true;
        }

        var run = (await _core.Store.GetRunAsync(work.RunId, cancellationToken).ConfigureAwait(false))?.Record;
        return run is not null && RunLifecycle.WasAbandoned(run, _core.Now);
    }

    private async Task DeadLetterAsync(LeasedWorkItem item, string reason, CancellationToken cancellationToken)
    {
        Logs.DeadLettered(_core.Logger, item.MessageId, item.Queue, reason);
        await _core.Queue.DeadLetterAsync(item, reason, cancellationToken).ConfigureAwait(false);
    }

    private async Task GiveUpAsync(LeasedWorkItem item, CancellationToken cancellationToken)
    {
        var work = item.Item!;
        var reason = $"Delivered {item.DequeueCount} times without completing (limit {_core.Options.MaxDequeueCount}); the worker processing it keeps dying or failing.";
        if (work.Kind == WorkItem.TaskKind)
        {
            await _core.DeliverAsync(work.RunId, new InboxItem
            {
                Id = $"task-{work.RunAttempt}-{work.CallId}",
                Kind = InboxItemKind.TaskFailed,
                RunAttempt = work.RunAttempt,
                CallId = work.CallId,
                Attempt = work.Attempt,
                Name = work.Name,
                Failure = new FailureInfo("Flow.TaskCrashed", reason),
                Timestamp = _core.Now,
            }, wake: true, cancellationToken).ConfigureAwait(false);
        }
        else if (await _core.Lifecycle.CrashAsync(work.RunId, reason, cancellationToken).ConfigureAwait(false) is { } crashed)
        {
            await _core.NotifyParentAsync(crashed, cancellationToken).ConfigureAwait(false);
        }

        await DeadLetterAsync(item, reason, cancellationToken).ConfigureAwait(false);
    }
}

/// <summary>No flow with the requested name is registered.</summary>
public sealed class FlowNotFoundException : FlowException
{
    /// <summary>Creates the exception.</summary>
    public FlowNotFoundException()
    {
    }

    /// <summary>Creates the exception.</summary>
    /// <param name="message">What went wrong.</param>
    public FlowNotFoundException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception.</summary>
    /// <param name="message">What went wrong.</param>
    /// <param name="innerException">The cause.</param>
    public FlowNotFoundException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates the exception for a name.</summary>
    /// <param name="flowName">The unknown name.</param>
    /// <param name="registered">The registered names.</param>
    public FlowNotFoundException(string flowName, IEnumerable<string> registered)
        : base($"No flow named '{flowName}' is registered (registered: {string.Join(", ", (registered ?? []).Order(StringComparer.Ordinal))}).") => FlowName = flowName;

    /// <summary>The unknown name.</summary>
    public string? FlowName { get; }
}
