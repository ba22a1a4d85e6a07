using Flow.Engine.Scenarios;
using Flow.Engine.Storage;
using Flow.Testing;
using Flow.TestSupport;

namespace Flow.Storage.Azure.Tests;

/// <summary>The engine scenarios on Azure Tables and Queues (Azurite), each test on its own tables and queues.</summary>
public sealed class AzureEngineScenarioTests : EngineScenarioTests, IAsyncLifetime
{
    private readonly global::Azure.Storage.Queues.QueueServiceClient _queues;
    private readonly global::Azure.Data.Tables.TableServiceClient _sdkTables;
    private readonly global::Azure.Storage.Blobs.BlobServiceClient _blobs;
    private readonly AzureFlowStorageOptions _options;

    public AzureEngineScenarioTests(AzuriteFixture azurite)
    {
        var connection = StorageConnection.Parse(azurite.ConnectionString, "test");
        _queues = AzureSdkClients.CreateQueueService(connection);
        _sdkTables = AzureSdkClients.CreateTableService(connection);
        _blobs = AzureSdkClients.CreateBlobService(connection);
        _options = new AzureFlowStorageOptions { TablePrefix = "S" + UniqueNames.Suffix(), QueuePrefix = "s" + UniqueNames.Suffix() + "-", PayloadContainer = "s" + UniqueNames.Suffix() };
    }

    // The store keeps no time of its own; the queue stamps dead letters with the scenario's fake clock.
    protected override Func<FakeClock, (IFlowStore Store, IWorkQueue Queue)>? Storage => clock =>
        (new AzureFlowStore(_sdkTables, _blobs, _options), new AzureWorkQueue(_queues, _sdkTables, _options, null, clock));

    public async ValueTask InitializeAsync()
    {
        using var deadline = TestDeadline.Create();
        await new AzureFlowStore(_sdkTables, _blobs, _options).InitializeAsync(deadline.Token);
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var table in new[] { _options.RunsTable, _options.RunIndexTable, _options.CacheTable, _options.DeadLettersTable })
        {
            await _sdkTables.GetTableClient(table).DeleteAsync(CancellationToken.None);
        }

        await _blobs.GetBlobContainerClient(_options.PayloadContainer).DeleteIfExistsAsync(cancellationToken: CancellationToken.None);
    }
}
