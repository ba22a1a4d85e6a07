using System.Text.Json;
using Flow.ControlPlane;
using Flow.TestSupport;

namespace Flow.Storage.Conformance;

/// <summary>
/// The conformance suite every <see cref="IControlStore"/> passes. A backend's test project subclasses it and implements
/// <see cref="CreateStoreAsync"/> (a new, empty store isolated from every other one); the suite calls
/// <see cref="IControlStore.InitializeAsync"/> itself and disposes stores that are disposable.
/// </summary>
public abstract partial class ControlStoreConformanceTests : IAsyncDisposable
{
    /// <summary>A base time with ticks below a microsecond and an offset, so normalization shows.</summary>
    protected static readonly DateTimeOffset T0 = new DateTimeOffset(2026, 3, 14, 15, 9, 26, 535, TimeSpan.FromHours(2)).AddTicks(9);

    private readonly List<IControlStore> _stores = [];

    /// <summary>The deadline of a test. Defaults to 30 seconds.</summary>
    protected virtual TimeSpan Timeout => TestDeadline.DefaultTimeout;

    /// <summary>Creates a new, empty store, isolated from every other store the suite creates (it need not be initialized yet).</summary>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The store.</returns>
    protected abstract Task<IControlStore> CreateStoreAsync(CancellationToken cancellationToken);

    /// <summary>Disposes the stores the test created.</summary>
    /// <returns>A task.</returns>
    public async ValueTask DisposeAsync()
    {
        await DisposeAsyncCore();
        GC.SuppressFinalize(this);
    }

    /// <summary>Disposes the stores the test created; override to clean up more (call the base).</summary>
    /// <returns>A task.</returns>
    protected virtual ValueTask DisposeAsyncCore() => Disposal.DisposeAllAsync(_stores);

    /// <summary>Creates and initializes a store for the current test.</summary>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The store.</returns>
    protected async Task<IControlStore> NewStoreAsync(CancellationToken cancellationToken)
    {
        var store = await CreateStoreAsync(cancellationToken);
        _stores.Add(store);
        await store.InitializeAsync(cancellationToken);
        return store;
    }

    /// <summary>A deployment with only its required fields.</summary>
    protected static DeploymentRecord MinimalDeployment(string name = "etl/daily") => new() { Name = name, FlowName = name[..name.IndexOf('/', StringComparison.Ordinal)] };

    /// <summary>A deployment with every field set, Unicode where text is free, and mutable collections the caller keeps.</summary>
    protected static DeploymentRecord FullDeployment(string name = "etl.v2/nightly_eu-1") => MinimalDeployment(name) with
    {
        Entrypoint = new DeploymentEntrypoint
        {
            Kind = DeploymentEntrypoint.ProcessKind,
            Command = new List<string> { "/usr/bin/python3", "-m", "etl", "--name=données 流程", "" },
            WorkingDirectory = "/srv/etl ✓",
            Environment = new Dictionary<string, string> { ["TOKEN"] = "secret:ETL_TOKEN", ["GREETING"] = "héllo\nwörld", ["EMPTY"] = "" },
        },
        Pool = "process-eu-1",
        Parameters = """{ "source": "crm",  "rows": [1, 2.50, 3e3], "note": "ünïcödé ✓ 𝄞" }""",
        Tags = new Dictionary<string, string> { ["team"] = "data", ["env"] = "prod", ["ключ"] = "значение", ["empty"] = "" },
        Version = "2026.03.14-rc1",
        Description = "Nightly ETL — loads the CRM into the warehouse.\nSecond line: 𝄞 ✓ 中文",
        Paused = true,
        ConcurrencyLimit = 3,
        CollisionStrategy = CollisionStrategy.CancelNew,
        Schedules = new List<DeploymentSchedule>
        {
            new() { Id = "weekday-morning", Cron = "30 6 * * 1-5", TimeZone = "Europe/Berlin", Parameters = """{"window":"morning"}""" },
            new() { Id = "every_90s", Interval = TimeSpan.FromSeconds(90.5).Add(TimeSpan.FromTicks(7)), Anchor = T0.AddDays(-3), Active = false },
            new() { Id = "six-field", Cron = "0 */15 * * * *" },
        },
        Source = "file:deployments/etl.yaml",
        CreatedAt = T0,
        UpdatedAt = T0.AddHours(5).AddTicks(3),
    };

    /// <summary>A work pool with every field set.</summary>
    protected static WorkPoolRecord FullPool(string name = "process-eu-1") => new()
    {
        Name = name,
        Type = WorkPoolRecord.ProcessType,
        Description = "Workers in the EU — 𝄞 ✓",
        ConcurrencyLimit = 12,
        Paused = true,
        AllowedCommands = new List<string> { "/usr/bin/python3", "dotnet" },
        CreatedAt = T0,
        UpdatedAt = T0.AddMinutes(1),
    };

    /// <summary>A rejected request.</summary>
    protected static RejectedRunRequest Rejected(string id, DateTimeOffset rejectedAt, string reason = "unknown deployment") => new()
    {
        Id = id,
        Source = "flow-run-requests",
        RejectedAt = rejectedAt,
        Reason = reason,
        Field = "parameters.count",
        Body = $$"""{"deployment":"etl/nope","id":"{{id}}","note":"ünïcödé ✓"}""",
    };

    /// <summary>Asserts <paramref name="actual"/> is <paramref name="expected"/> as stores keep it (times normalized; dictionaries compared as sets).</summary>
    protected static void AssertDeployment(DeploymentRecord expected, DeploymentRecord? actual)
    {
        Assert.NotNull(actual);
        Assert.Equal(Canonical(ControlStoreContract.Normalize(expected)), Canonical(actual));
    }

    /// <summary>Asserts <paramref name="actual"/> is <paramref name="expected"/> as stores keep it.</summary>
    protected static void AssertPool(WorkPoolRecord expected, WorkPoolRecord? actual)
    {
        Assert.NotNull(actual);
        Assert.Equal(Json(ControlStoreContract.Normalize(expected)), Json(actual));
    }

    /// <summary>The record as JSON with its dictionaries sorted, so two records with equal content give equal text.</summary>
    protected static string Canonical(DeploymentRecord record) => Json(record with
    {
        Tags = new SortedDictionary<string, string>(record.Tags.ToDictionary(), StringComparer.Ordinal),
        Entrypoint = record.Entrypoint with
        {
            Environment = record.Entrypoint.Environment is { } env ? new SortedDictionary<string, string>(env.ToDictionary(), StringComparer.Ordinal) : null,
        },
    });

    private static string Json<T>(T value) => JsonSerializer.Serialize(value);
}
