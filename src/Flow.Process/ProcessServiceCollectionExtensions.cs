using Flow.Engine;
using Flow.ControlPlane;
using Flow.Engine.Storage;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Flow.Process;

/// <summary>Registers process pool support.</summary>
public static class ProcessServiceCollectionExtensions
{
    /// <summary>
    /// Registers <see cref="RunTokens"/> and <see cref="ProcessRunExecutor"/> (needs <see cref="IFlowStore"/>, <see cref="IWorkQueue"/>,
    /// <see cref="IControlStore"/> and the engine options; <see cref="IRunAdmission"/> when registered), with options from
    /// <c>Flow:ProcessWorker</c>; with <paramref name="hostWorker"/>, also the <see cref="ProcessWorker"/> host.
    /// </summary>
    /// <param name="services">The services.</param>
    /// <param name="configuration">The configuration (options, and <c>Flow:Secrets</c> for secret references).</param>
    /// <param name="hostWorker">Whether to run the polling <see cref="ProcessWorker"/>.</param>
    /// <param name="configure">Changes the options after binding.</param>
    /// <returns>The services.</returns>
    public static IServiceCollection AddFlowProcess(this IServiceCollection services, IConfiguration? configuration, bool hostWorker, Action<ProcessWorkerOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        var options = services.AddOptions<ProcessWorkerOptions>();
        if (configuration is not null)
        {
            options.Bind(configuration.GetSection(ProcessWorkerOptions.SectionName));
        }

        if (configure is not null)
        {
            options.Configure(configure);
        }

        options.Validate(o =>
        {
            o.Validate();
            return true;
        });
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton(sp => new RunTokens(sp.GetRequiredService<IControlStore>(), sp.GetRequiredService<TimeProvider>()));
        services.TryAddSingleton(sp => new ProcessRunExecutor(
            sp.GetRequiredService<IFlowStore>(),
            sp.GetRequiredService<IWorkQueue>(),
            sp.GetRequiredService<IControlStore>(),
            sp.GetService<IRunAdmission>(),
            sp.GetRequiredService<RunTokens>(),
            sp.GetRequiredService<IOptions<FlowEngineOptions>>(),
            sp.GetRequiredService<IOptions<ProcessWorkerOptions>>(),
            configuration,
            sp.GetRequiredService<TimeProvider>(),
            sp.GetService<ILogger<ProcessRunExecutor>>()));
        if (hostWorker)
        {
            services.AddHostedService<ProcessWorker>();
        }

        return services;
    }
}
