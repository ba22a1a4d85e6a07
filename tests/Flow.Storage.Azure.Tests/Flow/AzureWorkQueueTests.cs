using Flow.Engine.Storage;
using Flow.TestSupport;

namespace Flow.Storage.Azure.Tests;

/// <summary>The work queue's Azure specifics: names, wire format, poison queue and dead-letter table.</summary>
public sealed class AzureWorkQueueTests(AzuriteFixture azurite) : AzureFlowTestBase(azurite)
{
    [Fact]
    public async Task EnqueueAsync_WritesBase64JsonOnThePrefixedQueue()
    {
        await Queue.EnsureQueueAsync("runs-default", Ct);
        await Queue.EnqueueAsync("runs-default", new WorkItem { Kind = WorkItem.RunKind, RunId = "run-1", Reason = "start" }, TimeSpan.Zero, Ct);

        // What is stored, read raw: base64 of the UTF-8 JSON, as the Functions trigger and Storage Explorer read it.
        var raw = SdkQueues.GetQueueClient(Options.QueuePrefix + "runs-default");
        var peeked = Assert.Single((await raw.PeekMessagesAsync(1, Ct)).Value);
        Assert.Equal("{\"kind\":\"run\",\"runId\":\"run-1\",\"reason\":\"start\"}", System.Text.Encoding.UTF8.GetString(Convert.FromBase64String(peeked.MessageText)));
    }

    [Fact]
    public async Task DequeueAsync_MalformedRawMessage_IsReturnedWithNullItem()
    {
        await Queue.EnsureQueueAsync("runs-bad", Ct);
        var raw = SdkQueues.GetQueueClient(Options.QueuePrefix + "runs-bad");
        await raw.SendMessageAsync("{not json at all!", cancellationToken: Ct);

        var item = Assert.Single(await Queue.DequeueAsync("runs-bad", 1, TimeSpan.FromSeconds(30), Ct));

        Assert.Null(item.Item);
        Assert.Equal("{not json at all!", item.RawBody);
        Assert.Equal(1, item.DequeueCount);
    }

    [Fact]
    public async Task DeadLetterAsync_PutsTheMessageOnThePoisonQueue_AndRecordsTheReason()
    {
        await Queue.EnsureQueueAsync("runs-dl", Ct);
        await Queue.EnqueueAsync("runs-dl", new WorkItem { Kind = WorkItem.RunKind, RunId = "run-9" }, TimeSpan.Zero, Ct);
        var item = Assert.Single(await Queue.DequeueAsync("runs-dl", 1, TimeSpan.FromSeconds(30), Ct));

        await Queue.DeadLetterAsync(item, "run-9 does not exist", Ct);

        Assert.Equal(0, await Queue.GetApproximateCountAsync("runs-dl", Ct));
        var poison = Assert.Single((await Queue.GetPoisonQueueClient("runs-dl").PeekMessagesAsync(1, Ct)).Value);
        Assert.Equal(item.RawBody, Base64Text(poison.MessageText));
        var letter = Assert.Single(await Queue.GetDeadLettersAsync("runs-dl", 10, Ct));
        Assert.Equal(("runs-dl", item.MessageId, item.RawBody, "run-9 does not exist"), (letter.Queue, letter.MessageId, letter.RawBody, letter.Reason));
        var row = Assert.Single(await RawRowsAsync(Queue.DeadLettersTable, "runs-dl"));
        Assert.EndsWith("Z-" + item.MessageId, row.RowKey, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DeadLetterAsync_SixtyKilobyteMessageSentWithoutBase64_MovesATruncatedCopyAndKeepsTheWholeBodyInTheRecord()
    {
        await Queue.EnsureQueueAsync("runs-big", Ct);
        var raw = SdkQueues.GetQueueClient(Options.QueuePrefix + "runs-big");
        var text = "{\"pad\":\"" + new string('x', 60_000) + "\"}";
        await raw.SendMessageAsync(text, cancellationToken: Ct);
        var item = Assert.Single(await Queue.DequeueAsync("runs-big", 1, TimeSpan.FromSeconds(30), Ct));

        await Queue.DeadLetterAsync(item, "too big to run", Ct);

        Assert.Equal(0, await Queue.GetApproximateCountAsync("runs-big", Ct));
        var poison = Base64Text(Assert.Single((await Queue.GetPoisonQueueClient("runs-big").PeekMessagesAsync(1, Ct)).Value).MessageText);
        Assert.StartsWith(text[..1000], poison, StringComparison.Ordinal);
        Assert.EndsWith("[truncated: the original is 60,010 UTF-8 bytes]", poison, StringComparison.Ordinal);
        Assert.Equal(text, Assert.Single(await Queue.GetDeadLettersAsync("runs-big", 10, Ct)).RawBody);
    }

    [Fact]
    public async Task CompleteAsync_AfterTheLeaseWasExtended_OldReceiptReturnsFalse()
    {
        await Queue.EnsureQueueAsync("runs-lease", Ct);
        await Queue.EnqueueAsync("runs-lease", new WorkItem { Kind = WorkItem.RunKind, RunId = "run-2" }, TimeSpan.Zero, Ct);
        var item = Assert.Single(await Queue.DequeueAsync("runs-lease", 1, TimeSpan.FromSeconds(30), Ct));

        var extended = await Queue.ExtendLeaseAsync(item, TimeSpan.FromSeconds(60), Ct);

        Assert.NotEqual(item.Receipt, extended.Receipt);
        Assert.False(await Queue.CompleteAsync(item, Ct));
        Assert.True(await Queue.CompleteAsync(extended, Ct));
        await Assert.ThrowsAsync<LeaseLostException>(() => Queue.ExtendLeaseAsync(extended, TimeSpan.FromSeconds(5), Ct));
    }

    [Fact]
    public async Task DeadLetterAsync_WithALostLease_ThrowsAndRecordsNothing()
    {
        await Queue.EnsureQueueAsync("runs-lost", Ct);
        await Queue.EnqueueAsync("runs-lost", new WorkItem { Kind = WorkItem.RunKind, RunId = "run-3" }, TimeSpan.Zero, Ct);
        var item = Assert.Single(await Queue.DequeueAsync("runs-lost", 1, TimeSpan.FromSeconds(30), Ct));
        await Queue.ExtendLeaseAsync(item, TimeSpan.FromSeconds(30), Ct); // the old receipt no longer holds the lease

        await Assert.ThrowsAsync<LeaseLostException>(() => Queue.DeadLetterAsync(item, "too late", Ct));

        Assert.Empty(await Queue.GetDeadLettersAsync("runs-lost", 10, Ct));
        Assert.Empty((await Queue.GetPoisonQueueClient("runs-lost").PeekMessagesAsync(1, Ct)).Value);
        Assert.Equal(1, await Queue.GetApproximateCountAsync("runs-lost", Ct));
    }

    [Fact]
    public async Task AbandonAsync_SubSecondDelay_HidesTheMessageForAWholeSecondRatherThanNone()
    {
        await Queue.EnsureQueueAsync("runs-short", Ct);
        await Queue.EnqueueAsync("runs-short", new WorkItem { Kind = WorkItem.RunKind, RunId = "run-4" }, TimeSpan.Zero, Ct);
        var item = Assert.Single(await Queue.DequeueAsync("runs-short", 1, TimeSpan.FromSeconds(30), Ct));

        Assert.True(await Queue.AbandonAsync(item, TimeSpan.FromMilliseconds(400), Ct));

        // The service counts whole seconds; the SDK would truncate 0.4 s to 0 and hand the message straight back.
        Assert.Empty(await Queue.DequeueAsync("runs-short", 1, TimeSpan.FromSeconds(30), Ct));
    }

    // The poison copy is stored as the Functions host stores it: base64 of the UTF-8 text.
    private static string Base64Text(string stored) => System.Text.Encoding.UTF8.GetString(Convert.FromBase64String(stored));
}
