using Flow.ControlPlane;
using Flow.Engine.Events;
using Flow.Engine.Storage;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Flow.Storage.Azure;

/// <summary>Registers Flow's Azure Storage stores and work queue.</summary>
public static class FlowAzureStorageServiceCollectionExtensions
{
    /// <summary>
    /// Registers <see cref="AzureFlowStore"/> as <see cref="IFlowStore"/>, <see cref="AzureEventStore"/> as <see cref="IEventStore"/> (fed by the
    /// flow store's outbox; <see cref="AzureOutboxRelayService"/> sweeps it), <see cref="AzureControlStore"/> as
    /// <see cref="IControlStore"/> and <see cref="AzureWorkQueue"/> as <see cref="IWorkQueue"/>, with <see cref="AzureFlowStorageOptions"/> bound from <c>Flow:Storage:Azure</c> and the
    /// connection read from <c>AzureWebJobsStorage</c> (or the setting named by <see cref="AzureFlowStorageOptions.ConnectionSetting"/>).
    /// The store is also the <see cref="IRunRetention"/>; <see cref="AzureRetentionService"/> is for the host to run (the
    /// scheduler role). Nothing connects until the first use; call <see cref="IFlowStore.InitializeAsync"/> and <see cref="IControlStore.InitializeAsync"/>
    /// at start to create the tables.
    /// </summary>
    /// <param name="services">The services.</param>
    /// <param name="configuration">The app's configuration.</param>
    /// <returns>The services, for chaining.</returns>
    public static IServiceCollection AddFlowAzureStorage(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddOptions<AzureFlowStorageOptions>().Bind(configuration.GetSection(AzureFlowStorageOptions.SectionName));
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton(sp => StorageConnectionFactory.FromConfiguration(configuration, Options(sp).ConnectionSetting));
        services.TryAddSingleton(sp => AzureSdkClients.CreateTableService(sp.GetRequiredService<StorageConnection>()));
        services.TryAddSingleton(sp => AzureSdkClients.CreateQueueService(sp.GetRequiredService<StorageConnection>()));
        services.TryAddSingleton(sp => AzureSdkClients.CreateBlobService(sp.GetRequiredService<StorageConnection>()));
        services.TryAddSingleton(sp => new AzureEventStore(sp.GetRequiredService<global::Azure.Data.Tables.TableServiceClient>(), Options(sp), sp.GetService<ILogger<AzureEventStore>>()));

        // Large values go to payload blobs; a connection without a Blob endpoint keeps them in chunk rows, as before blobs.
        services.TryAddSingleton(sp => sp.GetRequiredService<StorageConnection>().BlobEndpoint is null
            ? new AzureFlowStore(
                sp.GetRequiredService<global::Azure.Data.Tables.TableServiceClient>(), Options(sp), sp.GetService<ILogger<AzureFlowStore>>(), sp.GetRequiredService<AzureEventStore>())
            : new AzureFlowStore(
                sp.GetRequiredService<global::Azure.Data.Tables.TableServiceClient>(),
                sp.GetRequiredService<global::Azure.Storage.Blobs.BlobServiceClient>(),
                Options(sp),
                sp.GetService<ILogger<AzureFlowStore>>(),
                sp.GetRequiredService<AzureEventStore>()));
        services.TryAddSingleton(sp => new AzureControlStore(
            sp.GetRequiredService<global::Azure.Data.Tables.TableServiceClient>(), Options(sp), sp.GetService<ILogger<AzureControlStore>>(), sp.GetRequiredService<AzureEventStore>()));
        services.TryAddSingleton(sp => new AzureWorkQueue(
            sp.GetRequiredService<global::Azure.Storage.Queues.QueueServiceClient>(), sp.GetRequiredService<global::Azure.Data.Tables.TableServiceClient>(), Options(sp), sp.GetService<ILogger<AzureWorkQueue>>(), sp.GetRequiredService<TimeProvider>()));
        services.TryAddSingleton<IFlowStore>(sp => sp.GetRequiredService<AzureFlowStore>());
        services.TryAddSingleton<IRunRetention>(sp => sp.GetRequiredService<AzureFlowStore>());
        services.TryAddSingleton<IControlStore>(sp => sp.GetRequiredService<AzureControlStore>());
        services.TryAddSingleton<IWorkQueue>(sp => sp.GetRequiredService<AzureWorkQueue>());
        services.TryAddSingleton<Flow.ControlPlane.Automations.IAutomationQueue>(sp => new AzureAutomationQueue(sp.GetRequiredService<global::Azure.Storage.Queues.QueueServiceClient>()));
        services.TryAddSingleton<IEventStore>(sp => sp.GetRequiredService<AzureEventStore>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, AzureOutboxRelayService>());
        return services;
    }

    private static AzureFlowStorageOptions Options(IServiceProvider services) => services.GetRequiredService<IOptions<AzureFlowStorageOptions>>().Value;
}
