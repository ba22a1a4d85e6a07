using Flow.Engine.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Flow.Storage.Azure;

/// <summary>
/// Retention on Azure Storage (on by default, hosted in the scheduler role): every
/// <see cref="AzureFlowStorageOptions.RetentionInterval"/> deletes the runs whose final state was reached more than
/// <see cref="AzureFlowStorageOptions.RetentionDays"/> days ago — every row of their partition, their index rows and their
/// payload blobs — in batches of <see cref="AzureFlowStorageOptions.RetentionBatchSize"/>, then the events older than the same
/// time (<see cref="AzureEventStore.DeleteEventsBeforeAsync"/>); 0 days turns it off.
/// </summary>
public sealed class AzureRetentionService : RunRetentionService
{
    /// <summary>Creates the service.</summary>
    /// <param name="store">The store.</param>
    /// <param name="events">The event store.</param>
    /// <param name="options">The options.</param>
    /// <param name="timeProvider">The clock; null for the system clock.</param>
    /// <param name="logger">The logger; null for none.</param>
    public AzureRetentionService(AzureFlowStore store, AzureEventStore events, IOptions<AzureFlowStorageOptions> options, TimeProvider? timeProvider = null, ILogger<AzureRetentionService>? logger = null)
        : base(store, events, RetentionDays(options), options.Value.RetentionInterval, options.Value.RetentionBatchSize, timeProvider, logger)
    {
    }

    private static int RetentionDays(IOptions<AzureFlowStorageOptions> options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Value.Validate();
        return options.Value.RetentionDays;
    }
}
