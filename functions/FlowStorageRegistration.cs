using Flow.Storage.Azure;
using Flow.Storage.Postgres;

namespace Flow.Functions;

/// <summary>Chooses the storage backend by configuration: <c>Flow:Storage:Backend</c> = <c>Azure</c> (default) or <c>Postgres</c>.</summary>
internal static class FlowStorageRegistration
{
    /// <summary>The setting that chooses the backend.</summary>
    public const string BackendSetting = "Flow:Storage:Backend";

    /// <summary>
    /// Registers the store and work queue of the configured backend: Azure Storage (<c>AzureWebJobsStorage</c>,
    /// <c>Flow:Storage:Azure</c>) or PostgreSQL (<c>ConnectionStrings:Flow</c>, <c>Flow:Storage:Postgres</c>; the schema is
    /// migrated at start). With PostgreSQL nothing in the app touches Azure.
    /// </summary>
    /// <param name="services">The services.</param>
    /// <param name="configuration">The configuration.</param>
    /// <returns>The backend's name, for the health report and logs.</returns>
    /// <exception cref="InvalidOperationException">The setting names no known backend.</exception>
    public static string AddFlowStorage(this IServiceCollection services, IConfiguration configuration)
    {
        var backend = configuration[BackendSetting] is { Length: > 0 } value ? value.Trim() : "Azure";
        if (string.Equals(backend, "Azure", StringComparison.OrdinalIgnoreCase))
        {
            services.AddFlowAzureStorage(configuration);
            return "Azure";
        }

        if (string.Equals(backend, "Postgres", StringComparison.OrdinalIgnoreCase) || string.Equals(backend, "PostgreSQL", StringComparison.OrdinalIgnoreCase))
        {
            services.AddFlowPostgresStorage(configuration);
            return "Postgres";
        }

        throw new InvalidOperationException($"{BackendSetting} is '{backend}': use Azure (Azure Storage, the default) or Postgres (PostgreSQL).");
    }
}
