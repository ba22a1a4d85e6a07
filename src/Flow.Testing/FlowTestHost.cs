using Flow.Engine;
using Flow.Engine.Storage;
using Flow.Engine.Storage.InMemory;
using Flow.Sdk;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Flow.Testing;

/// <summary>Settings of a <see cref="FlowTestHost"/>.</summary>
public sealed class FlowTestHostOptions
{
    /// <summary>Registers services the flows and tasks need.</summary>
    public Action<IServiceCollection>? ConfigureServices { get; set; }

    /// <summary>The fake clock's starting time; null for 2030-01-01T00:00:00Z.</summary>
    public DateTimeOffset? StartTime { get; set; }

    /// <summary>Engine options to change (lease duration, inline retry threshold).</summary>
    public Action<FlowEngineOptions>? ConfigureEngine { get; set; }

    /// <summary>How long the host waits, in real time, for an episode to make progress before it moves the clock to the next timer. Default 10 ms. A task body that does real work for longer than this while the flow waits on it sees the fake clock move on (its timeout may fire early): keep task bodies in such tests quick, or raise this.</summary>
    public TimeSpan IdleQuantum { get; set; } = TimeSpan.FromMilliseconds(10);

    /// <summary>A logger factory for the engine; null for none.</summary>
    public ILoggerFactory? LoggerFactory { get; set; }

    /// <summary>
    /// A real backend to run on instead of the in-memory store (e.g. Azure or PostgreSQL), given the
    /// host's fake clock. The work queue is wrapped so delayed items follow the fake clock. Null: in memory.
    /// </summary>
    public Func<FakeClock, (IFlowStore Store, IWorkQueue Queue)>? Storage { get; set; }
}

/// <summary>
/// Runs flows in-process on the in-memory store with a fake clock: sleeps, retry delays and timeouts
/// take no real time, because whenever the flow is idle the host moves the clock to the next thing that
/// is due. For users' own tests:
/// <code>
/// await using var host = FlowTestHost.Create(r =&gt; r.AddFlow&lt;EtlFlow&gt;());
/// var run = await host.RunAsync("etl", new { Day = "2030-01-01" });
/// Assert.Equal(RunState.Completed, run.State);
/// </code>
/// </summary>
public sealed class FlowTestHost : IAsyncDisposable
{
    private readonly ServiceProvider _services;
    private readonly FlowTestHostOptions _options;

    private FlowTestHost(ServiceProvider services, FlowTestHostOptions options)
    {
        _services = services;
        _options = options;
        Engine = services.GetRequiredService<FlowEngine>();
        Clock = services.GetRequiredService<FakeClock>();
        Store = services.GetRequiredService<IFlowStore>();
        Queue = services.GetRequiredService<IWorkQueue>();
    }

    /// <summary>The engine.</summary>
    public FlowEngine Engine { get; }

    /// <summary>The fake clock.</summary>
    public FakeClock Clock { get; }

    /// <summary>The store (in memory unless <see cref="FlowTestHostOptions.Storage"/> gave another).</summary>
    public IFlowStore Store { get; }

    /// <summary>The work queue the engine uses.</summary>
    public IWorkQueue Queue { get; }

    /// <summary>The services.</summary>
    public IServiceProvider Services => _services;

    /// <summary>Creates a host.</summary>
    /// <param name="register">Registers the flows and tasks under test.</param>
    /// <param name="configure">Changes the host's settings, or null.</param>
    /// <returns>The host.</returns>
    public static FlowTestHost Create(Action<FlowRegistry> register, Action<FlowTestHostOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(register);
        var options = new FlowTestHostOptions();
        configure?.Invoke(options);
        var services = new ServiceCollection();
        var clock = new FakeClock(options.StartTime);
        services.AddSingleton(clock);
        services.AddSingleton<TimeProvider>(clock);
        if (options.Storage is { } storage)
        {
            var (store, queue) = storage(clock);
            services.AddSingleton(store);
            services.AddSingleton<IWorkQueue>(new ClockAlignedWorkQueue(queue, clock));
        }
        else
        {
            var store = new InMemoryFlowStore();
            services.AddSingleton(store);
            services.AddSingleton<IFlowStore>(store);
            services.AddSingleton<Flow.Engine.Events.IEventStore>(store.Events);
            var queue = new InMemoryWorkQueue(clock);
            services.AddSingleton(queue);
            services.AddSingleton<IWorkQueue>(queue);
        }

        if (options.LoggerFactory is not null)
        {
            services.AddSingleton(options.LoggerFactory);
        }

        options.ConfigureServices?.Invoke(services);
        services.AddFlow(register).AddEngine(configure: e =>
        {
            e.WorkerId = "test-host";
            e.LeaseDuration = TimeSpan.FromMinutes(5);
            options.ConfigureEngine?.Invoke(e);
        });
        var provider = services.BuildServiceProvider();
        _ = provider.GetRequiredService<IOptions<FlowEngineOptions>>().Value;
        return new FlowTestHost(provider, options);
    }

    /// <summary>Starts a run and drives it to a final state.</summary>
    /// <param name="flowName">The flow.</param>
    /// <param name="parameters">The parameters.</param>
    /// <param name="options">Start options.</param>
    /// <param name="cancellationToken">Gives up.</param>
    /// <returns>The final run.</returns>
    public async Task<FlowRunRecord> RunAsync(string flowName, object? parameters = null, StartRunOptions? options = null, CancellationToken cancellationToken = default)
    {
        var run = await StartAsync(flowName, parameters, options, cancellationToken).ConfigureAwait(false);
        return await DriveAsync(run.RunId, null, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Starts a run without driving it.</summary>
    /// <param name="flowName">The flow.</param>
    /// <param name="parameters">The parameters.</param>
    /// <param name="options">Start options.</param>
    /// <param name="cancellationToken">Gives up.</param>
    /// <returns>The new run.</returns>
    public async Task<FlowRunRecord> StartAsync(string flowName, object? parameters = null, StartRunOptions? options = null, CancellationToken cancellationToken = default)
    {
        await Engine.InitializeAsync(null, cancellationToken).ConfigureAwait(false);
        return await Engine.StartRunAsync(flowName, parameters, options, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Processes work items until the run is final or <paramref name="until"/> holds, moving the clock
    /// to the next due item or timer whenever nothing else can happen.
    /// </summary>
    /// <param name="runId">The run.</param>
    /// <param name="until">Stops early when it returns true (e.g. <c>r =&gt; r.State == RunState.Paused</c>), or null.</param>
    /// <param name="cancellationToken">Gives up.</param>
    /// <returns>The run as it stands.</returns>
    /// <exception cref="InvalidOperationException">The run is not final and nothing is scheduled that could move it (it waits for an event the test has not sent).</exception>
    public async Task<FlowRunRecord> DriveAsync(string runId, Func<FlowRunRecord, bool>? until = null, CancellationToken cancellationToken = default)
    {
        var queues = new[] { FlowEngine.RunQueueName(Engine.Options.DefaultPool), FlowEngine.TaskQueueName(Engine.Options.DefaultPool) };
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var run = await Engine.GetRunAsync(runId, cancellationToken).ConfigureAwait(false)
                ?? throw new InvalidOperationException($"Run {runId} does not exist.");
            if (run.State.IsFinal() || (until?.Invoke(run) ?? false))
            {
                return run;
            }

            var items = new List<LeasedWorkItem>();
            foreach (var queue in queues)
            {
                items.AddRange(await Queue.DequeueAsync(queue, 32, Engine.Options.LeaseDuration, cancellationToken).ConfigureAwait(false));
            }

            if (items.Count > 0)
            {
                var all = Task.WhenAll(items.Select(i => Task.Run(() => Engine.ProcessAsync(i, cancellationToken), cancellationToken)));
                while (!all.IsCompleted)
                {
                    var finished = await Task.WhenAny(all, Task.Delay(_options.IdleQuantum, cancellationToken)).ConfigureAwait(false);
                    if (finished != all && Clock.NextTimerDue is { } due)
                    {
                        Clock.SetUtcNow(due > Clock.GetUtcNow() ? due : Clock.GetUtcNow());
                    }
                }

                await all.ConfigureAwait(false);
                continue;
            }

            var next = queues.Select(NextVisibleTime).Where(t => t is not null).Min();
            if (next is { } visible)
            {
                if (visible > Clock.GetUtcNow())
                {
                    Clock.SetUtcNow(visible);
                }
                else if (Queue is ClockAlignedWorkQueue)
                {
                    // Due on the fake clock, but put back on the real queue for a moment: look again shortly.
                    await Task.Delay(TimeSpan.FromMilliseconds(10), cancellationToken).ConfigureAwait(false);
                }

                continue;
            }

            throw new InvalidOperationException($"Run {runId} is {run.State} ({run.StateMessage}) and nothing is scheduled that could move it on: it waits for something only the test can send, such as an event.");
        }
    }

    private DateTimeOffset? NextVisibleTime(string queue) => Queue switch
    {
        InMemoryWorkQueue memory => memory.GetNextVisibleTime(queue),
        ClockAlignedWorkQueue aligned => aligned.GetNextVisibleTime(queue),
        _ => null,
    };

    /// <summary>Sends an event to a run.</summary>
    /// <param name="runId">The run.</param>
    /// <param name="eventName">The event name.</param>
    /// <param name="payload">The payload.</param>
    /// <param name="cancellationToken">Gives up.</param>
    /// <returns>Whether it was delivered.</returns>
    public Task<bool> RaiseEventAsync(string runId, string eventName, object? payload, CancellationToken cancellationToken = default) =>
        Engine.RaiseEventAsync(runId, eventName, payload, null, cancellationToken);

    /// <summary>Requests cancellation of a run.</summary>
    /// <param name="runId">The run.</param>
    /// <param name="cancellationToken">Gives up.</param>
    /// <returns>Whether it was requested.</returns>
    public Task<bool> CancelAsync(string runId, CancellationToken cancellationToken = default) =>
        Engine.RequestCancelAsync(runId, null, cancellationToken);

    /// <summary>Reads a completed run's result.</summary>
    /// <typeparam name="T">The result type.</typeparam>
    /// <param name="run">The run.</param>
    /// <returns>The result.</returns>
    public T? GetResult<T>(FlowRunRecord run)
    {
        ArgumentNullException.ThrowIfNull(run);
        return run.Result is null ? default : System.Text.Json.JsonSerializer.Deserialize<T>(run.Result, Engine.Registry.SerializerOptions);
    }

    /// <summary>Reads the journal of a run's current attempt.</summary>
    /// <param name="runId">The run.</param>
    /// <param name="cancellationToken">Gives up.</param>
    /// <returns>The events.</returns>
    public async Task<IReadOnlyList<JournalEvent>> GetJournalAsync(string runId, CancellationToken cancellationToken = default)
    {
        var run = await Engine.GetRunAsync(runId, cancellationToken).ConfigureAwait(false) ?? throw new InvalidOperationException($"Run {runId} does not exist.");
        return (await Store.LoadJournalAsync(run, cancellationToken).ConfigureAwait(false)).Events;
    }

    /// <inheritdoc />
    public ValueTask DisposeAsync() => _services.DisposeAsync();
}
