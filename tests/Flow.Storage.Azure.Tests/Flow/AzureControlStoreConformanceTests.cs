using Flow.ControlPlane;
using Flow.Engine.Events;
using Flow.Storage.Conformance;
using Flow.TestSupport;

namespace Flow.Storage.Azure.Tests;

/// <summary>The control store conformance suite on <see cref="AzureControlStore"/> in Azurite: every store on tables of its own.</summary>
public sealed class AzureControlStoreConformanceTests(AzuriteFixture azurite) : ControlStoreConformanceTests
{
    private readonly global::Azure.Data.Tables.TableServiceClient _tables = AzureSdkClients.CreateTableService(StorageConnection.Parse(azurite.ConnectionString, "test"));
    private readonly List<AzureFlowStorageOptions> _created = [];

    protected override Task<IControlStore> CreateStoreAsync(CancellationToken cancellationToken)
    {
        var options = new AzureFlowStorageOptions { TablePrefix = "K" + UniqueNames.Suffix() };
        _created.Add(options);
        return Task.FromResult<IControlStore>(new AzureControlStore(_tables, options));
    }

    protected override IEventStore EventsOf(IControlStore store) => ((AzureControlStore)store).Events;

    protected override async ValueTask DisposeAsyncCore()
    {
        await base.DisposeAsyncCore();
        foreach (var options in _created)
        {
            foreach (var table in new[] { options.DeploymentsTable, options.WorkPoolsTable, options.RejectedRequestsTable, options.StateTable, options.AutomationsTable, options.AutomationFiringsTable, options.EventsTable })
            {
                await _tables.GetTableClient(table).DeleteAsync(CancellationToken.None);
            }
        }
    }
}
