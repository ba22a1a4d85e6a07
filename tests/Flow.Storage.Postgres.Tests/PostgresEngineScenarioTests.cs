using Flow.Engine.Scenarios;
using Flow.Engine.Storage;
using Flow.Testing;
using Flow.TestSupport;
using Npgsql;

namespace Flow.Storage.Postgres.Tests;

/// <summary>The engine scenarios on PostgreSQL, each test in a schema of its own.</summary>
public sealed class PostgresEngineScenarioTests : EngineScenarioTests, IAsyncLifetime
{
    private readonly NpgsqlDataSource _dataSource;
    private readonly PostgresFlowStorageOptions _options = new() { Schema = UniqueNames.Schema("s") };

    public PostgresEngineScenarioTests(PostgresFixture postgres)
    {
        _dataSource = PostgresConnection.CreateDataSource(postgres.ConnectionString);
    }

    // The queue stamps dead letters with the scenario's fake clock; visibility follows the server's clock.
    protected override Func<FakeClock, (IFlowStore Store, IWorkQueue Queue)>? Storage => clock =>
        (new PostgresFlowStore(_dataSource, _options), new PostgresWorkQueue(_dataSource, _options, null, clock));

    public async ValueTask InitializeAsync()
    {
        using var deadline = TestDeadline.Create();
        await new PostgresFlowStore(_dataSource, _options).InitializeAsync(deadline.Token);
    }

    public async ValueTask DisposeAsync() => await _dataSource.DisposeAsync();
}
