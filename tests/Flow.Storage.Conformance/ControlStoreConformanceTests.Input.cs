using Flow.ControlPlane;
using Flow.TestSupport;

namespace Flow.Storage.Conformance;

/// <summary>Bad input throws <see cref="ArgumentException"/> and writes nothing; a cancelled token throws <see cref="OperationCanceledException"/>.</summary>
public abstract partial class ControlStoreConformanceTests
{
    /// <summary>The bad writes, by name: each must throw <see cref="ArgumentException"/> before writing.</summary>
    public static TheoryData<string> BadWrites => [.. BadWriteCases.Keys];

    /// <summary>The bad reads and deletes, by name.</summary>
    public static TheoryData<string> BadReads => [.. BadReadCases.Keys];

    /// <summary>Every operation, by name, for the cancellation test.</summary>
    public static TheoryData<string> Operations => [.. OperationCases.Keys];

    private static Dictionary<string, Func<IControlStore, CancellationToken, Task>> BadWriteCases => new(StringComparer.Ordinal)
    {
        ["deployment name without a slash"] = Put(MinimalDeployment() with { Name = "etl" }),
        ["deployment name with an empty flow part"] = Put(MinimalDeployment() with { Name = "/daily", FlowName = "" }),
        ["deployment name with an empty deployment part"] = Put(MinimalDeployment() with { Name = "etl/" }),
        ["deployment name with two slashes"] = Put(MinimalDeployment() with { Name = "etl/daily/x" }),
        ["deployment name with a space"] = Put(MinimalDeployment() with { Name = "etl/daily run" }),
        ["deployment name with a non-ASCII letter"] = Put(MinimalDeployment() with { Name = "données/daily", FlowName = "données" }),
        ["deployment name with a forbidden key character"] = Put(MinimalDeployment() with { Name = "etl/da#ly" }),
        ["deployment name part of 101 characters"] = Put(MinimalDeployment() with { Name = "etl/" + new string('d', 101) }),
        ["deployment flow name other than the name's"] = Put(MinimalDeployment() with { FlowName = "other" }),
        ["deployment pool name in upper case"] = Put(MinimalDeployment() with { Pool = "Default" }),
        ["deployment entrypoint kind unknown"] = Put(MinimalDeployment() with { Entrypoint = new DeploymentEntrypoint { Kind = "docker" } }),
        ["deployment concurrency limit zero"] = Put(MinimalDeployment() with { ConcurrencyLimit = 0 }),
        ["deployment collision strategy unknown"] = Put(MinimalDeployment() with { CollisionStrategy = (CollisionStrategy)7 }),
        ["deployment schedule with cron and interval"] = Put(WithSchedule(new() { Id = "s", Cron = "* * * * *", Interval = TimeSpan.FromMinutes(1) })),
        ["deployment schedule with neither"] = Put(WithSchedule(new() { Id = "s" })),
        ["deployment schedule with a negative interval"] = Put(WithSchedule(new() { Id = "s", Interval = TimeSpan.FromMinutes(-1) })),
        ["deployment schedule id with a dot"] = Put(WithSchedule(new() { Id = "s.1", Cron = "* * * * *" })),
        ["deployment schedule id of 41 characters"] = Put(WithSchedule(new() { Id = new string('s', 41), Cron = "* * * * *" })),
        ["deployment schedules with one id twice"] = Put(MinimalDeployment() with
        {
            Schedules = [new() { Id = "s", Cron = "* * * * *" }, new() { Id = "s", Interval = TimeSpan.FromHours(1) }],
        }),
        ["deployment over 32 KiB as JSON"] = Put(MinimalDeployment() with { Description = new string('d', ControlStoreContract.MaxRecordJsonBytes) }),
        ["pool name with upper case"] = Put(new WorkPoolRecord { Name = "Default" }),
        ["pool name starting with a hyphen"] = Put(new WorkPoolRecord { Name = "-pool" }),
        ["pool name with an underscore"] = Put(new WorkPoolRecord { Name = "my_pool" }),
        ["pool name of 41 characters"] = Put(new WorkPoolRecord { Name = new string('p', 41) }),
        ["pool name empty"] = Put(new WorkPoolRecord { Name = "" }),
        ["pool type unknown"] = Put(new WorkPoolRecord { Name = "default", Type = "kubernetes" }),
        ["pool concurrency limit negative"] = Put(new WorkPoolRecord { Name = "default", ConcurrencyLimit = -1 }),
        ["state key empty"] = (s, ct) => s.PutStateAsync("", "v", null, ct),
        ["state key of 201 characters"] = (s, ct) => s.PutStateAsync(new string('k', 201), "v", null, ct),
        ["state key with a slash"] = (s, ct) => s.PutStateAsync("a/b", "v", null, ct),
        ["state key with a space"] = (s, ct) => s.PutStateAsync("a b", "v", null, ct),
        ["state key with a non-ASCII letter"] = (s, ct) => s.PutStateAsync("clé", "v", null, ct),
        ["state value of 32 KiB and one byte"] = (s, ct) => s.PutStateAsync("k", new string('v', ControlStoreContract.MaxTextBytes - 1) + "é", null, ct),
        ["state value null"] = (s, ct) => s.PutStateAsync("k", null!, null, ct),
        ["rejected request id with a slash"] = (s, ct) => s.AddRejectedRequestAsync(Rejected("a/b", T0), ct),
        ["rejected request id empty"] = (s, ct) => s.AddRejectedRequestAsync(Rejected("", T0), ct),
        ["rejected request without a reason"] = (s, ct) => s.AddRejectedRequestAsync(Rejected("r", T0, reason: ""), ct),
        ["rejected request body over 32 KiB"] = (s, ct) => s.AddRejectedRequestAsync(Rejected("r", T0) with { Body = new string('b', ControlStoreContract.MaxTextBytes + 1) }, ct),
    };

    private static Dictionary<string, Func<IControlStore, CancellationToken, Task>> BadReadCases => new(StringComparer.Ordinal)
    {
        ["get deployment without a slash"] = (s, ct) => s.GetDeploymentAsync("etl", ct),
        ["delete deployment with a forbidden key character"] = (s, ct) => s.DeleteDeploymentAsync("etl/a?b", ct),
        ["get pool in upper case"] = (s, ct) => s.GetWorkPoolAsync("Default", ct),
        ["delete pool empty"] = (s, ct) => s.DeleteWorkPoolAsync("", ct),
        ["get state key with a slash"] = (s, ct) => s.GetStateAsync("a/b", ct),
        ["list rejected requests, none"] = (s, ct) => s.ListRejectedRequestsAsync(0, ct),
        ["list rejected requests, 1001"] = (s, ct) => s.ListRejectedRequestsAsync(1001, ct),
    };

    private static Dictionary<string, Func<IControlStore, CancellationToken, Task>> OperationCases => new(StringComparer.Ordinal)
    {
        ["InitializeAsync"] = (s, ct) => s.InitializeAsync(ct),
        ["GetDeploymentAsync"] = (s, ct) => s.GetDeploymentAsync("etl/daily", ct),
        ["ListDeploymentsAsync"] = (s, ct) => s.ListDeploymentsAsync(ct),
        ["PutDeploymentAsync"] = Put(MinimalDeployment()),
        ["DeleteDeploymentAsync"] = (s, ct) => s.DeleteDeploymentAsync("etl/daily", ct),
        ["GetWorkPoolAsync"] = (s, ct) => s.GetWorkPoolAsync("default", ct),
        ["ListWorkPoolsAsync"] = (s, ct) => s.ListWorkPoolsAsync(ct),
        ["PutWorkPoolAsync"] = Put(new WorkPoolRecord { Name = "default" }),
        ["DeleteWorkPoolAsync"] = (s, ct) => s.DeleteWorkPoolAsync("default", ct),
        ["AddRejectedRequestAsync"] = (s, ct) => s.AddRejectedRequestAsync(Rejected("r", T0), ct),
        ["ListRejectedRequestsAsync"] = (s, ct) => s.ListRejectedRequestsAsync(10, ct),
        ["GetStateAsync"] = (s, ct) => s.GetStateAsync("k", ct),
        ["PutStateAsync"] = (s, ct) => s.PutStateAsync("k", "v", null, ct),
    };

    [Theory]
    [MemberData(nameof(BadWrites))]
    public async Task Put_BadInput_ThrowsArgumentExceptionAndWritesNothing(string writeCase)
    {
        using var deadline = TestDeadline.Create(Timeout);
        var store = await NewStoreAsync(deadline.Token);

        await Assert.ThrowsAnyAsync<ArgumentException>(() => BadWriteCases[writeCase](store, deadline.Token));

        await AssertEmptyAsync(store, deadline.Token);
    }

    [Theory]
    [MemberData(nameof(BadReads))]
    public async Task Read_BadInput_ThrowsArgumentException(string readCase)
    {
        using var deadline = TestDeadline.Create(Timeout);
        var store = await NewStoreAsync(deadline.Token);

        await Assert.ThrowsAnyAsync<ArgumentException>(() => BadReadCases[readCase](store, deadline.Token));
    }

    [Theory]
    [MemberData(nameof(Operations))]
    public async Task Operation_CancelledToken_ThrowsOperationCanceledExceptionAndWritesNothing(string operation)
    {
        using var deadline = TestDeadline.Create(Timeout);
        var store = await NewStoreAsync(deadline.Token);
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => OperationCases[operation](store, cancelled.Token));

        await AssertEmptyAsync(store, deadline.Token);
    }

    private static async Task AssertEmptyAsync(IControlStore store, CancellationToken cancellationToken)
    {
        Assert.Empty(await store.ListDeploymentsAsync(cancellationToken));
        Assert.Empty(await store.ListWorkPoolsAsync(cancellationToken));
        Assert.Empty(await store.ListRejectedRequestsAsync(1000, cancellationToken));
        foreach (var key in new[] { "k", "s", "a" })
        {
            Assert.Null(await store.GetStateAsync(key, cancellationToken));
        }
    }

    private static DeploymentRecord WithSchedule(DeploymentSchedule schedule) => MinimalDeployment() with { Schedules = [schedule] };

    private static Func<IControlStore, CancellationToken, Task> Put(DeploymentRecord deployment) => (s, ct) => s.PutDeploymentAsync(deployment, null, ct);

    private static Func<IControlStore, CancellationToken, Task> Put(WorkPoolRecord pool) => (s, ct) => s.PutWorkPoolAsync(pool, null, ct);
}
