namespace Flow.TestSupport;

/// <summary>
/// A private PostgreSQL cluster for one test assembly run (<see cref="LocalPostgres"/>). Register it once per test project:
/// <c>[assembly: AssemblyFixture(typeof(PostgresFixture))]</c>; give every test its own database with
/// <see cref="CreateDatabaseAsync"/> (or schema with <see cref="CreateSchemaAsync"/>).
/// </summary>
public sealed class PostgresFixture : LocalPostgres, IAsyncLifetime
{
    /// <summary>Cleans up dead runs' clusters, then creates and starts this run's cluster under the test run's cancellation.</summary>
    /// <returns>A task.</returns>
    public async ValueTask InitializeAsync() => await StartAsync(TestContext.Current.CancellationToken);

    /// <summary>Creates a fresh, uniquely named database and returns a connection string to it (per-test isolation).</summary>
    /// <param name="prefix">A readable name prefix; the current test's method name when null.</param>
    /// <param name="cancellationToken">The test's deadline.</param>
    /// <returns>The connection string.</returns>
    public Task<string> CreateDatabaseAsync(string? prefix = null, CancellationToken cancellationToken = default) =>
        CreateNamedDatabaseAsync(UniqueNames.Database(prefix), cancellationToken);

    /// <summary>
    /// Creates a fresh, uniquely named schema in the postgres database and returns a connection string whose search path is
    /// that schema (cheaper than a database when a test needs only its own tables).
    /// </summary>
    /// <param name="prefix">A readable name prefix; the current test's method name when null.</param>
    /// <param name="cancellationToken">The test's deadline.</param>
    /// <returns>The connection string.</returns>
    public Task<string> CreateSchemaAsync(string? prefix = null, CancellationToken cancellationToken = default) =>
        CreateNamedSchemaAsync(UniqueNames.Schema(prefix), cancellationToken);
}
