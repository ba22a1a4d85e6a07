using Flow.ControlPlane;
using Flow.Engine.Storage;
using Flow.TestSupport;

namespace Flow.Storage.Conformance;

/// <summary>Deployments, work pools, rejected requests and state entries: round trips, versions, write conditions, lists.</summary>
public abstract partial class ControlStoreConformanceTests
{
    [Fact]
    public async Task PutDeploymentAsync_EveryField_RoundTripsExactly()
    {
        using var deadline = TestDeadline.Create(Timeout);
        var store = await NewStoreAsync(deadline.Token);
        var deployment = FullDeployment();

        var put = await store.PutDeploymentAsync(deployment, null, deadline.Token);
        var read = await store.GetDeploymentAsync(deployment.Name, deadline.Token);
        var listed = Assert.Single(await store.ListDeploymentsAsync(deadline.Token));

        AssertDeployment(deployment, put.Record);
        Assert.NotNull(read);
        AssertDeployment(deployment, read.Record);
        AssertDeployment(deployment, listed.Record);
        Assert.Equal(put.Version, read.Version);
        Assert.Equal(put.Version, listed.Version);
        Assert.Equal(TimeSpan.Zero, read.Record.CreatedAt.Offset);
        Assert.Equal(StorageContract.NormalizeTime(T0.AddDays(-3)), read.Record.Schedules[1].Anchor);
        Assert.Equal(TimeSpan.FromSeconds(90.5).Add(TimeSpan.FromTicks(7)), read.Record.Schedules[1].Interval);
        Assert.Equal(["weekday-morning", "every_90s", "six-field"], read.Record.Schedules.Select(s => s.Id));
    }

    [Fact]
    public async Task PutDeploymentAsync_RequiredFieldsOnly_RoundTripsTheDefaults()
    {
        using var deadline = TestDeadline.Create(Timeout);
        var store = await NewStoreAsync(deadline.Token);

        await store.PutDeploymentAsync(MinimalDeployment(), IControlStore.MustNotExist, deadline.Token);
        var read = await store.GetDeploymentAsync("etl/daily", deadline.Token);

        Assert.NotNull(read);
        AssertDeployment(MinimalDeployment(), read.Record);
        Assert.Equal(DeploymentEntrypoint.FlowKind, read.Record.Entrypoint.Kind);
        Assert.Null(read.Record.Entrypoint.Command);
        Assert.Null(read.Record.ConcurrencyLimit);
        Assert.Empty(read.Record.Tags);
        Assert.Empty(read.Record.Schedules);
    }

    [Fact]
    public async Task PutDeploymentAsync_ReplaceWithFewerFields_ClearsTheOldOnes()
    {
        using var deadline = TestDeadline.Create(Timeout);
        var store = await NewStoreAsync(deadline.Token);
        var full = await store.PutDeploymentAsync(FullDeployment("etl/daily"), null, deadline.Token);

        await store.PutDeploymentAsync(MinimalDeployment("etl/daily"), full.Version, deadline.Token);

        AssertDeployment(MinimalDeployment("etl/daily"), (await store.GetDeploymentAsync("etl/daily", deadline.Token))?.Record);
    }

    [Fact]
    public async Task PutDeploymentAsync_CallerChangesItsCollectionsAfterwards_StoredRecordIsUnchanged()
    {
        using var deadline = TestDeadline.Create(Timeout);
        var store = await NewStoreAsync(deadline.Token);
        var deployment = FullDeployment();
        var expected = Canonical(ControlStoreContract.Normalize(deployment));

        var put = await store.PutDeploymentAsync(deployment, null, deadline.Token);
        ((List<string>)deployment.Entrypoint.Command!).Add("--evil");
        ((Dictionary<string, string>)deployment.Entrypoint.Environment!)["TOKEN"] = "changed";
        ((Dictionary<string, string>)deployment.Tags)["team"] = "changed";
        ((List<DeploymentSchedule>)deployment.Schedules).Clear();

        Assert.Equal(expected, Canonical(put.Record));
        Assert.Equal(expected, Canonical((await store.GetDeploymentAsync(deployment.Name, deadline.Token))!.Record));
    }

    [Fact]
    public async Task PutDeploymentAsync_EveryWriteCondition_BehavesAsDocumented()
    {
        using var deadline = TestDeadline.Create(Timeout);
        var store = await NewStoreAsync(deadline.Token);
        await AssertWriteConditionsAsync(
            (version, n) => store.PutDeploymentAsync(MinimalDeployment() with { Description = $"write {n}" }, version, deadline.Token),
            async () => await store.GetDeploymentAsync("etl/daily", deadline.Token) is { } d ? new Versioned<string>(d.Record.Description!, d.Version) : null,
            v => v.Record.Description!);
    }

    [Fact]
    public async Task PutWorkPoolAsync_EveryWriteCondition_BehavesAsDocumented()
    {
        using var deadline = TestDeadline.Create(Timeout);
        var store = await NewStoreAsync(deadline.Token);
        await AssertWriteConditionsAsync(
            (version, n) => store.PutWorkPoolAsync(new WorkPoolRecord { Name = "default", Description = $"write {n}" }, version, deadline.Token),
            async () => await store.GetWorkPoolAsync("default", deadline.Token) is { } p ? new Versioned<string>(p.Record.Description!, p.Version) : null,
            v => v.Record.Description!);
    }

    [Fact]
    public async Task PutStateAsync_EveryWriteCondition_BehavesAsDocumented()
    {
        using var deadline = TestDeadline.Create(Timeout);
        var store = await NewStoreAsync(deadline.Token);
        await AssertWriteConditionsAsync(
            (version, n) => store.PutStateAsync("scheduler:cursor:etl.daily", $"write {n}", version, deadline.Token),
            () => store.GetStateAsync("scheduler:cursor:etl.daily", deadline.Token),
            v => v.Record);
    }

    [Fact]
    public async Task PutDeploymentAsync_ConcurrentCreatesOfOneName_ExactlyOneWins()
    {
        using var deadline = TestDeadline.Create(Timeout);
        var store = await NewStoreAsync(deadline.Token);
        const int Writers = 8;

        var attempts = await Task.WhenAll(Enumerable.Range(0, Writers).Select(async i =>
        {
            await Task.Yield();
            try
            {
                return (i, (Versioned<DeploymentRecord>?)await store.PutDeploymentAsync(MinimalDeployment() with { Description = $"writer {i}" }, IControlStore.MustNotExist, deadline.Token));
            }
            catch (ConcurrencyException)
            {
                return (i, null);
            }
        }));

        var winner = Assert.Single(attempts, a => a.Item2 is not null);
        var stored = await store.GetDeploymentAsync("etl/daily", deadline.Token);
        Assert.NotNull(stored);
        Assert.Equal($"writer {winner.i}", stored.Record.Description);
        Assert.Equal(winner.Item2!.Version, stored.Version);
    }

    [Fact]
    public async Task PutStateAsync_ConcurrentUpdatesFromOneVersion_ExactlyOneWins()
    {
        using var deadline = TestDeadline.Create(Timeout);
        var store = await NewStoreAsync(deadline.Token);
        var first = await store.PutStateAsync("slots:etl", "0", IControlStore.MustNotExist, deadline.Token);

        var results = await Task.WhenAll(Enumerable.Range(1, 6).Select(async i =>
        {
            await Task.Yield();
            try
            {
                return (Versioned<string>?)await store.PutStateAsync("slots:etl", i.ToString(System.Globalization.CultureInfo.InvariantCulture), first.Version, deadline.Token);
            }
            catch (ConcurrencyException)
            {
                return null;
            }
        }));

        var winner = Assert.Single(results, r => r is not null);
        Assert.Equal(winner, await store.GetStateAsync("slots:etl", deadline.Token));
    }

    [Fact]
    public async Task DeleteDeploymentAsync_ExistingAndMissing_ReturnsWhetherItExisted()
    {
        using var deadline = TestDeadline.Create(Timeout);
        var store = await NewStoreAsync(deadline.Token);
        await store.PutDeploymentAsync(MinimalDeployment("etl/a"), null, deadline.Token);
        await store.PutDeploymentAsync(MinimalDeployment("etl/b"), null, deadline.Token);

        Assert.True(await store.DeleteDeploymentAsync("etl/a", deadline.Token));
        Assert.False(await store.DeleteDeploymentAsync("etl/a", deadline.Token));
        Assert.False(await store.DeleteDeploymentAsync("etl/never", deadline.Token));

        Assert.Null(await store.GetDeploymentAsync("etl/a", deadline.Token));
        Assert.Equal(["etl/b"], (await store.ListDeploymentsAsync(deadline.Token)).Select(d => d.Record.Name));
        var again = await store.PutDeploymentAsync(MinimalDeployment("etl/a"), IControlStore.MustNotExist, deadline.Token);
        Assert.Equal(again.Version, (await store.GetDeploymentAsync("etl/a", deadline.Token))!.Version);
    }

    [Fact]
    public async Task DeleteWorkPoolAsync_ExistingAndMissing_ReturnsWhetherItExisted()
    {
        using var deadline = TestDeadline.Create(Timeout);
        var store = await NewStoreAsync(deadline.Token);
        await store.PutWorkPoolAsync(FullPool("a"), null, deadline.Token);
        await store.PutWorkPoolAsync(FullPool("b"), null, deadline.Token);

        Assert.True(await store.DeleteWorkPoolAsync("a", deadline.Token));
        Assert.False(await store.DeleteWorkPoolAsync("a", deadline.Token));

        Assert.Null(await store.GetWorkPoolAsync("a", deadline.Token));
        Assert.Equal(["b"], (await store.ListWorkPoolsAsync(deadline.Token)).Select(p => p.Record.Name));
    }

    [Fact]
    public async Task ListDeploymentsAsync_ManyFlows_OrderedByFullNameOrdinal()
    {
        using var deadline = TestDeadline.Create(Timeout);
        var store = await NewStoreAsync(deadline.Token);
        string[] names = ["a/x", "a-b/y", "B/z", "a/x-2", "a.b/c", "a/X", "a/x.1", "ab/a", "0/z", "a_/q"];
        foreach (var name in names)
        {
            await store.PutDeploymentAsync(MinimalDeployment(name), null, deadline.Token);
        }

        var listed = await store.ListDeploymentsAsync(deadline.Token);

        Assert.Equal(names.Order(StringComparer.Ordinal), listed.Select(d => d.Record.Name));
        Assert.Empty(await (await NewStoreAsync(deadline.Token)).ListDeploymentsAsync(deadline.Token));
    }

    [Fact]
    public async Task PutWorkPoolAsync_EveryField_RoundTripsAndListsOrderedByName()
    {
        using var deadline = TestDeadline.Create(Timeout);
        var store = await NewStoreAsync(deadline.Token);
        string[] names = ["process-eu-1", "default", "a", "9-pool", "default-2", "b"];
        foreach (var name in names)
        {
            await store.PutWorkPoolAsync(FullPool(name), null, deadline.Token);
        }

        await store.PutWorkPoolAsync(new WorkPoolRecord { Name = "b" }, null, deadline.Token);
        var listed = await store.ListWorkPoolsAsync(deadline.Token);
        var read = await store.GetWorkPoolAsync("process-eu-1", deadline.Token);

        Assert.Equal(names.Order(StringComparer.Ordinal), listed.Select(p => p.Record.Name));
        Assert.NotNull(read);
        AssertPool(FullPool(), read.Record);
        AssertPool(new WorkPoolRecord { Name = "b" }, listed.Single(p => p.Record.Name == "b").Record);
        Assert.Null(await store.GetWorkPoolAsync("missing", deadline.Token));
    }

    [Fact]
    public async Task ListRejectedRequestsAsync_ManyRequests_NewestFirstUpToMaxCount()
    {
        using var deadline = TestDeadline.Create(Timeout);
        var store = await NewStoreAsync(deadline.Token);
        // Spread over several days (and so partitions, where a store has them), added out of order; r3 and r4 share a time (to the microsecond), so they are ordered by id.
        int[] hours = [5, 30, 1, 50, 50, 0, 75, 2];
        for (var i = 0; i < hours.Length; i++)
        {
            await store.AddRejectedRequestAsync(Rejected($"r{i}", T0.AddHours(hours[i]).AddTicks(i)), deadline.Token);
        }

        var all = await store.ListRejectedRequestsAsync(1000, deadline.Token);
        var top3 = await store.ListRejectedRequestsAsync(3, deadline.Token);
        var one = await store.ListRejectedRequestsAsync(1, deadline.Token);

        Assert.Equal(["r6", "r3", "r4", "r1", "r0", "r7", "r2", "r5"], all.Select(r => r.Id));
        Assert.Equal(["r6", "r3", "r4"], top3.Select(r => r.Id));
        Assert.Equal(["r6"], one.Select(r => r.Id));
        var r3 = all.Single(r => r.Id == "r3");
        Assert.Equal(ControlStoreContract.Normalize(Rejected("r3", T0.AddHours(50).AddTicks(3))), r3);
        Assert.Empty(await (await NewStoreAsync(deadline.Token)).ListRejectedRequestsAsync(10, deadline.Token));
    }

    [Fact]
    public async Task AddRejectedRequestAsync_SameIdAgain_ReplacesTheFirst()
    {
        using var deadline = TestDeadline.Create(Timeout);
        var store = await NewStoreAsync(deadline.Token);
        await store.AddRejectedRequestAsync(Rejected("dup", T0), deadline.Token);
        await store.AddRejectedRequestAsync(Rejected("other", T0.AddMinutes(1)), deadline.Token);
        var minimal = new RejectedRunRequest { Id = "dup", Source = "q", RejectedAt = T0.AddDays(2), Reason = "second time — 𝄞" };

        await store.AddRejectedRequestAsync(minimal, deadline.Token);
        var listed = await store.ListRejectedRequestsAsync(10, deadline.Token);

        Assert.Equal(["dup", "other"], listed.Select(r => r.Id));
        Assert.Equal(ControlStoreContract.Normalize(minimal), listed[0]);
    }

    [Fact]
    public async Task PutStateAsync_Values_RoundTripExactly()
    {
        using var deadline = TestDeadline.Create(Timeout);
        var store = await NewStoreAsync(deadline.Token);
        var largest = string.Concat(Enumerable.Repeat("é𝄞", ControlStoreContract.MaxTextBytes / 6)) + "ab"; // 32,768 UTF-8 bytes exactly
        (string Key, string Value)[] entries =
        [
            ("scheduler:cursor:etl.daily", """{ "next": "2026-03-14T15:00:00Z",  "n": 1.50 }"""),
            ("empty", string.Empty),
            ("Case", "upper"),
            ("case", "lower"),
            ("unicode:x", "ünïcödé ✓ 中文 \u0001\t\n"),
            ("largest", largest),
            (new string('k', ControlStoreContract.MaxStateKeyLength), "long key"),
        ];
        foreach (var (key, value) in entries)
        {
            var put = await store.PutStateAsync(key, value, null, deadline.Token);
            Assert.Equal(value, put.Record);
        }

        foreach (var (key, value) in entries)
        {
            var read = await store.GetStateAsync(key, deadline.Token);
            Assert.NotNull(read);
            Assert.Equal(value, read.Record);
        }

        Assert.Null(await store.GetStateAsync("missing", deadline.Token));
        Assert.Null(await store.GetStateAsync("CASE", deadline.Token));
    }

    [Fact]
    public async Task InitializeAsync_CalledAgainConcurrently_IsHarmless()
    {
        using var deadline = TestDeadline.Create(Timeout);
        var store = await NewStoreAsync(deadline.Token);
        await store.PutStateAsync("k", "v", null, deadline.Token);

        await Task.WhenAll(store.InitializeAsync(deadline.Token), store.InitializeAsync(deadline.Token));

        Assert.Equal("v", (await store.GetStateAsync("k", deadline.Token))?.Record);
    }

    /// <summary>
    /// Runs every write condition against one record: <paramref name="put"/> writes "write n" with a version,
    /// <paramref name="get"/> reads what is stored (value and version), <paramref name="value"/> takes the value from a put's result.
    /// </summary>
    private static async Task AssertWriteConditionsAsync<T>(
        Func<string?, int, Task<Versioned<T>>> put, Func<Task<Versioned<string>?>> get, Func<Versioned<T>, string> value)
    {
        // A version on a record that does not exist: nothing is created.
        await Assert.ThrowsAsync<ConcurrencyException>(() => put("1", 0));
        await Assert.ThrowsAsync<ConcurrencyException>(() => put("\"0x8D000000000000\"", 0));
        await Assert.ThrowsAsync<ConcurrencyException>(() => put("W/\"datetime'2026-01-01T00%3A00%3A00.0000000Z'\"", 0));
        Assert.Null(await get());

        // MustNotExist creates; a second MustNotExist fails and changes nothing.
        var created = await put(IControlStore.MustNotExist, 1);
        Assert.Equal("write 1", value(created));
        Assert.False(string.IsNullOrEmpty(created.Version));
        await Assert.ThrowsAsync<ConcurrencyException>(() => put(IControlStore.MustNotExist, 2));
        Assert.Equal(new Versioned<string>("write 1", created.Version), await get());

        // The current version replaces, with a new version; the old one is then stale.
        var replaced = await put(created.Version, 3);
        Assert.NotEqual(created.Version, replaced.Version);
        await Assert.ThrowsAsync<ConcurrencyException>(() => put(created.Version, 4));
        Assert.Equal(new Versioned<string>("write 3", replaced.Version), await get());

        // Null writes whatever is there; the same content written again still gets a new version.
        var unconditional = await put(null, 3);
        Assert.NotEqual(replaced.Version, unconditional.Version);
        var again = await put(unconditional.Version, 3);
        Assert.NotEqual(unconditional.Version, again.Version);
        Assert.Equal(new Versioned<string>("write 3", again.Version), await get());
    }
}
