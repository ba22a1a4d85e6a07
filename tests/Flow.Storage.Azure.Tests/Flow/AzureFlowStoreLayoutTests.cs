using System.Text;
using Flow.Engine.Storage;
using Flow.Sdk;
using Flow.TestSupport;

namespace Flow.Storage.Azure.Tests;

/// <summary>What a person browsing the tables in Storage Explorer sees, and the Azure-specific limits.</summary>
public sealed class AzureFlowStoreLayoutTests(AzuriteFixture azurite) : AzureFlowTestBase(azurite, payloadBlobs: false)
{
    [Fact]
    public async Task CommitAsync_EveryKindOfItem_IsStoredWithReadableKeysAndWords()
    {
        var stored = await CreateAsync(NewRun("run-layout-1"));
        var run = stored.Record with
        {
            State = RunState.Running,
            StateTime = T0.AddSeconds(1),
            TransitionCount = 2,
            JournalLength = 1,
            LogCount = 1,
            Tags = new Dictionary<string, string> { ["team"] = "data" },
        };
        await Store.CommitAsync(new RunCommit
        {
            ExpectedVersion = stored.Version,
            Run = run,
            Events = [new JournalEvent { Index = 1, Kind = JournalEventKind.TaskCompleted, CallId = 1, Name = "extract", State = RunState.Completed, Timestamp = T0, Payload = "{\"rows\":3}" }],
            Transitions = [new StateTransition(2, RunState.Pending, RunState.Running, T0.AddSeconds(1), "picked up", 1)],
            InboxToAdd = [new InboxItem { Id = "event-approved", Kind = InboxItemKind.Event, Name = "approved", Timestamp = T0 }],
            Logs = [new RunLogLine(T0, "Information", "hello")],
            Artifacts = [new RunArtifact("report.daily-1", ArtifactType.Markdown, "# Report", null, T0)],
        }, Ct);

        var rows = (await RawRowsAsync(Store.RunsTable, "run-layout-1")).ToDictionary(r => r.RowKey);
        Assert.Equal(
            ["artifact-report.daily-1", "inbox-event-approved", "journal-0001-000001", "log-00000001", "run", "state-000001", "state-000002"],
            rows.Keys.Order(StringComparer.Ordinal));
        Assert.Equal("Running", rows["run"].GetString("State"));
        Assert.Equal(T0.AddSeconds(1), rows["run"].GetDateTimeOffset("StateTime"));
        Assert.Equal("{\"team\":\"data\"}", rows["run"].GetString("Tags"));
        Assert.Equal("TaskCompleted", rows["journal-0001-000001"].GetString("Kind"));
        Assert.Equal("Completed", rows["journal-0001-000001"].GetString("State"));
        Assert.Equal("{\"rows\":3}", rows["journal-0001-000001"].GetString("Payload"));
        Assert.Equal("Pending", rows["state-000002"].GetString("From"));
        Assert.Equal("Running", rows["state-000002"].GetString("To"));
        Assert.Equal("Event", rows["inbox-event-approved"].GetString("Kind"));
        Assert.Equal("report.daily-1", rows["artifact-report.daily-1"].GetString("Key"));

        var recent = await RawRowsAsync(Store.RunIndexTable, "recent");
        var row = Assert.Single(recent);
        Assert.Equal(FlowKeys.InvertedTicks(T0) + "-run-layout-1", row.RowKey);
        Assert.Equal("run-layout-1", row.GetString("RunId"));
        Assert.Single(await RawRowsAsync(Store.RunIndexTable, "flow-etl"));
        Assert.Empty(await RawRowsAsync(Store.RunIndexTable, "state-Pending"));
        var running = Assert.Single(await RawRowsAsync(Store.RunIndexTable, "state-Running"));
        Assert.Equal("Running", running.GetString("State"));
        Assert.Equal(2, running.GetInt32("EnteredAt"));
    }

    [Fact]
    public async Task CommitAsync_FiveMiBOfMultiByteText_IsChunkedAndReadBackExactly()
    {
        var stored = await CreateAsync(NewRun("run-big-1"));
        const string Words = "Grüße, 世界! 🌍 "; // 22 UTF-8 bytes, 14 UTF-16 characters
        var payload = "\"" + string.Concat(Enumerable.Repeat(Words, (5 * 1024 * 1024 / 22) + 1)) + "\"";
        Assert.True(Encoding.UTF8.GetByteCount(payload) > 5 * 1024 * 1024);
        stored = await AppendAsync(stored, "small", payload, "after");

        var journal = await Store.LoadJournalAsync(stored.Record, Ct);
        Assert.Equal(["small", payload, "after"], journal.Events.Select(e => e.Payload));
        Assert.Equal(payload, (await Store.GetJournalEventAsync("run-big-1", 1, 2, Ct))!.Payload);

        var rows = await RawRowsAsync(Store.RunsTable, "run-big-1");
        var owner = rows.Single(r => r.RowKey == "journal-0001-000002");
        Assert.Null(owner.GetString("Payload"));
        var chunkRef = owner.GetString("PayloadChunks");
        Assert.StartsWith("journal-0001-000002~payload-", chunkRef, StringComparison.Ordinal);
        Assert.Equal(Encoding.UTF8.GetByteCount(payload), owner.GetInt32("PayloadBytes"));
        Assert.Equal(owner.GetInt32("PayloadChunkRows"), rows.Count(r => r.RowKey.StartsWith(chunkRef!, StringComparison.Ordinal)));
    }

    [Fact]
    public async Task CommitAsync_99EventsOf100KB_StaysUnderTheBatchLimitAndRoundTrips()
    {
        var stored = await CreateAsync(NewRun("run-wide-1"));
        var payloads = Enumerable.Range(0, 99).Select(i => new string((char)('a' + (i % 26)), 100_000)).ToArray();
        stored = await AppendAsync(stored, payloads);

        Assert.Equal(99, stored.Record.JournalLength);
        var journal = await Store.LoadJournalAsync(stored.Record, Ct);
        Assert.Equal(payloads, journal.Events.Select(e => e.Payload));
    }

    [Fact]
    public async Task CommitAsync_ManyInlineSizedPayloads_MovesTheLargestOutToFitTheBatch()
    {
        // 99 x 16,000 characters of quotes: inline-sized each, but ~9.5 MB of escaped JSON together.
        var stored = await CreateAsync(NewRun("run-quotes-1"));
        var payloads = Enumerable.Range(0, 99).Select(i => new string('"', 16_000 - i)).ToArray();
        stored = await AppendAsync(stored, payloads);

        var journal = await Store.LoadJournalAsync(stored.Record, Ct);
        Assert.Equal(payloads, journal.Events.Select(e => e.Payload));
        var rows = await RawRowsAsync(Store.RunsTable, "run-quotes-1");
        Assert.Contains(rows, r => r.GetString("Payload") is not null && r.RowKey.StartsWith("journal-", StringComparison.Ordinal));
        Assert.Contains(rows, r => r.GetString("PayloadChunks") is not null);
    }

    [Fact]
    public async Task CommitAsync_PayloadOverTheLimit_ThrowsNamingSizeAndLimit_AndWritesNothing()
    {
        var stored = await CreateAsync(NewRun("run-huge-1"));
        var before = (await RawRowsAsync(Store.RunsTable, "run-huge-1")).Count;
        var payload = new string('x', Options.MaxPayloadBytes + 1);

        var ex = await Assert.ThrowsAsync<PayloadTooLargeException>(() => AppendAsync(stored, payload));
        Assert.Contains($"{Options.MaxPayloadBytes + 1:N0} UTF-8 bytes", ex.Message, StringComparison.Ordinal);
        Assert.Contains($"at most {Options.MaxPayloadBytes:N0}", ex.Message, StringComparison.Ordinal);
        Assert.Equal(before, (await RawRowsAsync(Store.RunsTable, "run-huge-1")).Count);
        Assert.Equal(stored.Version, (await Store.GetRunAsync("run-huge-1", Ct))!.Version);
    }

    [Fact]
    public async Task CommitAsync_StaleVersionWithLargePayload_ThrowsConcurrency_AndCleansUpItsChunks()
    {
        var stored = await CreateAsync(NewRun("run-race-1"));
        await AppendAsync(stored, "first");

        await Assert.ThrowsAsync<ConcurrencyException>(() => AppendAsync(stored, new string('y', 200_000)));

        var rows = await RawRowsAsync(Store.RunsTable, "run-race-1");
        Assert.DoesNotContain(rows, r => FlowKeys.IsChunk(r.RowKey));
        Assert.Equal("first", (await Store.GetJournalEventAsync("run-race-1", 1, 1, Ct))!.Payload);
    }

    [Fact]
    public async Task CommitAsync_LargeParametersUnchanged_AreChunkedOnceAndNotRewritten()
    {
        var parameters = "{\"text\":\"" + new string('p', 300_000) + "\"}";
        var stored = await CreateAsync(NewRun("run-params-1") with { Parameters = parameters });
        var chunkRows = (await RawRowsAsync(Store.RunsTable, "run-params-1")).Where(r => FlowKeys.IsChunk(r.RowKey)).ToList();
        Assert.NotEmpty(chunkRows);

        for (var i = 0; i < 3; i++)
        {
            stored = await AppendAsync(stored, "e" + i);
        }

        var after = (await RawRowsAsync(Store.RunsTable, "run-params-1")).Where(r => FlowKeys.IsChunk(r.RowKey)).ToList();
        Assert.Equal(chunkRows.Select(r => (r.RowKey, r.ETag)), after.Select(r => (r.RowKey, r.ETag)));
        Assert.Equal(parameters, (await Store.GetRunAsync("run-params-1", Ct))!.Record.Parameters);
    }

    [Fact]
    public async Task CommitAsync_RemovingAChunkedInboxItem_DeletesItsChunkRows()
    {
        var stored = await CreateAsync(NewRun("run-inbox-1"));
        var payload = new string('i', 100_000);
        stored = await Store.CommitAsync(new RunCommit
        {
            ExpectedVersion = stored.Version,
            Run = stored.Record,
            InboxToAdd = [new InboxItem { Id = "task-1-1", Kind = InboxItemKind.TaskCompleted, Payload = payload, Timestamp = T0 }],
        }, Ct);
        var journal = await Store.LoadJournalAsync(stored.Record, Ct);
        Assert.Equal(payload, Assert.Single(journal.Inbox).Payload);

        await Store.CommitAsync(new RunCommit { ExpectedVersion = stored.Version, Run = stored.Record, InboxToRemove = ["task-1-1", "never-there"] }, Ct);

        var rows = await RawRowsAsync(Store.RunsTable, "run-inbox-1");
        Assert.DoesNotContain(rows, r => r.RowKey.StartsWith("inbox-", StringComparison.Ordinal));
    }

    [Fact]
    public async Task PutCacheEntryAsync_KeyWithForbiddenCharacters_IsHashedAndKeptAsAProperty()
    {
        var key = "extract/2026#11?x\\y\u0001" + new string('k', 1000);
        var value = new string('v', 70_000);
        await Store.PutCacheEntryAsync(new CacheEntry(key, value, "extract", "run-1", T0, null), Ct);

        var entry = await Store.GetCacheEntryAsync(key, Ct);
        Assert.Equal(value, entry!.Value);
        var (pk, rk) = AzureFlowStore.CacheKeys(key);
        Assert.Equal(3, pk.Length);
        var row = (await RawRowsAsync(Store.CacheTable, pk)).Single(r => r.RowKey == rk);
        Assert.Equal(key, row.GetString("Key"));
    }
}
