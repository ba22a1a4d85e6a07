using System.Globalization;
using Flow.Engine.Storage;
using Flow.TestSupport;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Npgsql;

namespace Flow.Storage.Postgres.Tests;

/// <summary>Choosing and configuring the backend, and the messages a bad setting gives at start.</summary>
public sealed class PostgresConfigurationTests(PostgresFixture postgres)
{
    private const string Secret = "s3cr3t-Pa55";

    [Fact]
    public void Resolve_NoConnectionString_ThrowsNamingTheSettingsToSet()
    {
        var configuration = new ConfigurationBuilder().Build();

        var e = Assert.Throws<PostgresStorageException>(() => PostgresConnection.Resolve(configuration, new PostgresFlowStorageOptions()));

        Assert.Contains("Flow:Storage:Postgres:ConnectionString", e.Message, StringComparison.Ordinal);
        Assert.Contains("ConnectionStrings:Flow", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Resolve_ConnectionStringsSection_IsUsedWhenTheOptionIsEmpty()
    {
        var configuration = Configuration(new() { ["ConnectionStrings:Runs"] = "Host=db;Username=flow" });

        var (connectionString, setting) = PostgresConnection.Resolve(configuration, new PostgresFlowStorageOptions { ConnectionStringName = "Runs" });

        Assert.Equal("Host=db;Username=flow", connectionString);
        Assert.Equal("ConnectionStrings:Runs", setting);
    }

    [Theory]
    [InlineData("Host=127.0.0.1;Password=" + Secret + ";Port=not-a-port")]
    [InlineData("Hots=127.0.0.1;Password=" + Secret)]
    [InlineData("Password=" + Secret + ";Username=flow")]
    public void CreateDataSource_MalformedConnectionString_ThrowsNamingTheSettingWithoutThePassword(string connectionString)
    {
        var e = Assert.Throws<PostgresStorageException>(() => PostgresConnection.CreateDataSource(connectionString, "ConnectionStrings:Flow"));

        Assert.Contains("ConnectionStrings:Flow", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(Secret, e.ToString(), StringComparison.Ordinal);
        Assert.Equal("ConnectionStrings:Flow", e.SettingName);
    }

    [Fact]
    public async Task HostStart_UnreachableServer_FailsNamingServerAndSettingWithoutThePassword()
    {
        using var deadline = TestDeadline.Create();
        var port = FreePorts.Next(); // nobody listens there
        using var host = Host(new() { ["ConnectionStrings:Flow"] = string.Create(CultureInfo.InvariantCulture, $"Host=127.0.0.1;Port={port};Username=flow;Password={Secret};Timeout=2") });

        var e = await Assert.ThrowsAsync<PostgresStorageException>(() => host.StartAsync(deadline.Token));

        Assert.Contains(string.Create(CultureInfo.InvariantCulture, $"127.0.0.1:{port}"), e.Message, StringComparison.Ordinal);
        Assert.Contains("ConnectionStrings:Flow", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(Secret, e.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task HostStart_MissingConnectionString_FailsNamingTheSetting()
    {
        using var deadline = TestDeadline.Create();
        using var host = Host([]);

        var e = await Assert.ThrowsAsync<PostgresStorageException>(() => host.StartAsync(deadline.Token));

        Assert.Contains("ConnectionStrings:Flow", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AddFlowPostgresStorage_HostStart_MigratesTheConfiguredSchemaAndServesTheStoreAndQueue()
    {
        using var deadline = TestDeadline.Create();
        var schema = UniqueNames.Schema("m");
        using var host = Host(new()
        {
            ["ConnectionStrings:Flow"] = postgres.ConnectionString,
            ["Flow:Storage:Postgres:Schema"] = schema,
            ["Flow:Storage:Postgres:RetentionDays"] = "7",
            ["Flow:Storage:Postgres:ListenNotify"] = "false",
        });

        await host.StartAsync(deadline.Token);
        var store = host.Services.GetRequiredService<IFlowStore>();
        var queue = host.Services.GetRequiredService<IWorkQueue>();
        await queue.EnsureQueueAsync("runs-default", deadline.Token);
        await queue.EnqueueAsync("runs-default", new WorkItem { Kind = WorkItem.RunKind, RunId = "r1" }, TimeSpan.Zero, deadline.Token);

        Assert.IsType<PostgresFlowStore>(store);
        Assert.Equal(schema, ((PostgresFlowStore)store).Schema);
        Assert.Equal(1, await queue.GetApproximateCountAsync("runs-default", deadline.Token));
        Assert.Contains(host.Services.GetServices<IHostedService>(), s => s is PostgresRetentionService);
        Assert.Same(host.Services.GetRequiredService<NpgsqlDataSource>(), host.Services.GetRequiredService<NpgsqlDataSource>());
        await host.StopAsync(deadline.Token);
    }

    [Fact]
    public void Options_Defaults_RetentionOnForThirtyDaysAndNotificationsOn()
    {
        var options = new PostgresFlowStorageOptions();

        Assert.Equal(30, options.RetentionDays);
        Assert.True(options.ListenNotify);
        Assert.True(options.MigrateOnStart);
        Assert.Equal("flow", options.Schema);
        options.Validate();
    }

    [Theory]
    [InlineData("Flow")]
    [InlineData("1flow")]
    [InlineData("flow-runs")]
    [InlineData("")]
    public void Options_InvalidSchema_ThrowsNamingTheSetting(string schema)
    {
        var e = Assert.Throws<ArgumentException>(() => new PostgresFlowStorageOptions { Schema = schema }.Validate());

        Assert.Contains("Flow:Storage:Postgres:Schema", e.Message, StringComparison.Ordinal);
    }

    private static IConfiguration Configuration(Dictionary<string, string?> settings) => new ConfigurationBuilder().AddInMemoryCollection(settings).Build();

    private static IHost Host(Dictionary<string, string?> settings)
    {
        var builder = Microsoft.Extensions.Hosting.Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Configuration.AddInMemoryCollection(settings);
        builder.Services.AddFlowPostgresStorage(builder.Configuration);
        return builder.Build();
    }
}
