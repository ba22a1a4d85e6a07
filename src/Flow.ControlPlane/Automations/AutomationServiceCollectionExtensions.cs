using Flow.Sdk;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Flow.ControlPlane.Automations;

/// <summary>Registers automations.</summary>
public static class AutomationServiceCollectionExtensions
{
    /// <summary>
    /// Adds the automation service, the evaluator, the dispatcher and the action runner, with <see cref="AutomationOptions"/>
    /// bound from <c>Flow:Automations</c>. The evaluator needs an <see cref="Engine.Events.IEventStore"/> from the storage registration.
    /// </summary>
    /// <param name="builder">The Flow builder.</param>
    /// <param name="configuration">The configuration, or null for defaults.</param>
    /// <returns>The builder.</returns>
    public static IFlowBuilder AddAutomations(this IFlowBuilder builder, IConfiguration? configuration = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var options = builder.Services.AddOptions<AutomationOptions>();
        if (configuration is not null)
        {
            options.Bind(configuration.GetSection(AutomationOptions.SectionName));
        }

        options.Validate(o =>
        {
            o.Validate();
            return true;
        });
        builder.Services.TryAddSingleton<AutomationService>();
        builder.Services.TryAddSingleton<AutomationActions>();
        builder.Services.TryAddSingleton<AutomationDispatcher>();
        builder.Services.TryAddSingleton<AutomationEvaluator>();
        return builder;
    }
}
