using Flow.Engine.Storage;
using Flow.Sdk;
using Flow.Storage.Conformance;
using Flow.TestSupport;
using Npgsql;

namespace Flow.Storage.Postgres.Tests;

/// <summary>A store and work queue in a schema of their own in the shared cluster, and a 60 s deadline per test.</summary>
public abstract class PostgresTestBase : IAsyncLifetime
{
    protected PostgresTestBase(PostgresFixture postgres, PostgresFlowStorageOptions? options = null)
    {
        Postgres = postgres;
        Options = (options ?? new PostgresFlowStorageOptions()) with { Schema = UniqueNames.Schema("t") };
        DataSource = PostgresConnection.CreateDataSource(postgres.ConnectionString);
        Store = new PostgresFlowStore(DataSource, Options);
        Queue = new PostgresWorkQueue(DataSource, Options);
        Deadline = TestDeadline.Create(TimeSpan.FromSeconds(60));
    }

    protected static DateTimeOffset T0 { get; } = new(2026, 11, 5, 10, 0, 0, TimeSpan.Zero);

    protected PostgresFixture Postgres { get; }

    protected PostgresFlowStorageOptions Options { get; }

    protected NpgsqlDataSource DataSource { get; }

    protected PostgresFlowStore Store { get; }

    protected PostgresWorkQueue Queue { get; }

    protected TestDeadline Deadline { get; }

    protected CancellationToken Ct => Deadline.Token;

    public virtual async ValueTask InitializeAsync() => await Store.InitializeAsync(Ct);

    public virtual async ValueTask DisposeAsync()
    {
        await Queue.DisposeAsync();
        await DataSource.DisposeAsync();
        Deadline.Dispose();
        GC.SuppressFinalize(this);
    }

    protected static FlowRunRecord NewRun(string runId, string flow = "etl", DateTimeOffset? createdAt = null) =>
        StoreTestRuns.New(runId, createdAt ?? T0, RunState.Pending, flow);

    protected Task<StoredRun> CreateAsync(FlowRunRecord run) => StoreTestRuns.CreateAsync(Store, run, Ct);

    /// <summary>Runs a scalar query in the test's schema (<c>{s}</c> is replaced by the quoted schema name).</summary>
    protected async Task<T> ScalarAsync<T>(string sql, params object[] parameters)
    {
        await using var connection = await DataSource.OpenConnectionAsync(Ct);
        await using var command = new NpgsqlCommand(sql.Replace("{s}", "\"" + Options.Schema + "\"", StringComparison.Ordinal), connection);
        foreach (var p in parameters)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = p });
        }

        return (T)(await command.ExecuteScalarAsync(Ct))!;
    }
}
