using Flow.TestSupport;
using Npgsql;

namespace Flow.Storage.Postgres.Tests;

public sealed class PostgresFixtureTests(PostgresFixture postgres)
{
    [Fact]
    public async Task CreateDatabase_GivesAnIsolatedDatabase_ThatAcceptsQueries()
    {
        using var deadline = TestDeadline.Create();
        var first = await postgres.CreateDatabaseAsync("isolation", deadline.Token);
        var second = await postgres.CreateDatabaseAsync("isolation", deadline.Token);

        await ExecuteAsync(first, "CREATE TABLE runs (id int PRIMARY KEY, name text NOT NULL); INSERT INTO runs VALUES (1, 'etl');", deadline.Token);

        Assert.Equal("etl", await ScalarAsync(first, "SELECT name FROM runs WHERE id = 1", deadline.Token));
        Assert.Null(await ScalarAsync(second, "SELECT to_regclass('public.runs')::text", deadline.Token));
        Assert.NotEqual(new NpgsqlConnectionStringBuilder(first).Database, new NpgsqlConnectionStringBuilder(second).Database);
    }

    [Fact]
    public async Task CreateSchema_SetsTheSearchPath_SoUnqualifiedTablesLandInIt()
    {
        using var deadline = TestDeadline.Create();
        var connectionString = await postgres.CreateSchemaAsync(cancellationToken: deadline.Token);
        var schema = new NpgsqlConnectionStringBuilder(connectionString).SearchPath;

        await ExecuteAsync(connectionString, "CREATE TABLE journal (seq bigint PRIMARY KEY)", deadline.Token);

        Assert.StartsWith("create_schema_sets_the_search_path", schema, StringComparison.Ordinal);
        Assert.Equal(schema, await ScalarAsync(postgres.ConnectionString,
            "SELECT table_schema::text FROM information_schema.tables WHERE table_name = 'journal'", deadline.Token));
    }

    [Fact]
    public async Task Server_RunsOnLoopback_WithDurabilityOffForSpeed()
    {
        using var deadline = TestDeadline.Create();

        Assert.Equal("127.0.0.1", await ScalarAsync(postgres.ConnectionString, "SHOW listen_addresses", deadline.Token));
        Assert.Equal("off", await ScalarAsync(postgres.ConnectionString, "SHOW fsync", deadline.Token));
        Assert.Equal("UTF8", await ScalarAsync(postgres.ConnectionString, "SHOW server_encoding", deadline.Token));
        Assert.True(File.Exists(Path.Combine(postgres.ClusterDirectory, "owner.pid")));
    }

    private static async Task ExecuteAsync(string connectionString, string sql, CancellationToken cancellationToken)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(cancellationToken);
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private static async Task<string?> ScalarAsync(string connectionString, string sql, CancellationToken cancellationToken)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(cancellationToken);
        await using var command = new NpgsqlCommand(sql, connection);
        return await command.ExecuteScalarAsync(cancellationToken) as string;
    }
}
