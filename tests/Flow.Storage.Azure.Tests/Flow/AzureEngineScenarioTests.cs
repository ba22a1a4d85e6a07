using Flow.Engine.Storage;
using Flow.Engine.Tests;
using Flow.Testing;
using Flow.TestSupport;

namespace Flow.Storage.Azure.Tests;

/// <summary>The engine scenario suite on the Azure store and work queue, each test on its own tables and queues in Azurite.</summary>
public sealed class AzureEngineScenarioTests : EngineScenarioTests, IAsyncLifetime
{
    private readonly TableServiceClient _tables;
    private readonly QueueServiceClient _queues;
    private readonly AzureFlowStorageOptions _options;

    public AzureEngineScenarioTests(AzuriteFixture azurite)
    {
        var connection = StorageConnection.Parse(azurite.ConnectionString, "test");
        _tables = new TableServiceClient(connection);
        _queues = new QueueServiceClient(connection);
        _options = new AzureFlowStorageOptions { TablePrefix = "E" + UniqueNames.Suffix(), QueuePrefix = "e" + UniqueNames.Suffix() + "-" };
    }

    protected override Func<FakeClock, (IFlowStore Store, IWorkQueue Queue)>? Storage => clock =>
        (new AzureFlowStore(_tables, _options), new AzureWorkQueue(_queues, _tables, _options, timeProvider: clock));

    public async ValueTask InitializeAsync()
    {
        using var deadline = TestDeadline.Create();
        await new AzureFlowStore(_tables, _options).InitializeAsync(deadline.Token);
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var table in new[] { _options.RunsTable, _options.RunIndexTable, _options.CacheTable, _options.DeadLettersTable })
        {
            await _tables.GetTableClient(table).DeleteIfExistsAsync(CancellationToken.None);
        }
    }
}
