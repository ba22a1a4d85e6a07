using Flow.ControlPlane;
using Flow.Engine.Events;
using Flow.TestSupport;
using SdkTableEntity = Azure.Data.Tables.TableEntity;

namespace Flow.Storage.Azure.Tests;

/// <summary>
/// The control store's outbox on Azure: a change's event is a row in the record's partition, written by the change's entity
/// group transaction; when the relay after the commit does not run (the process stopped), the sweep relays it.
/// </summary>
public sealed class AzureControlStoreOutboxTests(AzuriteFixture azurite) : AzureFlowTestBase(azurite)
{
    [Fact]
    public async Task ChangeWithoutRelay_LeavesOutboxRowInItsPartition_SweepRelaysItOnce()
    {
        var options = Options with { RelayAfterCommit = false };
        var store = new AzureControlStore(SdkTables, options);
        await store.InitializeAsync(Ct);
        try
        {
            var created = await store.PutDeploymentAsync(new DeploymentRecord { Name = "etl/daily", FlowName = "etl", Pool = "eu", UpdatedAt = T0 }, IControlStore.MustNotExist, Ct);
            await store.PutDeploymentAsync(created.Record with { Paused = true, UpdatedAt = T0.AddMinutes(1) }, created.Version, Ct);
            await store.PutWorkPoolAsync(new WorkPoolRecord { Name = "eu", UpdatedAt = T0 }, null, Ct);
            await store.AddRejectedRequestAsync(new RejectedRunRequest { Id = "m-1", Source = "flow-run-requests", RejectedAt = T0, Reason = "unknown deployment" }, Ct);
            Assert.True(await store.DeleteWorkPoolAsync("eu", Ct));

            // Nothing relayed yet: the events wait beside their records, and listings do not show them.
            var outbox = await RowsAsync(store.DeploymentsTable, "etl");
            Assert.Equal(2, outbox.Count(r => r.RowKey.StartsWith(AzureControlStore.OutboxRowPrefix, StringComparison.Ordinal)));
            Assert.All(outbox.Where(r => r.RowKey != "daily"), r => Assert.True(r.GetBoolean("EventPending")));
            Assert.Equal(2, (await RowsAsync(store.WorkPoolsTable, "pool")).Count); // created + deleted, the pool itself is gone
            Assert.Single(await store.ListDeploymentsAsync(Ct));
            Assert.Empty(await store.ListWorkPoolsAsync(Ct));
            Assert.Single(await store.ListRejectedRequestsAsync(10, Ct));
            Assert.Empty((await store.Events.ListAsync(new EventQuery(), Ct)).Events);

            Assert.Equal(5, await store.RelayPendingAsync(Ct));

            var kinds = (await store.Events.ListAsync(new EventQuery { PageSize = 50 }, Ct)).Events.Select(e => e.Kind).Order(StringComparer.Ordinal);
            Assert.Equal(["deployment.created", "deployment.paused", "run-request.refused", "work-pool.created", "work-pool.deleted"], kinds);
            Assert.Equal(["daily"], (await RowsAsync(store.DeploymentsTable, "etl")).Select(r => r.RowKey));
            Assert.Empty(await RowsAsync(store.WorkPoolsTable, "pool"));

            // A second sweep finds nothing; a sweep racing the relay would write each event once (ids dedupe).
            Assert.Equal(0, await store.RelayPendingAsync(Ct));
            Assert.Equal(5, (await store.Events.ListAsync(new EventQuery { PageSize = 50 }, Ct)).Events.Count);
        }
        finally
        {
            foreach (var table in new[] { options.DeploymentsTable, options.WorkPoolsTable, options.RejectedRequestsTable, options.StateTable, options.AutomationsTable, options.AutomationFiringsTable, options.EventsTable })
            {
                await SdkTables.GetTableClient(table).DeleteAsync(CancellationToken.None);
            }
        }
    }

    private async Task<List<SdkTableEntity>> RowsAsync(global::Azure.Data.Tables.TableClient table, string partition)
    {
        var rows = new List<SdkTableEntity>();
        await foreach (var row in table.QueryAsync<SdkTableEntity>(r => r.PartitionKey == partition, cancellationToken: Ct))
        {
            rows.Add(row);
        }

        return rows;
    }
}
