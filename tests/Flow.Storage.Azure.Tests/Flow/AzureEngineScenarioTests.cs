using Flow.Engine.Scenarios;
using Flow.Engine.Storage;
using Flow.Testing;
using Flow.TestSupport;

namespace Flow.Storage.Azure.Tests;

/// <summary>The engine scenarios on Azure Tables and Queues (Azurite), each test on its own tables and queues.</summary>
public sealed class AzureEngineScenarioTests : EngineScenarioTests
{
    private readonly AzuriteFixture _azurite;

    public AzureEngineScenarioTests(AzuriteFixture azurite) => _azurite = azurite;

    protected override Func<FakeClock, (IFlowStore Store, IWorkQueue Queue)>? Storage => clock =>
    {
        var connection = StorageConnection.Parse(_azurite.ConnectionString, "test");
        var tables = new TableServiceClient(connection);
        var options = new AzureFlowStorageOptions { TablePrefix = "S" + UniqueNames.Suffix(), QueuePrefix = "s" + UniqueNames.Suffix() + "-" };
        return (new AzureFlowStore(tables, options, null, clock), new AzureWorkQueue(new QueueServiceClient(connection), tables, options, null, clock));
    };
}
