using Flow.ControlPlane.Automations;
using Flow.Engine;
using Flow.Engine.Events;
using Flow.Engine.Storage;
using Flow.Engine.Storage.InMemory;
using Flow.Sdk;
using Flow.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Flow.ControlPlane.Tests;

/// <summary>The control plane on the in-memory stores with a fake clock.</summary>
internal sealed class ControlPlaneHarness : IAsyncDisposable
{
    private readonly ServiceProvider _services;

    public ControlPlaneHarness(DateTimeOffset start, Action<ControlPlaneOptions>? configure = null, IReadOnlyDictionary<string, string?>? settings = null, IControlStore? controlStore = null, IEventStore? events = null)
    {
        Clock = new FakeClock(start);
        var services = new ServiceCollection();
        services.AddSingleton<TimeProvider>(Clock);
        services.AddSingleton<IFlowStore>(new InMemoryFlowStore());
        services.AddSingleton<IWorkQueue>(new InMemoryWorkQueue(Clock));
        // The control store writes its events to the event store automations read, as the durable stores do.
        var eventStore = events ?? new InMemoryEventStore();
        services.AddSingleton(controlStore ?? new InMemoryControlStore(eventStore as InMemoryEventStore, Clock));
        services.AddSingleton(eventStore);
        services.AddSingleton<IConfiguration>(new ConfigurationBuilder().AddInMemoryCollection(settings ?? new Dictionary<string, string?>()).Build());
        services.AddFlow(r => r.AddFlow<Input, string>("report", (ctx, input) => Task.FromResult($"{input.Region}/{input.Day}")))
            .AddEngine()
            .AddControlPlane();
        if (configure is not null)
        {
            services.Configure(configure);
        }

        _services = services.BuildServiceProvider();
    }

    public FakeClock Clock { get; }

    public DeploymentService Deployments => _services.GetRequiredService<DeploymentService>();

    public DeploymentScheduler Scheduler => _services.GetRequiredService<DeploymentScheduler>();

    public FlowEngine Engine => _services.GetRequiredService<FlowEngine>();

    public IRunAdmission Admission => _services.GetRequiredService<IRunAdmission>();

    public IControlStore Control => _services.GetRequiredService<IControlStore>();

    public IEventStore Events => _services.GetRequiredService<IEventStore>();

    public AutomationService Automations => _services.GetRequiredService<AutomationService>();

    public AutomationEvaluator Evaluator => _services.GetRequiredService<AutomationEvaluator>();

    public AutomationDispatcher Dispatcher => _services.GetRequiredService<AutomationDispatcher>();

    public async Task InitializeAsync(CancellationToken cancellationToken)
    {
        await Engine.InitializeAsync(null, cancellationToken);
        await Deployments.EnsureDefaultPoolAsync(cancellationToken);
    }

    public async Task<IReadOnlyList<FlowRunRecord>> RunsAsync(string deployment, CancellationToken cancellationToken) =>
        (await Engine.Store.ListRunsAsync(new RunQuery { Deployment = deployment, PageSize = 1000 }, cancellationToken)).Runs;

    public ValueTask DisposeAsync() => _services.DisposeAsync();

    public sealed record Input(string Region, string Day = "today");
}
