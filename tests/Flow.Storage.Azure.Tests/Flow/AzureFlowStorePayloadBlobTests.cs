using System.Diagnostics;
using System.Text;
using Flow.Engine.Storage;
using Flow.Sdk;
using Flow.TestSupport;

namespace Flow.Storage.Azure.Tests;

/// <summary>Large values in payload blobs (<c>{container}/{runId}/{rowKey}/{property}-{contentId}.json</c>), against Azurite.</summary>
public sealed class AzureFlowStorePayloadBlobTests(AzuriteFixture azurite) : AzureFlowTestBase(azurite)
{
    private const string Words = "Grüße, 世界! 🌍 "; // 22 UTF-8 bytes, 14 UTF-16 characters

    [Fact]
    public async Task CommitAsync_FiveMegabyteTaskResult_IsOneReadableBlobReferencedByItsRow_AndReadsBackExactly()
    {
        var stored = await CreateAsync(NewRun("run-blob-1"));
        var result = "\"" + string.Concat(Enumerable.Repeat(Words, 5 * 1024 * 1024 / 22)) + "\"";
        var clock = Stopwatch.StartNew();
        stored = await AppendAsync(stored, result);
        var written = clock.Elapsed;

        var rows = await RawRowsAsync(Store.RunsTable, "run-blob-1");
        var owner = rows.Single(r => r.RowKey == "journal-0001-000001");
        Assert.Null(owner.GetString("Payload"));
        Assert.Equal(Encoding.UTF8.GetByteCount(result), owner.GetInt32("PayloadBytes"));
        var name = owner.GetString("PayloadBlob");
        Assert.Matches("^run-blob-1/journal-0001-000001/payload-[0-9a-f]{16}\\.json$", name);
        Assert.DoesNotContain(rows, r => FlowKeys.IsChunk(r.RowKey));
        Assert.Equal([name!], await BlobNamesAsync("run-blob-1/"));
        var blob = (await PayloadContainer.GetBlobClient(name).DownloadContentAsync(Ct)).Value.Content.ToString();
        Assert.Equal(result, blob);

        clock.Restart();
        Assert.Equal(result, (await Store.GetJournalEventAsync("run-blob-1", 1, 1, Ct))!.Payload);
        var read = clock.Elapsed;
        Assert.Equal(result, (await Store.LoadJournalAsync(stored.Record, Ct)).Events.Single().Payload);
        TestContext.Current.TestOutputHelper?.WriteLine(
            $"5 MB task result ({Encoding.UTF8.GetByteCount(result):N0} bytes): commit {written.TotalMilliseconds:0} ms, read {read.TotalMilliseconds:0} ms");
    }

    [Fact]
    public async Task CommitAsync_ValuesAboveTheThreshold_GoToBlobs_AndValuesAtItStayInTheRow()
    {
        var atThreshold = new string('a', AzureFlowStorageOptions.DefaultPayloadBlobThresholdBytes);
        var above = new string('b', AzureFlowStorageOptions.DefaultPayloadBlobThresholdBytes + 1);
        var multiByte = string.Concat(Enumerable.Repeat("é", (AzureFlowStorageOptions.DefaultPayloadBlobThresholdBytes / 2) + 1)); // 16,385 characters, 32,770 bytes
        var stored = await CreateAsync(NewRun("run-blob-2") with { Parameters = atThreshold });
        stored = await Store.CommitAsync(new RunCommit
        {
            ExpectedVersion = stored.Version,
            Run = stored.Record with { Result = above, StateMessage = multiByte, LogCount = 1 },
            Logs = [new RunLogLine(T0, "Information", above, 1, 1)],
            Artifacts = [new RunArtifact("report", ArtifactType.Markdown, above, "big", T0, 1)],
        }, Ct);

        var run = (await RawRowsAsync(Store.RunsTable, "run-blob-2")).Single(r => r.RowKey == "run");
        Assert.Equal(atThreshold, run.GetString("Parameters"));
        Assert.Null(run.GetString("Result"));
        Assert.StartsWith("run-blob-2/run/result-", run.GetString("ResultBlob"), StringComparison.Ordinal);
        Assert.StartsWith("run-blob-2/run/statemessage-", run.GetString("StateMessageBlob"), StringComparison.Ordinal);
        var names = await BlobNamesAsync("run-blob-2/");
        Assert.Contains(names, n => n.StartsWith("run-blob-2/log-00000001/message-", StringComparison.Ordinal));
        Assert.Contains(names, n => n.StartsWith("run-blob-2/artifact-report/data-", StringComparison.Ordinal));

        var read = (await Store.GetRunAsync("run-blob-2", Ct))!.Record;
        Assert.Equal((atThreshold, above, multiByte), (read.Parameters, read.Result, read.StateMessage));
        Assert.Equal(above, (await Store.GetLogsAsync("run-blob-2", 10, null, Ct)).Lines.Single().Message);
        Assert.Equal(above, (await Store.GetArtifactsAsync("run-blob-2", Ct)).Single().Data);
    }

    [Fact]
    public async Task CommitAsync_LosingTheRace_LeavesTheRowsUntouched_AndARetryReusesTheSameBlobName()
    {
        var stored = await CreateAsync(NewRun("run-blob-3"));
        var winner = await AppendAsync(stored, "first");
        var payload = new string('y', 200_000);

        await Assert.ThrowsAsync<ConcurrencyException>(() => AppendAsync(stored, payload));
        Assert.Equal("first", (await Store.GetJournalEventAsync("run-blob-3", 1, 1, Ct))!.Payload);
        var orphan = Assert.Single(await BlobNamesAsync("run-blob-3/")); // harmless; deleted with the run

        // Another process (no memory of the upload) commits the same value: same name, still one blob.
        var other = new AzureFlowStore(SdkTables, SdkBlobs, Options);
        await other.CommitAsync(new RunCommit
        {
            ExpectedVersion = winner.Version,
            Run = winner.Record with { JournalLength = 1, Result = payload },
        }, Ct);
        Assert.Equal(2, (await BlobNamesAsync("run-blob-3/")).Count); // the journal payload's orphan and the result
        Assert.Contains(orphan, await BlobNamesAsync("run-blob-3/journal-0001-000001/"));
        Assert.Equal(payload, (await Store.GetRunAsync("run-blob-3", Ct))!.Record.Result);
    }

    [Fact]
    public async Task RowsWrittenWithChunkRows_AreStillReadByAStoreWithPayloadBlobs()
    {
        var chunkStore = new AzureFlowStore(SdkTables, Options);
        var payload = string.Concat(Enumerable.Repeat(Words, 60_000)); // 1.3 MB: two chunk rows
        var (created, _) = await chunkStore.CreateRunAsync(NewRun("run-blob-4") with { Parameters = payload }, new StateTransition(1, null, RunState.Pending, T0, "created", 1), Ct);
        await chunkStore.CommitAsync(new RunCommit
        {
            ExpectedVersion = created.Version,
            Run = created.Record with { JournalLength = 1 },
            Events = [new JournalEvent { Index = 1, Kind = JournalEventKind.TaskCompleted, CallId = 1, Timestamp = T0, Payload = payload }],
        }, Ct);
        Assert.Contains(await RawRowsAsync(Store.RunsTable, "run-blob-4"), r => FlowKeys.IsChunk(r.RowKey));

        var run = (await Store.GetRunAsync("run-blob-4", Ct))!;
        Assert.Equal(payload, run.Record.Parameters);
        Assert.Equal(payload, (await Store.LoadJournalAsync(run.Record, Ct)).Events.Single().Payload);
        Assert.Empty(await BlobNamesAsync());
    }

    [Fact]
    public async Task CommitAsync_PayloadOverTheLimit_IsRefusedBeforeAnyBlobIsWritten()
    {
        var stored = await CreateAsync(NewRun("run-blob-5"));
        await Assert.ThrowsAsync<PayloadTooLargeException>(() => AppendAsync(stored, new string('z', Options.MaxPayloadBytes + 1)));
        Assert.Empty(await BlobNamesAsync());
        Assert.Equal(0, (await Store.GetRunAsync("run-blob-5", Ct))!.Record.JournalLength);
    }
}
