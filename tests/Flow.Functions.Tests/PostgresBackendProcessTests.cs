using System.Globalization;
using Flow.TestSupport;
using Npgsql;

namespace Flow.Functions.Tests;

/// <summary>The built app on PostgreSQL alone (Flow:Storage:Backend=Postgres): no Azure setting at all.</summary>
public sealed class PostgresBackendProcessTests(PostgresFixture postgres, ITestOutputHelper output) : IClassFixture<PostgresFixture>
{
    private const string Secret = "s3cr3t-Pa55";

    [Fact]
    public async Task Standalone_PostgresBackend_MigratesTheSchemaAtStartAndAnswersHealth()
    {
        using var deadline = TestDeadline.Create(TimeSpan.FromSeconds(60));
        var port = FreePorts.Next();
        var schema = UniqueNames.Schema("app");
        await using var app = Start(port, postgres.ConnectionString, schema);
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };

        await deadline.PollUntilAsync(async ct =>
        {
            Assert.False(app.HasExited, $"Flow.Functions exited with {app.ExitCode}:\n{app.Output}");
            using var response = await http.GetAsync(new Uri($"http://127.0.0.1:{port}/api/health"), ct);
            return response.IsSuccessStatusCode;
        }, "the app on PostgreSQL to answer /api/health");

        await using var connection = new NpgsqlConnection(postgres.ConnectionString);
        await connection.OpenAsync(deadline.Token);
        await using var command = new NpgsqlCommand($"SELECT max(version) FROM \"{schema}\".schema_migrations", connection);
        Assert.True(Convert.ToInt32(await command.ExecuteScalarAsync(deadline.Token), CultureInfo.InvariantCulture) >= 3);
    }

    [Fact]
    public async Task Standalone_UnreachablePostgres_ExitsAtStartNamingTheSettingWithoutThePassword()
    {
        using var deadline = TestDeadline.Create(TimeSpan.FromSeconds(60));
        var dead = FreePorts.Next();
        await using var app = Start(FreePorts.Next(), $"Host=127.0.0.1;Port={dead};Username=flow;Password={Secret};Timeout=2", "flow");

        var exitCode = await app.WaitForExitAsync(deadline.Token);

        Assert.NotEqual(0, exitCode);
        Assert.Contains("ConnectionStrings:Flow", app.Output, StringComparison.Ordinal);
        Assert.Contains($"127.0.0.1:{dead}", app.Output, StringComparison.Ordinal);
        Assert.DoesNotContain(Secret, app.Output, StringComparison.Ordinal);
    }

    private ProcessRunner Start(int port, string connectionString, string schema)
    {
        var dll = RepoPaths.FunctionsAssembly;
        Assert.True(File.Exists(dll), $"Build the app first: dotnet build functions/Flow.Functions.csproj -c {RepoPaths.Configuration} (missing {dll}).");
        return ProcessRunner.Start(RepoPaths.DotNetHost, [dll, "--urls", $"http://127.0.0.1:{port}"], new ProcessRunnerOptions
        {
            WorkingDirectory = Path.GetDirectoryName(dll),
            OnOutputLine = output.WriteLine,
            Environment = new Dictionary<string, string?>
            {
                ["FUNCTIONS_CUSTOMHANDLER_PORT"] = null,
                ["AzureWebJobsStorage"] = null,
                ["Flow__Storage__Backend"] = "Postgres",
                ["Flow__Storage__Postgres__Schema"] = schema,
                ["ConnectionStrings__Flow"] = connectionString,
            },
        });
    }
}
