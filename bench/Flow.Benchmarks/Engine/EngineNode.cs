using Flow.Engine;
using Flow.Engine.Storage;
using Flow.Sdk;
using Flow.LocalServices;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Flow.Benchmarks.Engine;

/// <summary>
/// One engine in this process on one backend, wired the way an app wires it (<c>AddFlow().AddEngine().AddWorker()</c>,
/// default options), with the counting store and queue; optionally running the <see cref="FlowWorker"/>.
/// </summary>
internal sealed class EngineNode : IAsyncDisposable
{
    private readonly ServiceProvider _services;
    private readonly IHostedService? _worker;

    private EngineNode(ServiceProvider services, BenchStorage storage, IHostedService? worker)
    {
        _services = services;
        _worker = worker;
        Storage = storage;
        Engine = services.GetRequiredService<FlowEngine>();
    }

    public BenchStorage Storage { get; }

    public FlowEngine Engine { get; }

    /// <summary>Builds the engine, creates the tables and queues, and with <paramref name="runWorker"/> starts the worker and waits for its first poll.</summary>
    public static async Task<EngineNode> StartAsync(BackendSpec backend, string workerId, bool runWorker, CancellationToken cancellationToken)
    {
        var storage = BenchStorage.Create(backend);
        var services = new ServiceCollection();
        services.AddSingleton<IFlowStore>(storage.Store);
        services.AddSingleton<IWorkQueue>(storage.Queue);
        services.AddSingleton<ILoggerFactory>(new CapturingLoggerFactory(LogLevel.Warning, Console.Error, workerId)); // says why, if something goes wrong
        var flow = services.AddFlow(BenchFlows.Register).AddEngine(configure: o => o.WorkerId = workerId);
        if (runWorker)
        {
            flow.AddWorker();
        }

        var provider = services.BuildServiceProvider();
        IHostedService? worker = null;
        try
        {
            await provider.GetRequiredService<FlowEngine>().InitializeAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
            if (runWorker)
            {
                worker = provider.GetServices<IHostedService>().OfType<FlowWorker>().Single();
                await worker.StartAsync(cancellationToken).ConfigureAwait(false);
                await storage.Queue.FirstPoll.WaitAsync(TimeSpan.FromSeconds(30), cancellationToken).ConfigureAwait(false);
            }
        }
        catch
        {
            await provider.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        return new EngineNode(provider, storage, worker);
    }

    /// <summary>Stops the worker (what it holds is cancelled) and the services.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_worker is not null)
        {
            await _worker.StopAsync(CancellationToken.None).ConfigureAwait(false);
        }

        await _services.DisposeAsync().ConfigureAwait(false);
    }
}
