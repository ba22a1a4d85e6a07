using Flow.Engine.Storage;
using Flow.TestSupport;

namespace Flow.Storage.Conformance;

/// <summary>Large payloads: kept exactly up to the store's maximum, refused beyond it.</summary>
public abstract partial class FlowStoreConformanceTests
{
    [Fact]
    public async Task CreateRunAsync_LargeParametersAndResult_RoundTripExactly()
    {
        using var deadline = TestDeadline.Create(LargePayloadTimeout);
        var store = await NewStoreAsync(deadline.Token);
        var size = LargePayloadBytes(store);
        var run = NewRun() with { Parameters = Payloads.Json(size, 1), Result = Payloads.Json(size, 2) };

        var created = await CreateAsync(store, run, deadline.Token);

        var read = (await store.GetRunAsync(run.RunId, deadline.Token))!.Record;
        AssertSameText(run.Parameters, read.Parameters, "Parameters");
        AssertSameText(run.Result, read.Result, "Result");
        var result = Payloads.Json(size, 3);
        await store.CommitAsync(Commit(created, r => r with { Result = result }), deadline.Token);
        read = (await store.GetRunAsync(run.RunId, deadline.Token))!.Record;
        AssertSameText(run.Parameters, read.Parameters, "Parameters after a commit");
        AssertSameText(result, read.Result, "Result after a commit");
    }

    [Fact]
    public async Task CommitAsync_LargeEventPayload_RoundTripsExactly()
    {
        using var deadline = TestDeadline.Create(LargePayloadTimeout);
        var (store, created) = await NewStoreWithRunAsync(deadline.Token);
        var payload = Payloads.Json(LargePayloadBytes(store), 4);

        var current = await store.CommitAsync(Commit(created, events: [Event(1), Event(2, payload), Event(3)]), deadline.Token);

        var events = (await store.LoadJournalAsync(current.Record, deadline.Token)).Events;
        Assert.Equal(3, events.Count);
        AssertSameText(payload, events[1].Payload, "The event payload");
        AssertSameText(payload, (await store.GetJournalEventAsync(current.Record.RunId, 1, 2, deadline.Token))?.Payload, "The event payload read alone");
        Assert.Equal(Event(3), events[2]);
    }

    [Fact]
    public async Task CommitAsync_LargeInboxPayload_RoundTripsExactly()
    {
        using var deadline = TestDeadline.Create(LargePayloadTimeout);
        var (store, created) = await NewStoreWithRunAsync(deadline.Token);
        var payload = Payloads.Json(LargePayloadBytes(store), 5);

        var current = await store.CommitAsync(Commit(created, inboxToAdd: [Inbox("large", payload: payload)]), deadline.Token);

        AssertSameText(payload, Assert.Single((await store.LoadJournalAsync(current.Record, deadline.Token)).Inbox).Payload, "The inbox payload");
    }

    [Fact]
    public async Task CommitAsync_LargeArtifactData_RoundTripsExactly()
    {
        using var deadline = TestDeadline.Create(LargePayloadTimeout);
        var (store, created) = await NewStoreWithRunAsync(deadline.Token);
        var data = Payloads.Text(LargePayloadBytes(store), 6);

        await store.CommitAsync(Commit(created, artifacts: [Artifact("large", data)]), deadline.Token);

        AssertSameText(data, Assert.Single(await store.GetArtifactsAsync(created.Record.RunId, deadline.Token)).Data, "The artifact data");
    }

    [Fact]
    public async Task PutCacheEntryAsync_LargeValue_RoundTripsExactly()
    {
        using var deadline = TestDeadline.Create(LargePayloadTimeout);
        var store = await NewStoreAsync(deadline.Token);
        var value = Payloads.Json(LargePayloadBytes(store), 7);

        await store.PutCacheEntryAsync(new CacheEntry("large", value, "task", "run-1", T0, null), deadline.Token);

        AssertSameText(value, (await store.GetCacheEntryAsync("large", deadline.Token))?.Value, "The cache value");
    }

    [Fact]
    public async Task CommitAsync_EventPayloadOfExactlyMaxPayloadBytes_IsAccepted()
    {
        using var deadline = TestDeadline.Create(LargePayloadTimeout);
        var (store, created) = await NewStoreWithRunAsync(deadline.Token);
        var payload = Payloads.Json(store.MaxPayloadBytes, 8);

        await store.CommitAsync(Commit(created, events: [Event(1, payload)]), deadline.Token);

        AssertSameText(payload, (await store.GetJournalEventAsync(created.Record.RunId, 1, 1, deadline.Token))?.Payload, "The event payload");
    }

    [Fact]
    public async Task CommitAsync_MaxItemsPerCommitEventsOf100KiB_RoundTripExactly()
    {
        using var deadline = TestDeadline.Create(LargePayloadTimeout);
        var (store, created) = await NewStoreWithRunAsync(deadline.Token);
        var events = Enumerable.Range(1, store.MaxItemsPerCommit).Select(i => Event(i, Payloads.Json(100 * 1024, i))).ToArray();

        var current = await store.CommitAsync(Commit(created, events: events), deadline.Token);

        var loaded = (await store.LoadJournalAsync(current.Record, deadline.Token)).Events;
        Assert.Equal(events.Length, loaded.Count);
        for (var i = 0; i < events.Length; i++)
        {
            AssertSameText(events[i].Payload!, loaded[i].Payload, $"The payload of event {i + 1}");
            Assert.Equal(events[i], loaded[i]);
        }
    }

    [Theory]
    [InlineData("parameters")]
    [InlineData("result")]
    [InlineData("event")]
    [InlineData("inbox")]
    [InlineData("artifact")]
    [InlineData("cache")]
    public async Task Payload_OneByteOverMaxPayloadBytes_ThrowsPayloadTooLargeExceptionAndWritesNothing(string where)
    {
        using var deadline = TestDeadline.Create(LargePayloadTimeout);
        var (store, current) = await NewStoreWithRunAsync(deadline.Token);
        var tooLarge = Payloads.Json(store.MaxPayloadBytes + 1, 9);
        var newRun = NewRun(NewRunId("too-large")) with { Parameters = tooLarge };
        Func<Task> write = where switch
        {
            "parameters" => () => store.CreateRunAsync(newRun, FirstTransition(newRun), deadline.Token),
            "result" => () => store.CommitAsync(Commit(current, r => r with { Result = tooLarge }, events: Events(1, 1)), deadline.Token),
            "event" => () => store.CommitAsync(Commit(current, events: [Event(1), Event(2, tooLarge)], logs: Logs(1, 1)), deadline.Token),
            "inbox" => () => store.CommitAsync(Commit(current, events: Events(1, 1), inboxToAdd: [Inbox("ok"), Inbox("big", payload: tooLarge)]), deadline.Token),
            "artifact" => () => store.CommitAsync(Commit(current, events: Events(1, 1), artifacts: [Artifact("ok"), Artifact("big", tooLarge)]), deadline.Token),
            "cache" => () => store.PutCacheEntryAsync(new CacheEntry("big", tooLarge, "task", "run", T0, null), deadline.Token),
            _ => throw new ArgumentOutOfRangeException(nameof(where), where, null),
        };

        await Assert.ThrowsAsync<PayloadTooLargeException>(write);

        Assert.Null(await store.GetRunAsync(newRun.RunId, deadline.Token));
        Assert.Null(await store.GetCacheEntryAsync("big", deadline.Token));
        await AssertUnchangedAsync(store, current, [], deadline.Token);
    }
}
