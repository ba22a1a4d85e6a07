using Flow.ControlPlane;
using Flow.TestSupport;

namespace Flow.Storage.Azure.Tests;

/// <summary>What a person browsing the control-plane tables in Storage Explorer sees: readable keys, words and JSON text.</summary>
public sealed class AzureControlStoreLayoutTests(AzuriteFixture azurite) : AzureFlowTestBase(azurite)
{
    [Fact]
    public async Task PutAndAdd_EveryRecordKind_IsStoredWithReadableKeysAndProperties()
    {
        var store = new AzureControlStore(SdkTables, Options);
        await store.InitializeAsync(Ct);
        var deployment = new DeploymentRecord
        {
            Name = "etl/daily",
            FlowName = "etl",
            Pool = "eu",
            Parameters = """{"source":"crm"}""",
            Tags = new Dictionary<string, string> { ["team"] = "données" },
            Version = "7",
            Description = "Daily ✓",
            ConcurrencyLimit = 2,
            CollisionStrategy = CollisionStrategy.CancelNew,
            Schedules = [new DeploymentSchedule { Id = "morning", Cron = "0 6 * * *", TimeZone = "Europe/Paris" }],
            CreatedAt = T0,
            UpdatedAt = T0.AddHours(1),
        };

        var put = await store.PutDeploymentAsync(deployment, IControlStore.MustNotExist, Ct);
        await store.PutWorkPoolAsync(new WorkPoolRecord { Name = "eu", ConcurrencyLimit = 4, CreatedAt = T0 }, null, Ct);
        await store.AddRejectedRequestAsync(new RejectedRunRequest { Id = "m-1", Source = "flow-run-requests", RejectedAt = T0, Reason = "unknown deployment" }, Ct);
        await store.PutStateAsync("scheduler:cursor:etl.daily", "2026-11-05T10:00:00Z", null, Ct);

        try
        {
            var row = Assert.Single(await RawRowsAsync(store.DeploymentsTable, "etl"));
            Assert.Equal("daily", row.RowKey);
            Assert.Equal(put.Version, row.ETag.ToString());
            Assert.Equal("eu", row.GetString("Pool"));
            Assert.Equal(false, row.GetBoolean("Paused"));
            Assert.Equal(2, row.GetInt32("ConcurrencyLimit"));
            Assert.Equal("CancelNew", row.GetString("CollisionStrategy"));
            Assert.Equal("""{"source":"crm"}""", row.GetString("Parameters"));
            Assert.Equal("""{"team":"données"}""", row.GetString("Tags"));
            Assert.Equal("""[{"id":"morning","cron":"0 6 * * *","timeZone":"Europe/Paris","active":true}]""", row.GetString("Schedules"));
            Assert.Equal(T0.AddHours(1), row.GetDateTimeOffset("UpdatedAt"));

            var pool = Assert.Single(await RawRowsAsync(store.WorkPoolsTable, "pool"));
            Assert.Equal("eu", pool.RowKey);
            Assert.Equal("in-app", pool.GetString("Type"));

            var day = AzureControlStore.DayPartition(T0);
            Assert.EndsWith("-2026-11-05", day, StringComparison.Ordinal);
            var rejected = Assert.Single(await RawRowsAsync(store.RejectedRequestsTable, day));
            Assert.Equal(FlowKeys.InvertedTicks(T0) + "-m-1", rejected.RowKey);
            Assert.Equal(T0, rejected.GetDateTimeOffset("RejectedAt"));
            Assert.True(string.CompareOrdinal(AzureControlStore.DayPartition(T0.AddDays(1)), day) < 0, "a later day's partition sorts first");

            var state = Assert.Single(await RawRowsAsync(store.StateTable, "scheduler"));
            Assert.Equal("scheduler:cursor:etl.daily", state.RowKey);
            Assert.Equal("2026-11-05T10:00:00Z", state.GetString("Value"));
        }
        finally
        {
            foreach (var table in new[] { Options.DeploymentsTable, Options.WorkPoolsTable, Options.RejectedRequestsTable, Options.StateTable })
            {
                await SdkTables.GetTableClient(table).DeleteAsync(CancellationToken.None);
            }
        }
    }
}
