using Flow.Engine.Storage;
using Flow.Sdk;
using Flow.TestSupport;

namespace Flow.Storage.Conformance;

/// <summary>Creating and reading runs; what a run record keeps.</summary>
public abstract partial class FlowStoreConformanceTests
{
    [Fact]
    public async Task InitializeAsync_CalledAgainConcurrently_Succeeds()
    {
        using var deadline = TestDeadline.Create(Timeout);
        var store = await NewStoreAsync(deadline.Token);

        await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => store.InitializeAsync(deadline.Token)));

        var run = await CreateAsync(store, NewRun(), deadline.Token);
        Assert.NotNull(await store.GetRunAsync(run.Record.RunId, deadline.Token));
    }

    [Fact]
    public async Task Limits_AreUsable_AtLeastTenItemsAndOneMebibyte()
    {
        using var deadline = TestDeadline.Create(Timeout);
        var store = await NewStoreAsync(deadline.Token);

        Assert.InRange(store.MaxItemsPerCommit, 10, int.MaxValue);
        Assert.InRange(store.MaxPayloadBytes, MiB, int.MaxValue);
    }

    [Fact]
    public async Task CreateRunAsync_NewRun_StoresRecordAndFirstTransition()
    {
        using var deadline = TestDeadline.Create(Timeout);
        var store = await NewStoreAsync(deadline.Token);
        var run = NewRun(state: RunState.Scheduled);

        var (stored, created) = await store.CreateRunAsync(run, FirstTransition(run), deadline.Token);

        Assert.True(created);
        Assert.False(string.IsNullOrEmpty(stored.Version));
        AssertRun(run, stored.Record);
        var read = await store.GetRunAsync(run.RunId, deadline.Token);
        Assert.NotNull(read);
        Assert.Equal(stored.Version, read.Version);
        AssertRun(run, read.Record);
        Assert.Equal([FirstTransition(run)], await store.GetStateHistoryAsync(run.RunId, deadline.Token));
        var journal = await store.LoadJournalAsync(read.Record, deadline.Token);
        Assert.Empty(journal.Events);
        Assert.Empty(journal.Inbox);
        Assert.Empty(await ReadAllLogsAsync(store, run.RunId, 10, deadline.Token));
        Assert.Empty(await store.GetArtifactsAsync(run.RunId, deadline.Token));
    }

    [Fact]
    public async Task CreateRunAsync_ExistingId_ReturnsExistingRunUnchangedWithCreatedFalse()
    {
        using var deadline = TestDeadline.Create(Timeout);
        var (store, first) = await NewStoreWithRunAsync(deadline.Token);
        var current = await store.CommitAsync(
            Commit(first, r => r with { State = RunState.Running, StateMessage = "started" }, transitions: [Transition(2, RunState.Pending, RunState.Running)]),
            deadline.Token);
        var other = NewRun(first.Record.RunId, RunState.Scheduled, "another-flow", T0.AddHours(1)) with { Parameters = "{\"other\":true}" };

        var (again, created) = await store.CreateRunAsync(other, FirstTransition(other), deadline.Token);

        Assert.False(created);
        Assert.Equal(current.Version, again.Version);
        AssertRun(current.Record, again.Record);
        var read = await store.GetRunAsync(other.RunId, deadline.Token);
        Assert.Equal(current.Version, read?.Version);
        AssertRun(current.Record, read?.Record);
        Assert.Equal([RunState.Pending, RunState.Running], (await store.GetStateHistoryAsync(other.RunId, deadline.Token)).Select(t => t.To));
    }

    [Fact]
    public async Task CreateRunAsync_ConcurrentCreatesOfOneId_ExactlyOneCreatesIt()
    {
        using var deadline = TestDeadline.Create(Timeout);
        var store = await NewStoreAsync(deadline.Token);
        var runId = NewRunId();
        var candidates = Enumerable.Range(0, 8).Select(i => NewRun(runId, flowName: $"flow-{i}")).ToArray();

        var results = await Task.WhenAll(candidates.Select(run => store.CreateRunAsync(run, FirstTransition(run), deadline.Token)));

        Assert.Single(results, r => r.Created);
        var winner = results.Single(r => r.Created).Run;
        Assert.All(results, r => Assert.Equal(winner.Version, r.Run.Version));
        Assert.All(results, r => AssertRun(winner.Record, r.Run.Record));
        AssertRun(winner.Record, (await store.GetRunAsync(runId, deadline.Token))?.Record);
        Assert.Single(await store.GetStateHistoryAsync(runId, deadline.Token));
    }

    [Theory]
    [InlineData("")]
    [InlineData("has/slash")]
    [InlineData("has\\backslash")]
    [InlineData("has#hash")]
    [InlineData("has?question")]
    [InlineData("has space")]
    [InlineData("ünïcode")]
    [InlineData("tab\there")]
    public async Task CreateRunAsync_MalformedRunId_ThrowsArgumentException(string runId)
    {
        using var deadline = TestDeadline.Create(Timeout);
        var store = await NewStoreAsync(deadline.Token);
        var run = NewRun(runId);

        await Assert.ThrowsAnyAsync<ArgumentException>(() => store.CreateRunAsync(run, FirstTransition(run), deadline.Token));
    }

    [Fact]
    public async Task CreateRunAsync_RunIdOf101Characters_ThrowsArgumentException()
    {
        using var deadline = TestDeadline.Create(Timeout);
        var store = await NewStoreAsync(deadline.Token);
        var run = NewRun(new string('r', StorageContract.MaxRunIdLength + 1));

        await Assert.ThrowsAnyAsync<ArgumentException>(() => store.CreateRunAsync(run, FirstTransition(run), deadline.Token));
    }

    [Fact]
    public async Task CreateRunAsync_RunIdOf100CharactersOfEveryAllowedKind_RoundTrips()
    {
        using var deadline = TestDeadline.Create(Timeout);
        var store = await NewStoreAsync(deadline.Token);
        var prefix = "AZaz09-_." + UniqueNames.Suffix();
        var run = NewRun(prefix + new string('.', StorageContract.MaxRunIdLength - prefix.Length));

        await CreateAsync(store, run, deadline.Token);

        AssertRun(run, (await store.GetRunAsync(run.RunId, deadline.Token))?.Record);
        Assert.Single(await store.GetStateHistoryAsync(run.RunId, deadline.Token));
    }

    [Fact]
    public async Task CreateRunAsync_InconsistentNewRun_ThrowsArgumentExceptionAndCreatesNothing()
    {
        using var deadline = TestDeadline.Create(Timeout);
        var store = await NewStoreAsync(deadline.Token);
        var run = NewRun();
        var first = FirstTransition(run);
        (FlowRunRecord Run, StateTransition First)[] cases =
        [
            (run with { TransitionCount = 0 }, first),
            (run with { TransitionCount = 2 }, first),
            (run with { JournalLength = 1 }, first),
            (run with { LogCount = 1 }, first),
            (run, first with { Index = 2 }),
            (run, first with { From = RunState.Scheduled }),
            (run, first with { To = RunState.Running }),
        ];

        foreach (var (badRun, badFirst) in cases)
        {
            await Assert.ThrowsAnyAsync<ArgumentException>(() => store.CreateRunAsync(badRun, badFirst, deadline.Token));
        }

        Assert.Null(await store.GetRunAsync(run.RunId, deadline.Token));
    }

    [Fact]
    public async Task GetRunAsync_UnknownId_ReturnsNull()
    {
        using var deadline = TestDeadline.Create(Timeout);
        var store = await NewStoreAsync(deadline.Token);
        await CreateAsync(store, NewRun(), deadline.Token);

        Assert.Null(await store.GetRunAsync(NewRunId("unknown"), deadline.Token));
    }

    [Fact]
    public async Task CreateRunAsync_EveryFieldSet_RoundTripsExactly()
    {
        using var deadline = TestDeadline.Create(Timeout);
        var store = await NewStoreAsync(deadline.Token);
        var run = FullRun(NewRunId("full"), variant: 1);

        var (stored, _) = await store.CreateRunAsync(run, FirstTransition(run), deadline.Token);

        AssertRun(run, stored.Record);
        AssertRun(run, (await store.GetRunAsync(run.RunId, deadline.Token))?.Record);
    }

    [Fact]
    public async Task CommitAsync_EveryFieldChanged_RoundTripsExactly()
    {
        using var deadline = TestDeadline.Create(Timeout);
        var store = await NewStoreAsync(deadline.Token);
        var created = await CreateAsync(store, FullRun(NewRunId("full"), variant: 1), deadline.Token);

        await AssertReplacementRoundTripsAsync(store, created, FullRun(created.Record.RunId, variant: 2), deadline.Token);
    }

    [Fact]
    public async Task CommitAsync_OptionalFieldsClearedAndTagsRemoved_ReadBackClearedAndRemoved()
    {
        using var deadline = TestDeadline.Create(Timeout);
        var store = await NewStoreAsync(deadline.Token);
        var created = await CreateAsync(store, FullRun(NewRunId("full"), variant: 1), deadline.Token);
        var cleared = NewRun(created.Record.RunId, RunState.Pending, created.Record.FlowName, created.Record.CreatedAt);

        var read = await AssertReplacementRoundTripsAsync(store, created, cleared, deadline.Token);

        Assert.Empty(read.Tags);
        Assert.Null(read.Failure);
        Assert.Null(read.Parameters);
    }

    /// <summary>Commits <paramref name="replacement"/> over <paramref name="current"/> and asserts that the commit's result and a new read return it.</summary>
    protected static async Task<FlowRunRecord> AssertReplacementRoundTripsAsync(
        IFlowStore store, StoredRun current, FlowRunRecord replacement, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(replacement);
        var stored = await store.CommitAsync(Commit(current, _ => replacement), cancellationToken);
        AssertRun(replacement, stored.Record);
        var read = await store.GetRunAsync(replacement.RunId, cancellationToken);
        AssertRun(replacement, read?.Record);
        return read!.Record;
    }

    [Fact]
    public async Task CreateRunAsync_OnlyRequiredFields_RoundTripsDefaults()
    {
        using var deadline = TestDeadline.Create(Timeout);
        var store = await NewStoreAsync(deadline.Token);
        var run = new FlowRunRecord { RunId = NewRunId("minimal"), FlowName = "f", State = RunState.Pending, CreatedAt = T0, TransitionCount = 1 };

        await CreateAsync(store, run, deadline.Token);

        var read = await store.GetRunAsync(run.RunId, deadline.Token);
        AssertRun(run, read?.Record);
        Assert.Equal(default, read!.Record.StateTime);
        Assert.Equal(default, read.Record.ScheduledAt);
        Assert.Empty(read.Record.Tags);
    }

    [Fact]
    public async Task CreateRunAsync_EveryRunState_RoundTrips()
    {
        using var deadline = TestDeadline.Create(Timeout);
        var store = await NewStoreAsync(deadline.Token);

        foreach (var state in Enum.GetValues<RunState>())
        {
            var run = NewRun(NewRunId(state.ToString().ToLowerInvariant()), state);
            await CreateAsync(store, run, deadline.Token);

            Assert.Equal(state, (await store.GetRunAsync(run.RunId, deadline.Token))?.Record.State);
            Assert.Equal(state, Assert.Single(await store.GetStateHistoryAsync(run.RunId, deadline.Token)).To);
        }
    }

    [Fact]
    public async Task Timestamps_WithTicksAndOffsets_ReadBackInUtcTruncatedToTheMicrosecond()
    {
        using var deadline = TestDeadline.Create(Timeout);
        var store = await NewStoreAsync(deadline.Token);
        // 15:09:26.5358979 UTC, written at +05:30 and -08:00; kept as 15:09:26.535897 UTC.
        var plus = new DateTimeOffset(2026, 3, 14, 20, 39, 26, TimeSpan.FromHours(5.5)).AddTicks(5_358_979);
        var minus = plus.ToOffset(TimeSpan.FromHours(-8));
        var expected = new DateTimeOffset(2026, 3, 14, 15, 9, 26, TimeSpan.Zero).AddTicks(5_358_970);
        var run = NewRun(NewRunId("time")) with
        {
            StateTime = plus, CreatedAt = minus, ScheduledAt = plus, StartedAt = minus, EndedAt = plus,
            LeaseUntil = minus, WakeAt = plus, HeartbeatAt = minus,
        };
        var created = await CreateAsync(store, run with { StartedAt = null }, deadline.Token);
        var transition = new StateTransition(2, RunState.Pending, RunState.Running, minus, null, 1);
        await store.CommitAsync(
            Commit(
                created,
                _ => run,
                events: [Event(1) with { Timestamp = plus, StartedAt = minus, DueAt = plus }],
                transitions: [transition],
                inboxToAdd: [Inbox("time-1", plus) with { StartedAt = minus }],
                logs: [new RunLogLine(minus, "Information", "time")],
                artifacts: [Artifact("time") with { CreatedAt = plus }]),
            deadline.Token);
        await store.PutCacheEntryAsync(new CacheEntry("time", "1", "t", run.RunId, minus, plus), deadline.Token);

        var record = (await store.GetRunAsync(run.RunId, deadline.Token))!.Record;
        var journal = await store.LoadJournalAsync(record, deadline.Token);
        var e = Assert.Single(journal.Events);
        var inbox = Assert.Single(journal.Inbox);
        var cache = await store.GetCacheEntryAsync("time", deadline.Token);
        DateTimeOffset?[] times =
        [
            record.StateTime, record.CreatedAt, record.ScheduledAt, record.StartedAt, record.EndedAt, record.LeaseUntil, record.WakeAt,
            record.HeartbeatAt, e.Timestamp, e.StartedAt, e.DueAt, inbox.Timestamp, inbox.StartedAt,
            (await store.GetStateHistoryAsync(run.RunId, deadline.Token))[1].Timestamp,
            Assert.Single(await ReadAllLogsAsync(store, run.RunId, 10, deadline.Token)).Timestamp,
            Assert.Single(await store.GetArtifactsAsync(run.RunId, deadline.Token)).CreatedAt,
            cache?.CreatedAt, cache?.ExpiresAt,
        ];
        Assert.All(times, t => Assert.True(t is { } time && time.EqualsExact(expected), $"Expected {expected:O}, got {t:O}."));
    }

    /// <summary>A run with every field set; <paramref name="variant"/> changes every value but those fixed at creation (flow name, creation time).</summary>
    protected static FlowRunRecord FullRun(string runId, int variant)
    {
        var v = variant;
        return new FlowRunRecord
        {
            RunId = runId,
            FlowName = "données-流程 ✓",
            Pool = $"gpu-pool-{v}",
            Deployment = $"données-流程-{v}/nightly-夜 \"quoted\"",
            State = v % 2 == 0 ? RunState.Failed : RunState.Running,
            StateMessage = $"Line one {v}\nline two: 'quotes' \"double\" \\ backslash \t tab 🚀",
            StateTime = T0.AddMinutes(v),
            Attempt = 2 + v,
            JournalLength = 0,
            TransitionCount = 1,
            LogCount = 0,
            Parameters = $"{{ \"variant\" : {v}, \"name\":\"Zoë 🎉\", \"list\": [1, 2.50, null, true] }}",
            Result = v % 2 == 0 ? null : $"[\"result\", {v}]",
            Failure = new FailureInfo(
                $"System.InvalidOperationException{v}", $"Something failed: ✗ {v}", "   at Flow.Task.Run()\n" + Payloads.Text(100_000, v)),
            Tags = new Dictionary<string, string>
            {
                ["env"] = $"prod-{v}",
                ["team/owner"] = $"données 🚀 {v}",
                ["empty"] = string.Empty,
                ["quote\"key'"] = "a'b\"c\\d",
                [$"variant-{v}"] = "only in this variant",
            },
            ParentRunId = $"parent-{v}",
            ParentAttempt = v,
            ParentCallId = 10 + v,
            CreatedAt = T0.AddSeconds(-1),
            ScheduledAt = T0.AddHours(v),
            StartedAt = T0.AddHours(v).AddMilliseconds(1.5),
            EndedAt = T0.AddDays(v).AddTicks(10),
            LeaseOwner = $"worker-{v}@host.example",
            LeaseUntil = T0.AddMinutes(5 + v),
            WakeRequested = v % 2 == 1,
            CancelRequested = v % 2 == 0,
            WakeAt = T0.AddYears(v),
            HeartbeatAt = T0.AddSeconds(30 + v),
            FlowVersion = $"{v}.2.3+build.5",
            HookPending = v % 2 == 0,
        };
    }
}
