using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Flow.ControlPlane.Webhooks;

/// <summary>Registers incoming webhooks.</summary>
public static class IncomingWebhookServiceCollectionExtensions
{
    /// <summary>
    /// Adds the <see cref="IncomingWebhookReceiver"/> with the definitions of <c>Flow:Webhooks:{name}</c>, checked now: a bad
    /// definition fails the start and names the setting. Needs an <c>IEventStore</c> and the named secrets (registered by
    /// the storage and <see cref="ControlPlaneServiceCollectionExtensions.AddControlPlane"/>).
    /// </summary>
    /// <param name="services">The services.</param>
    /// <param name="configuration">The configuration.</param>
    /// <returns>The services.</returns>
    /// <exception cref="InvalidOperationException">A definition is unusable.</exception>
    public static IServiceCollection AddIncomingWebhooks(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var definitions = new IncomingWebhookOptions
        {
            Webhooks = configuration.GetSection(IncomingWebhookOptions.SectionName).Get<Dictionary<string, IncomingWebhookDefinition>>() ?? [],
        };
        definitions.Validate();
        services.AddOptions<IncomingWebhookOptions>().Configure(o => o.Webhooks = definitions.Webhooks);
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<IncomingWebhookReceiver>();
        return services;
    }
}
