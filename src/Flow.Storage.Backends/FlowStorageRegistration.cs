using Flow.Storage.Azure;
using Flow.Storage.Postgres;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Flow.Storage.Backends;

/// <summary>Chooses the storage backend by configuration: <c>Flow:Storage:Backend</c> = <c>Azure</c> (default) or <c>Postgres</c>.</summary>
public static class FlowStorageRegistration
{
    /// <summary>The setting that chooses the backend.</summary>
    public const string BackendSetting = "Flow:Storage:Backend";

    /// <summary>
    /// Registers the state store, control store and work queue of the configured backend: Azure Storage
    /// (<c>AzureWebJobsStorage</c>, <c>Flow:Storage:Azure</c>; the connection setting is checked now) or PostgreSQL
    /// (<c>ConnectionStrings:Flow</c>, <c>Flow:Storage:Postgres</c>; the schema is migrated when the app starts). With
    /// PostgreSQL nothing in the app touches Azure.
    /// </summary>
    /// <param name="services">The services.</param>
    /// <param name="configuration">The configuration.</param>
    /// <param name="functionsMode">Whether the app runs under the Functions host, whose queue triggers read Azure queues.</param>
    /// <returns>The backend's name.</returns>
    /// <exception cref="InvalidOperationException">The setting names no known backend, or PostgreSQL under the Functions host.</exception>
    /// <exception cref="StorageConfigurationException">The Azure storage setting is missing or unusable.</exception>
    public static string AddFlowStorage(this IServiceCollection services, IConfiguration configuration, bool functionsMode)
    {
        var backend = configuration[BackendSetting] is { Length: > 0 } value ? value.Trim() : "Azure";
        if (string.Equals(backend, "Azure", StringComparison.OrdinalIgnoreCase))
        {
            StorageConnectionFactory.FromConfiguration(configuration, configuration.GetSection(AzureFlowStorageOptions.SectionName).Get<AzureFlowStorageOptions>()?.ConnectionSetting ?? StorageConnectionFactory.DefaultSettingName);
            services.AddFlowAzureStorage(configuration);
            return "Azure";
        }

        if (string.Equals(backend, "Postgres", StringComparison.OrdinalIgnoreCase) || string.Equals(backend, "PostgreSQL", StringComparison.OrdinalIgnoreCase))
        {
            if (functionsMode)
            {
                throw new InvalidOperationException($"{BackendSetting}=Postgres runs standalone (dotnet Flow.Functions.dll, roles api, scheduler, worker): the Functions host's queue triggers read Azure Storage queues.");
            }

            services.AddFlowPostgresStorage(configuration);
            return "Postgres";
        }

        throw new InvalidOperationException($"{BackendSetting} is '{backend}': use Azure (Azure Storage, the default) or Postgres (PostgreSQL).");
    }
}
