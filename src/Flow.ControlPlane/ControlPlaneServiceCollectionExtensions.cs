using Flow.ControlPlane.Automations;
using Flow.ControlPlane.Secrets;
using Flow.Engine;
using Flow.Sdk;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Flow.ControlPlane;

/// <summary>Registers the control plane.</summary>
public static class ControlPlaneServiceCollectionExtensions
{
    /// <summary>
    /// Adds the deployment service, the scheduler, the run-request handler and the admission rules (deployment and pool
    /// pauses, concurrency limits) and the named secrets (<see cref="ConfigurationSecrets"/>), with <see cref="ControlPlaneOptions"/> bound from <c>Flow:ControlPlane</c>. The storage
    /// registration must provide an <see cref="IControlStore"/>.
    /// </summary>
    /// <param name="builder">The Flow builder.</param>
    /// <param name="configuration">The configuration, or null for defaults.</param>
    /// <returns>The builder.</returns>
    public static IFlowBuilder AddControlPlane(this IFlowBuilder builder, IConfiguration? configuration = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var options = builder.Services.AddOptions<ControlPlaneOptions>();
        if (configuration is not null)
        {
            options.Bind(configuration.GetSection(ControlPlaneOptions.SectionName));
        }

        options.Validate(o =>
        {
            o.Validate();
            return true;
        });
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.TryAddSingleton<DeploymentService>();
        builder.Services.TryAddSingleton<DeploymentScheduler>();
        builder.Services.TryAddSingleton<RunRequestHandler>();
        builder.Services.TryAddSingleton<IRunAdmission, RunAdmission>();
        builder.AddAutomations(configuration);
        builder.Services.TryAddSingleton<INamedSecrets>(sp => new ConfigurationSecrets(sp.GetService<IConfiguration>() ?? configuration ?? new ConfigurationBuilder().Build()));
        return builder;
    }
}
