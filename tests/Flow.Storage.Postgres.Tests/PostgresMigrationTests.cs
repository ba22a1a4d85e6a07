using Flow.TestSupport;
using Npgsql;

namespace Flow.Storage.Postgres.Tests;

public sealed class PostgresMigrationTests(PostgresFixture postgres) : IAsyncDisposable
{
    private readonly NpgsqlDataSource _dataSource = PostgresConnection.CreateDataSource(postgres.ConnectionString);

    [Fact]
    public async Task InitializeAsync_ManyProcessesAtOnce_ApplyEachMigrationExactlyOnce()
    {
        using var deadline = TestDeadline.Create();
        var schema = UniqueNames.Schema("m");

        // Separate data sources: separate connections, as separate processes would have.
        var sources = Enumerable.Range(0, 6).Select(_ => PostgresConnection.CreateDataSource(postgres.ConnectionString)).ToList();
        try
        {
            await Task.WhenAll(sources.Select(s => new PostgresFlowStore(s, new PostgresFlowStorageOptions { Schema = schema }).InitializeAsync(deadline.Token)));
        }
        finally
        {
            foreach (var source in sources)
            {
                await source.DisposeAsync();
            }
        }

        Assert.Equal(PostgresMigrations.All.Select(m => m.Version), await VersionsAsync(schema, deadline.Token));
    }

    [Fact]
    public async Task InitializeAsync_SchemaAtAnOlderVersion_AppliesOnlyTheMissingMigrations()
    {
        using var deadline = TestDeadline.Create();
        var schema = UniqueNames.Schema("m");
        Assert.Equal([1], await PostgresMigrations.MigrateAsync(_dataSource, schema, upTo: 1, deadline.Token));
        Assert.Equal([1], await VersionsAsync(schema, deadline.Token));

        var applied = await PostgresMigrations.MigrateAsync(_dataSource, schema, null, deadline.Token);
        var again = await PostgresMigrations.MigrateAsync(_dataSource, schema, null, deadline.Token);

        Assert.Equal(PostgresMigrations.All.Skip(1).Select(m => m.Version), applied);
        Assert.Empty(again);
        Assert.Equal(PostgresMigrations.All.Select(m => m.Version), await VersionsAsync(schema, deadline.Token));
    }

    [Fact]
    public async Task Migrations_AreNumberedConsecutivelyFromOne_AndNameTheirSchema()
    {
        var versions = PostgresMigrations.All.Select(m => m.Version).ToList();
        Assert.Equal(Enumerable.Range(1, versions.Count), versions);
        Assert.All(PostgresMigrations.All, m => Assert.Contains("{schema}.", m.Sql, StringComparison.Ordinal));
        Assert.All(PostgresMigrations.All, m => Assert.False(string.IsNullOrWhiteSpace(m.Name)));
        await Task.CompletedTask;
    }

    public async ValueTask DisposeAsync() => await _dataSource.DisposeAsync();

    private async Task<List<int>> VersionsAsync(string schema, CancellationToken cancellationToken)
    {
        await using var connection = await _dataSource.OpenConnectionAsync(cancellationToken);
        await using var command = new NpgsqlCommand($"SELECT version FROM \"{schema}\".schema_migrations ORDER BY version", connection);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var versions = new List<int>();
        while (await reader.ReadAsync(cancellationToken))
        {
            versions.Add(reader.GetInt32(0));
        }

        return versions;
    }
}
