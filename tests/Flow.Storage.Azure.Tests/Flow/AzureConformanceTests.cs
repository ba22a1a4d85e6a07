using Flow.Engine.Storage;
using Flow.Storage.Conformance;
using Flow.TestSupport;

namespace Flow.Storage.Azure.Tests;

/// <summary>The store conformance suite on <see cref="AzureFlowStore"/> in Azurite: every store on tables of its own.</summary>
public sealed class AzureFlowStoreConformanceTests(AzuriteFixture azurite) : FlowStoreConformanceTests
{
    private readonly global::Azure.Data.Tables.TableServiceClient _tables = AzureSdkClients.CreateTableService(StorageConnection.Parse(azurite.ConnectionString, "test"));
    private readonly global::Azure.Storage.Blobs.BlobServiceClient _blobs = AzureSdkClients.CreateBlobService(StorageConnection.Parse(azurite.ConnectionString, "test"));
    private readonly List<AzureFlowStorageOptions> _created = [];

    protected override Task<IFlowStore> CreateStoreAsync(CancellationToken cancellationToken)
    {
        var options = new AzureFlowStorageOptions { TablePrefix = "C" + UniqueNames.Suffix(), PayloadContainer = "c" + UniqueNames.Suffix() };
        _created.Add(options);
        return Task.FromResult<IFlowStore>(new AzureFlowStore(_tables, _blobs, options));
    }

    protected override async ValueTask DisposeAsyncCore()
    {
        await base.DisposeAsyncCore();
        foreach (var options in _created)
        {
            foreach (var table in new[] { options.RunsTable, options.RunIndexTable, options.CacheTable, options.EventsTable })
            {
                await _tables.GetTableClient(table).DeleteAsync(CancellationToken.None);
            }

            await _blobs.GetBlobContainerClient(options.PayloadContainer).DeleteIfExistsAsync(cancellationToken: CancellationToken.None);
        }
    }
}

/// <summary>The work queue conformance suite on <see cref="AzureWorkQueue"/> in Azurite, on the real clock.</summary>
public sealed class AzureWorkQueueConformanceTests(AzuriteFixture azurite) : WorkQueueConformanceTests
{
    private readonly StorageConnection _connection = StorageConnection.Parse(azurite.ConnectionString, "test");
    private readonly AzureFlowStorageOptions _options = new() { TablePrefix = "Q" + UniqueNames.Suffix(), QueuePrefix = "q" + UniqueNames.Suffix() + "-" };

    protected override Task<IWorkQueue> CreateQueueAsync(CancellationToken cancellationToken) =>
        Task.FromResult<IWorkQueue>(new AzureWorkQueue(AzureSdkClients.CreateQueueService(_connection), AzureSdkClients.CreateTableService(_connection), _options));

    protected override async Task EnqueueRawAsync(IWorkQueue workQueue, string queue, string body, CancellationToken cancellationToken) =>
        await ((AzureWorkQueue)workQueue).GetQueueClient(queue).SendMessageAsync(Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes(body)), cancellationToken: cancellationToken);

    protected override async ValueTask DisposeAsyncCore()
    {
        await base.DisposeAsyncCore();
        await AzureSdkClients.CreateTableService(_connection).GetTableClient(_options.DeadLettersTable).DeleteAsync(CancellationToken.None);
    }
}

/// <summary>
/// The event conformance suite on Azure Tables in Azurite: run events travel on the transition rows (the outbox) and the
/// suite's settle step is a relay sweep, run while the writers commit; the background relay after each commit is off so the
/// sweep is the only relayer.
/// </summary>
public sealed class AzureEventStoreConformanceTests(AzuriteFixture azurite) : EventStoreConformanceTests
{
    private readonly global::Azure.Data.Tables.TableServiceClient _tables = AzureSdkClients.CreateTableService(StorageConnection.Parse(azurite.ConnectionString, "test"));

    protected override Task<(IFlowStore Flows, Flow.Engine.Events.IEventStore Events)> CreateStoresAsync(CancellationToken cancellationToken)
    {
        var options = new AzureFlowStorageOptions { TablePrefix = "E" + UniqueNames.Suffix(), RelayAfterCommit = false };
        var events = new AzureEventStore(_tables, options);
        return Task.FromResult<(IFlowStore, Flow.Engine.Events.IEventStore)>((new AzureFlowStore(_tables, options, null, events), events));
    }

    protected override Task SettleAsync(IFlowStore flows, CancellationToken cancellationToken) => ((AzureFlowStore)flows).RelayPendingAsync(cancellationToken);
}
