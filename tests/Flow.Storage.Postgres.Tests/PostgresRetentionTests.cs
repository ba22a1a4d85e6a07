using Flow.Engine.Storage;
using Flow.Sdk;
using Flow.TestSupport;
using Flow.Testing;

namespace Flow.Storage.Postgres.Tests;

public sealed class PostgresRetentionTests(PostgresFixture postgres) : PostgresTestBase(postgres)
{
    [Fact]
    public async Task RunOnceAsync_RunsThatEndedBeforeTheCutoff_AreDeletedWithEverythingTheyOwn()
    {
        var now = T0.AddDays(100);
        var old = await FinishedRunAsync("old-1", endedAt: now.AddDays(-40));
        var old2 = await FinishedRunAsync("old-2", endedAt: now.AddDays(-31));
        var recent = await FinishedRunAsync("recent", endedAt: now.AddDays(-29));
        var running = await CreateAsync(NewRun("running", createdAt: now.AddDays(-90)));
        await Store.PutCacheEntryAsync(new CacheEntry("expired", "1", "t", "old-1", T0, now.AddDays(-45)), Ct);
        await Store.PutCacheEntryAsync(new CacheEntry("valid", "2", "t", "old-1", T0, now.AddDays(1)), Ct);

        // A batch of one: the service repeats until a batch comes back short.
        var deleted = await Retention(now, days: 30, batchSize: 1).RunOnceAsync(Ct);

        Assert.Equal(2, deleted);
        foreach (var gone in new[] { old, old2 })
        {
            Assert.Null(await Store.GetRunAsync(gone.RunId, Ct));
            Assert.Empty(await Store.GetStateHistoryAsync(gone.RunId, Ct));
            Assert.Empty(await Store.GetArtifactsAsync(gone.RunId, Ct));
            Assert.Empty((await Store.GetLogsAsync(gone.RunId, 10, null, Ct)).Lines);
            Assert.Equal(0L, await ScalarAsync<long>("SELECT count(*) FROM {s}.journal_events WHERE run_id = $1", gone.RunId));
            Assert.Equal(0L, await ScalarAsync<long>("SELECT count(*) FROM {s}.inbox WHERE run_id = $1", gone.RunId));
        }

        Assert.NotNull(await Store.GetRunAsync(recent.RunId, Ct));
        Assert.Equal(3, (await Store.GetStateHistoryAsync(recent.RunId, Ct)).Count);
        Assert.NotNull(await Store.GetRunAsync(running.Record.RunId, Ct));
        Assert.Null(await Store.GetCacheEntryAsync("expired", Ct));
        Assert.NotNull(await Store.GetCacheEntryAsync("valid", Ct));
    }

    [Fact]
    public async Task RunOnceAsync_RetentionDaysZero_KeepsEverything()
    {
        var now = T0.AddDays(1000);
        var old = await FinishedRunAsync("ancient", endedAt: T0);

        Assert.Equal(0, await Retention(now, days: 0, batchSize: 10).RunOnceAsync(Ct));
        Assert.NotNull(await Store.GetRunAsync(old.RunId, Ct));
    }

    private PostgresRetentionService Retention(DateTimeOffset now, int days, int batchSize)
    {
        var clock = new FakeClock(now);
        return new PostgresRetentionService(Store, new PostgresEventStore(DataSource, Options), Microsoft.Extensions.Options.Options.Create(Options with { RetentionDays = days, RetentionBatchSize = batchSize }), clock);
    }

    /// <summary>A run with an event, an inbox item, a log line, an artifact and three transitions, Completed at <paramref name="endedAt"/>.</summary>
    private async Task<FlowRunRecord> FinishedRunAsync(string runId, DateTimeOffset endedAt)
    {
        var stored = await CreateAsync(NewRun(runId, createdAt: endedAt.AddHours(-1)));
        var run = stored.Record;
        var started = run with { State = RunState.Running, StateTime = endedAt.AddMinutes(-30), TransitionCount = 2, JournalLength = 1, LogCount = 1 };
        stored = await Store.CommitAsync(new RunCommit
        {
            ExpectedVersion = stored.Version,
            Run = started,
            Transitions = [new StateTransition(2, RunState.Pending, RunState.Running, started.StateTime, null, 1)],
            Events = [new JournalEvent { Index = 1, Kind = JournalEventKind.TaskCompleted, CallId = 1, Timestamp = started.StateTime, Payload = "1" }],
            InboxToAdd = [new InboxItem { Id = "event-1", Kind = InboxItemKind.Event, Timestamp = started.StateTime }],
            Logs = [new RunLogLine(started.StateTime, "Information", "hello")],
            Artifacts = [new RunArtifact("report", ArtifactType.Markdown, "# hi", null, started.StateTime)],
        }, Ct);
        var done = stored.Record with { State = RunState.Completed, StateTime = endedAt, EndedAt = endedAt, TransitionCount = 3, Result = "1" };
        stored = await Store.CommitAsync(new RunCommit
        {
            ExpectedVersion = stored.Version,
            Run = done,
            Transitions = [new StateTransition(3, RunState.Running, RunState.Completed, endedAt, null, 1)],
        }, Ct);
        return stored.Record;
    }
}
