using Flow.ControlPlane;
using Flow.Engine.Events;
using Flow.Engine.Storage;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Flow.Storage.Postgres;

/// <summary>Registers Flow's PostgreSQL store and work queue.</summary>
public static class FlowPostgresStorageServiceCollectionExtensions
{
    /// <summary>
    /// Registers <see cref="PostgresFlowStore"/> as <see cref="IFlowStore"/>, <see cref="PostgresEventStore"/> as <see cref="IEventStore"/> (the flow
    /// store writes run events in its commits), <see cref="PostgresControlStore"/> as
    /// <see cref="IControlStore"/> and <see cref="PostgresWorkQueue"/> as <see cref="IWorkQueue"/> on one <see cref="NpgsqlDataSource"/> (a singleton), with <see cref="PostgresFlowStorageOptions"/>
    /// bound from <c>Flow:Storage:Postgres</c> and the connection string from its <c>ConnectionString</c> or
    /// <c>ConnectionStrings:Flow</c>; plus two hosted services: <see cref="PostgresMigrationService"/> (creates and migrates
    /// the schema at start) and <see cref="PostgresRetentionService"/> (deletes old finished runs).
    /// </summary>
    /// <param name="services">The services.</param>
    /// <param name="configuration">The app's configuration.</param>
    /// <returns>The services, for chaining.</returns>
    public static IServiceCollection AddFlowPostgresStorage(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddOptions<PostgresFlowStorageOptions>()
            .Bind(configuration.GetSection(PostgresFlowStorageOptions.SectionName))
            .Validate(o =>
            {
                o.Validate();
                return true;
            });
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton(sp =>
        {
            var (connectionString, setting) = PostgresConnection.Resolve(configuration, Options(sp));
            return PostgresConnection.CreateDataSource(connectionString, setting);
        });
        services.TryAddSingleton(sp => new PostgresFlowStore(sp.GetRequiredService<NpgsqlDataSource>(), Options(sp), sp.GetService<ILogger<PostgresFlowStore>>()));
        services.TryAddSingleton(sp => new PostgresWorkQueue(
            sp.GetRequiredService<NpgsqlDataSource>(), Options(sp), sp.GetService<ILogger<PostgresWorkQueue>>(), sp.GetRequiredService<TimeProvider>()));
        services.TryAddSingleton(sp => new PostgresControlStore(sp.GetRequiredService<NpgsqlDataSource>(), Options(sp), sp.GetService<ILogger<PostgresControlStore>>()));
        services.TryAddSingleton<IFlowStore>(sp => sp.GetRequiredService<PostgresFlowStore>());
        services.TryAddSingleton<IRunRetention>(sp => sp.GetRequiredService<PostgresFlowStore>());
        services.TryAddSingleton<IControlStore>(sp => sp.GetRequiredService<PostgresControlStore>());
        services.TryAddSingleton<IWorkQueue>(sp => sp.GetRequiredService<PostgresWorkQueue>());
        services.TryAddSingleton(sp => new PostgresEventStore(sp.GetRequiredService<NpgsqlDataSource>(), Options(sp), sp.GetService<ILogger<PostgresEventStore>>()));
        services.TryAddSingleton<IEventStore>(sp => sp.GetRequiredService<PostgresEventStore>());
        services.TryAddSingleton<PostgresRetentionService>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, PostgresMigrationService>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, PostgresRetentionService>(sp => sp.GetRequiredService<PostgresRetentionService>()));
        return services;
    }

    private static PostgresFlowStorageOptions Options(IServiceProvider services) => services.GetRequiredService<IOptions<PostgresFlowStorageOptions>>().Value;
}
