using Flow.Engine.Storage;
using Flow.Sdk;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Flow.Engine;

/// <summary>Registers the engine and the worker host.</summary>
public static class FlowEngineServiceCollectionExtensions
{
    /// <summary>
    /// Registers <see cref="FlowEngine"/> (a storage backend must be registered too: an <see cref="IFlowStore"/>
    /// and an <see cref="IWorkQueue"/>), binding <see cref="FlowEngineOptions"/> from <c>Flow:Engine</c> when a configuration is given.
    /// </summary>
    /// <param name="builder">The flow builder from <c>AddFlow</c>.</param>
    /// <param name="configuration">The configuration, or null.</param>
    /// <param name="configure">Further option changes, or null.</param>
    /// <returns>The builder.</returns>
    public static IFlowBuilder AddEngine(this IFlowBuilder builder, IConfiguration? configuration = null, Action<FlowEngineOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var options = builder.Services.AddOptions<FlowEngineOptions>();
        if (configuration is not null)
        {
            options.Bind(configuration.GetSection(FlowEngineOptions.SectionName));
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
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.TryAddSingleton(sp => new FlowEngine(
            sp.GetRequiredService<IFlowStore>(),
            sp.GetRequiredService<IWorkQueue>(),
            sp.GetRequiredService<FlowRegistry>(),
            sp,
            sp.GetRequiredService<IOptions<FlowEngineOptions>>(),
            sp.GetRequiredService<TimeProvider>(),
            sp.GetService<ILoggerFactory>()));
        return builder;
    }

    /// <summary>Registers the <see cref="FlowWorker"/> hosted service, binding <see cref="FlowWorkerOptions"/> from <c>Flow:Worker</c> when a configuration is given.</summary>
    /// <param name="builder">The flow builder.</param>
    /// <param name="configuration">The configuration, or null.</param>
    /// <param name="configure">Further option changes, or null.</param>
    /// <returns>The builder.</returns>
    public static IFlowBuilder AddWorker(this IFlowBuilder builder, IConfiguration? configuration = null, Action<FlowWorkerOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var options = builder.Services.AddOptions<FlowWorkerOptions>();
        if (configuration is not null)
        {
            options.Bind(configuration.GetSection(FlowWorkerOptions.SectionName));
        }

        if (configure is not null)
        {
            options.Configure(configure);
        }

        builder.Services.AddHostedService<FlowWorker>();
        return builder;
    }
}
