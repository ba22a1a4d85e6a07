using System.Text;
using Flow.TestSupport;

namespace Flow.Storage.Azure.Tests;

/// <summary>The Queue client against a real (private) Azurite. Every test runs under a <see cref="TestDeadline"/>.</summary>
public sealed class QueueClientTests(AzuriteFixture azurite)
{
    private QueueServiceClient Service(QueueMessageEncoding encoding = QueueMessageEncoding.Base64) =>
        new(StorageConnection.Parse(azurite.ConnectionString), new StorageClientOptions { MessageEncoding = encoding });

    private async Task<QueueClient> NewQueueAsync(CancellationToken cancellationToken, QueueMessageEncoding encoding = QueueMessageEncoding.Base64)
    {
        var queue = Service(encoding).GetQueueClient(UniqueNames.Queue());
        Assert.True(await queue.CreateIfNotExistsAsync(cancellationToken: cancellationToken));
        return queue;
    }

    private static async Task<QueueMessage> ReceiveEventuallyAsync(QueueClient queue, TestDeadline deadline, string what, TimeSpan? visibilityTimeout = null)
    {
        QueueMessage? received = null;
        await deadline.PollUntilAsync(
            async ct => (received = await queue.ReceiveMessageAsync(visibilityTimeout, ct)) is not null, what, TimeSpan.FromMilliseconds(100));
        return received!;
    }

    [Fact]
    public async Task CreateIfNotExistsAsync_CalledTwice_ReturnsTrueThenFalse()
    {
        using var deadline = TestDeadline.Create();
        var queue = Service().GetQueueClient(UniqueNames.Queue());

        Assert.True(await queue.CreateIfNotExistsAsync(cancellationToken: deadline));
        Assert.False(await queue.CreateIfNotExistsAsync(cancellationToken: deadline));
    }

    [Fact]
    public async Task CreateIfNotExistsAsync_ExistsWithDifferentMetadata_ReturnsFalseAndKeepsMetadata()
    {
        using var deadline = TestDeadline.Create();
        var queue = Service().GetQueueClient(UniqueNames.Queue());
        Assert.True(await queue.CreateIfNotExistsAsync(new Dictionary<string, string> { ["owner"] = "flow" }, deadline));

        Assert.False(await queue.CreateIfNotExistsAsync(new Dictionary<string, string> { ["owner"] = "someone-else" }, deadline));

        var properties = await queue.GetPropertiesAsync(deadline);
        Assert.Equal("flow", properties.Metadata["owner"]);
    }

    [Fact]
    public async Task DeleteIfExistsAsync_CalledTwice_ReturnsTrueThenFalse()
    {
        using var deadline = TestDeadline.Create();
        var queue = await NewQueueAsync(deadline);

        Assert.True(await queue.DeleteIfExistsAsync(deadline));
        Assert.False(await queue.DeleteIfExistsAsync(deadline));
        var error = await Assert.ThrowsAsync<StorageRequestException>(() => queue.DeleteAsync(deadline));
        Assert.True(error.IsNotFound);
        Assert.Equal("QueueNotFound", error.ErrorCode);
    }

    [Fact]
    public async Task SendReceiveDelete_OneMessage_RoundTripsAndRemovesIt()
    {
        using var deadline = TestDeadline.Create();
        var queue = await NewQueueAsync(deadline);

        var sent = await queue.SendMessageAsync("hello flow", cancellationToken: deadline);
        var received = await queue.ReceiveMessageAsync(TimeSpan.FromSeconds(30), deadline);

        Assert.NotNull(received);
        Assert.Equal(sent.MessageId, received.MessageId);
        Assert.Equal("hello flow", received.MessageText);
        Assert.Equal("hello flow"u8.ToArray(), received.Body.ToArray());
        Assert.True(received.WasBase64Encoded);
        Assert.Equal(1, received.DequeueCount);
        Assert.False(string.IsNullOrEmpty(received.PopReceipt));
        Assert.Equal(sent.InsertionTime, received.InsertionTime);
        Assert.True(received.NextVisibleTime > received.InsertionTime);
        Assert.True(received.ExpirationTime > received.InsertionTime.AddDays(6));

        await queue.DeleteMessageAsync(received.MessageId, received.PopReceipt, deadline);

        Assert.Empty(await queue.PeekMessagesAsync(32, deadline));
        Assert.Equal(0, (await queue.GetPropertiesAsync(deadline)).ApproximateMessagesCount);
    }

    [Fact]
    public async Task ReceiveMessagesAsync_EmptyQueue_ReturnsEmptyListAndNullSingle()
    {
        using var deadline = TestDeadline.Create();
        var queue = await NewQueueAsync(deadline);

        Assert.Empty(await queue.ReceiveMessagesAsync(32, cancellationToken: deadline));
        Assert.Null(await queue.ReceiveMessageAsync(cancellationToken: deadline));
    }

    [Fact]
    public async Task SendMessageAsync_WithVisibilityDelay_MessageInvisibleUntilDelayPasses()
    {
        using var deadline = TestDeadline.Create();
        var queue = await NewQueueAsync(deadline);

        var sent = await queue.SendMessageAsync("later", visibilityDelay: TimeSpan.FromSeconds(2), cancellationToken: deadline);

        Assert.True(sent.NextVisibleTime >= sent.InsertionTime.AddSeconds(2));
        Assert.Null(await queue.ReceiveMessageAsync(cancellationToken: deadline));
        Assert.Empty(await queue.PeekMessagesAsync(cancellationToken: deadline));

        var received = await ReceiveEventuallyAsync(queue, deadline, "the delayed message to become visible");
        Assert.Equal(sent.MessageId, received.MessageId);
        Assert.Equal("later", received.MessageText);

        // RFC 1123 times have whole seconds; allow for that truncation.
        Assert.True(DateTimeOffset.UtcNow >= sent.NextVisibleTime.AddSeconds(-1), $"received at {DateTimeOffset.UtcNow:O}, visible from {sent.NextVisibleTime:O}");
    }

    [Fact]
    public async Task ReceiveMessagesAsync_VisibilityTimeoutExpires_RedeliversSameMessageWithDequeueCount2AndNewPopReceipt()
    {
        using var deadline = TestDeadline.Create();
        var queue = await NewQueueAsync(deadline);
        await queue.SendMessageAsync("work item", cancellationToken: deadline);

        var first = await queue.ReceiveMessageAsync(TimeSpan.FromSeconds(1), deadline);
        Assert.NotNull(first);
        Assert.Equal(1, first.DequeueCount);

        var second = await ReceiveEventuallyAsync(queue, deadline, "the message to reappear after its visibility timeout", TimeSpan.FromSeconds(30));

        Assert.Equal(first.MessageId, second.MessageId);
        Assert.Equal(2, second.DequeueCount);
        Assert.NotEqual(first.PopReceipt, second.PopReceipt);
        Assert.Equal("work item", second.MessageText);
    }

    [Fact]
    public async Task UpdateMessageAsync_NewTextAndVisibility_ChangesMessageAndInvalidatesOldPopReceipt()
    {
        using var deadline = TestDeadline.Create();
        var queue = await NewQueueAsync(deadline);
        await queue.SendMessageAsync("version 1", cancellationToken: deadline);
        var received = await queue.ReceiveMessageAsync(TimeSpan.FromSeconds(60), deadline);
        Assert.NotNull(received);

        var update = await queue.UpdateMessageAsync(received.MessageId, received.PopReceipt, TimeSpan.Zero, "version 2 <&>", deadline);

        Assert.NotEqual(received.PopReceipt, update.PopReceipt);
        Assert.True(update.NextVisibleTime <= DateTimeOffset.UtcNow.AddSeconds(1));

        var stale = await Assert.ThrowsAsync<StorageRequestException>(() => queue.DeleteMessageAsync(received.MessageId, received.PopReceipt, deadline));
        Assert.True(
            (stale.Status == 404 && stale.ErrorCode == "MessageNotFound") || (stale.Status == 400 && stale.ErrorCode == "PopReceiptMismatch"),
            $"expected 404 MessageNotFound or 400 PopReceiptMismatch, got {stale.Status} {stale.ErrorCode}");

        var again = await queue.ReceiveMessageAsync(cancellationToken: deadline);
        Assert.NotNull(again);
        Assert.Equal(received.MessageId, again.MessageId);
        Assert.Equal("version 2 <&>", again.MessageText);
        Assert.Equal(2, again.DequeueCount);
        await queue.DeleteMessageAsync(again.MessageId, again.PopReceipt, deadline);
    }

    [Fact]
    public async Task UpdateMessageAsync_VisibilityOnly_ExtendsLeaseAndKeepsContent()
    {
        using var deadline = TestDeadline.Create();
        var queue = await NewQueueAsync(deadline);
        await queue.SendMessageAsync("keep me", cancellationToken: deadline);
        var received = await queue.ReceiveMessageAsync(TimeSpan.FromSeconds(1), deadline);
        Assert.NotNull(received);

        var update = await queue.UpdateMessageAsync(received.MessageId, received.PopReceipt, TimeSpan.FromSeconds(60), cancellationToken: deadline);

        Assert.True(update.NextVisibleTime > DateTimeOffset.UtcNow.AddSeconds(50));
        Assert.Empty(await queue.PeekMessagesAsync(cancellationToken: deadline));

        // The new pop receipt works; the message keeps its text.
        var back = await queue.UpdateMessageAsync(received.MessageId, update.PopReceipt, TimeSpan.Zero, cancellationToken: deadline);
        var peeked = Assert.Single(await queue.PeekMessagesAsync(cancellationToken: deadline));
        Assert.Equal("keep me", peeked.MessageText);
        await queue.DeleteMessageAsync(received.MessageId, back.PopReceipt, deadline);
    }

    [Fact]
    public async Task PeekMessagesAsync_VisibleMessages_DoesNotChangeDequeueCountOrVisibility()
    {
        using var deadline = TestDeadline.Create();
        var queue = await NewQueueAsync(deadline);
        var sent = await queue.SendMessageAsync("peek me", cancellationToken: deadline);

        var peek1 = Assert.Single(await queue.PeekMessagesAsync(5, deadline));
        var peek2 = Assert.Single(await queue.PeekMessagesAsync(5, deadline));

        Assert.Equal(sent.MessageId, peek1.MessageId);
        Assert.Equal("peek me", peek1.MessageText);
        Assert.Equal(0, peek1.DequeueCount);
        Assert.Equal(0, peek2.DequeueCount);

        var received = await queue.ReceiveMessageAsync(cancellationToken: deadline);
        Assert.NotNull(received);
        Assert.Equal(1, received.DequeueCount);
    }

    [Fact]
    public async Task GetPropertiesAsync_AfterThreeSends_ReportsApproximateCountAndMetadata()
    {
        using var deadline = TestDeadline.Create();
        var queue = Service().GetQueueClient(UniqueNames.Queue());
        await queue.CreateIfNotExistsAsync(new Dictionary<string, string> { ["purpose"] = "tests" }, deadline);
        for (var i = 0; i < 3; i++)
        {
            await queue.SendMessageAsync($"m{i}", cancellationToken: deadline);
        }

        var properties = await queue.GetPropertiesAsync(deadline);

        Assert.Equal(3, properties.ApproximateMessagesCount);
        Assert.Equal("tests", properties.Metadata["purpose"]);
        Assert.Equal("tests", properties.Metadata["PURPOSE"]);
    }

    [Fact]
    public async Task ClearMessagesAsync_QueueWithMessages_RemovesAll()
    {
        using var deadline = TestDeadline.Create();
        var queue = await NewQueueAsync(deadline);
        for (var i = 0; i < 5; i++)
        {
            await queue.SendMessageAsync($"m{i}", cancellationToken: deadline);
        }

        await queue.ClearMessagesAsync(deadline);

        Assert.Empty(await queue.PeekMessagesAsync(32, deadline));
        Assert.Equal(0, (await queue.GetPropertiesAsync(deadline)).ApproximateMessagesCount);
    }

    [Fact]
    public async Task SendMessageAsync_WithShortTimeToLive_MessageExpires()
    {
        using var deadline = TestDeadline.Create();
        var queue = await NewQueueAsync(deadline);

        var sent = await queue.SendMessageAsync("short-lived", timeToLive: TimeSpan.FromSeconds(1), cancellationToken: deadline);

        Assert.Equal(sent.InsertionTime.AddSeconds(1), sent.ExpirationTime);
        await deadline.PollUntilAsync(
            async ct => (await queue.PeekMessagesAsync(cancellationToken: ct)).Count == 0, "the message to expire", TimeSpan.FromMilliseconds(100));
        Assert.Null(await queue.ReceiveMessageAsync(cancellationToken: deadline));
    }

    [Fact]
    public async Task SendMessageAsync_TimeToLiveMaxValue_NeverExpires()
    {
        using var deadline = TestDeadline.Create();
        var queue = await NewQueueAsync(deadline);

        var sent = await queue.SendMessageAsync("forever", timeToLive: TimeSpan.MaxValue, cancellationToken: deadline);
        var infinite = await queue.SendMessageAsync("forever too", visibilityDelay: TimeSpan.FromDays(7), timeToLive: Timeout.InfiniteTimeSpan, cancellationToken: deadline);

        Assert.Equal(9999, sent.ExpirationTime.Year);
        Assert.Equal(9999, infinite.ExpirationTime.Year);
        var peeked = Assert.Single(await queue.PeekMessagesAsync(cancellationToken: deadline));
        Assert.Equal(9999, peeked.ExpirationTime.Year);
    }

    public static TheoryData<string> SpecialTexts() => new()
    {
        "emoji 🚀🎉 and family 👨‍👩‍👧",
        "xml specials <>&\"' and a fake end tag </MessageText></QueueMessage>",
        "lines\nunix\r\nwindows\rold mac\ttab",
        "non-ASCII: Zürich, Ελληνικά, 日本語, עברית",
        "  leading and trailing spaces  ",
        "",
        "&amp; &lt; &#x41; ]]> <![CDATA[ x ]]>",
    };

    [Theory]
    [MemberData(nameof(SpecialTexts))]
    public async Task SendMessageAsync_Base64SpecialCharacters_RoundTripsAndIsBase64OfUtf8OnTheWire(string text)
    {
        using var deadline = TestDeadline.Create();
        var queue = await NewQueueAsync(deadline);
        var raw = Service(QueueMessageEncoding.None).GetQueueClient(queue.Name);

        await queue.SendMessageAsync(text, cancellationToken: deadline);

        // What a Functions queue trigger or the official SDKs would see: base64 of the UTF-8 bytes.
        var onTheWire = Assert.Single(await raw.PeekMessagesAsync(cancellationToken: deadline));
        Assert.Equal(Convert.ToBase64String(Encoding.UTF8.GetBytes(text)), onTheWire.MessageText);

        var received = await queue.ReceiveMessageAsync(cancellationToken: deadline);
        Assert.NotNull(received);
        Assert.Equal(text, received.MessageText);
        Assert.True(received.WasBase64Encoded);
    }

    [Theory]
    [MemberData(nameof(SpecialTexts))]
    public async Task SendMessageAsync_NoEncodingSpecialCharacters_RoundTripsExactly(string text)
    {
        using var deadline = TestDeadline.Create();
        var queue = await NewQueueAsync(deadline, QueueMessageEncoding.None);

        await queue.SendMessageAsync(text, cancellationToken: deadline);

        var received = await queue.ReceiveMessageAsync(cancellationToken: deadline);
        Assert.NotNull(received);
        Assert.Equal(text, received.MessageText);
        Assert.False(received.WasBase64Encoded);
    }

    [Fact]
    public async Task SendMessageAsync_NoEncodingControlCharacter_RejectedBeforeAnyCall()
    {
        using var deadline = TestDeadline.Create();
        var queue = Service(QueueMessageEncoding.None).GetQueueClient(UniqueNames.Queue()); // never created

        var error = await Assert.ThrowsAsync<ArgumentException>(() => queue.SendMessageAsync("bell \a", cancellationToken: deadline));
        Assert.Contains("U+0007", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ReceiveMessagesAsync_RawNonBase64Text_ReturnedAsRawTextWithoutThrowing()
    {
        using var deadline = TestDeadline.Create();
        var queue = await NewQueueAsync(deadline);
        var plain = Service(QueueMessageEncoding.None).GetQueueClient(queue.Name);

        // As Storage Explorer does with "Encode the message body in Base64" unchecked.
        await plain.SendMessageAsync("{\"run\": \"not base64 & <raw>\"}", cancellationToken: deadline);

        var peeked = Assert.Single(await queue.PeekMessagesAsync(cancellationToken: deadline));
        Assert.False(peeked.WasBase64Encoded);
        var received = await queue.ReceiveMessageAsync(cancellationToken: deadline);
        Assert.NotNull(received);
        Assert.False(received.WasBase64Encoded);
        Assert.Equal("{\"run\": \"not base64 & <raw>\"}", received.MessageText);
        Assert.Equal(Encoding.UTF8.GetBytes(received.MessageText), received.Body.ToArray());
    }

    [Fact]
    public async Task SendMessageAsync_BinaryBody_RoundTripsBytes()
    {
        using var deadline = TestDeadline.Create();
        var queue = await NewQueueAsync(deadline);
        var bytes = new byte[] { 0, 1, 2, 0xFF, 0xFE, 0x80, (byte)'<', (byte)'&' };

        await queue.SendMessageAsync(new BinaryData(bytes), cancellationToken: deadline);

        var received = await queue.ReceiveMessageAsync(cancellationToken: deadline);
        Assert.NotNull(received);
        Assert.True(received.WasBase64Encoded);
        Assert.Equal(bytes, received.Body.ToArray());
    }

    [Fact]
    public async Task SendMessageAsync_Base64AtAndOverSizeLimit_AcceptsAt64KiBAndRejectsJustOverWithClearMessage()
    {
        using var deadline = TestDeadline.Create();
        var queue = await NewQueueAsync(deadline);
        var atLimit = new string('a', 49152); // base64: exactly 65536 characters
        var overLimit = new string('a', 49153); // base64: 65540 characters

        await queue.SendMessageAsync(atLimit, cancellationToken: deadline);
        var error = await Assert.ThrowsAsync<ArgumentException>(() => queue.SendMessageAsync(overLimit, cancellationToken: deadline));

        Assert.Contains("65540", error.Message, StringComparison.Ordinal);
        Assert.Contains("65536", error.Message, StringComparison.Ordinal);
        Assert.Contains("64 KiB", error.Message, StringComparison.Ordinal);
        var received = await queue.ReceiveMessageAsync(cancellationToken: deadline);
        Assert.NotNull(received);
        Assert.Equal(atLimit, received.MessageText);
        Assert.Null(await queue.ReceiveMessageAsync(cancellationToken: deadline));
    }

    [Fact]
    public async Task SendMessageAsync_NoEncodingAtAndOverSizeLimit_AcceptsAt64KiBAndRejectsJustOver()
    {
        using var deadline = TestDeadline.Create();
        var queue = await NewQueueAsync(deadline, QueueMessageEncoding.None);
        var atLimit = new string('é', 32768); // 65536 UTF-8 bytes
        var overLimit = atLimit + "x";

        await queue.SendMessageAsync(atLimit, cancellationToken: deadline);
        var error = await Assert.ThrowsAsync<ArgumentException>(() => queue.SendMessageAsync(overLimit, cancellationToken: deadline));

        Assert.Contains("65537", error.Message, StringComparison.Ordinal);
        var received = await queue.ReceiveMessageAsync(cancellationToken: deadline);
        Assert.NotNull(received);
        Assert.Equal(atLimit, received.MessageText);
    }

    [Theory]
    [InlineData("ab")]
    [InlineData("UpperCase")]
    [InlineData("double--hyphen")]
    [InlineData("-leading")]
    [InlineData("trailing-")]
    [InlineData("under_score")]
    [InlineData("a234567890123456789012345678901234567890123456789012345678901234")]
    public void GetQueueClient_InvalidName_ThrowsArgumentExceptionStatingTheRule(string name)
    {
        // No Azurite needed: the endpoint below does not exist, so any request would fail differently.
        var service = new QueueServiceClient(StorageConnection.Parse("DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=" + StorageConnection.DevelopmentAccountKey + ";QueueEndpoint=http://127.0.0.1:9/devstoreaccount1"));

        var error = Assert.Throws<ArgumentException>(() => service.GetQueueClient(name));

        Assert.Contains("3 to 63 lowercase letters", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Operations_MissingQueue_ThrowStorageRequestExceptionQueueNotFound()
    {
        using var deadline = TestDeadline.Create();
        var queue = Service().GetQueueClient(UniqueNames.Queue()); // never created

        var operations = new Func<Task>[]
        {
            () => queue.SendMessageAsync("x", cancellationToken: deadline),
            () => queue.ReceiveMessagesAsync(cancellationToken: deadline),
            () => queue.PeekMessagesAsync(cancellationToken: deadline),
            () => queue.GetPropertiesAsync(deadline),
            () => queue.ClearMessagesAsync(deadline),
        };
        foreach (var operation in operations)
        {
            var error = await Assert.ThrowsAsync<StorageRequestException>(operation);
            Assert.True(error.IsNotFound);
            Assert.Equal("QueueNotFound", error.ErrorCode);
            Assert.Contains(queue.Name, error.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task ReceiveMessagesAsync_Max32_Returns32DistinctMessages()
    {
        using var deadline = TestDeadline.Create();
        var queue = await NewQueueAsync(deadline);
        await Task.WhenAll(Enumerable.Range(0, 40).Select(i => queue.SendMessageAsync($"message {i}", cancellationToken: deadline)));

        var batch = await queue.ReceiveMessagesAsync(32, TimeSpan.FromSeconds(60), deadline);

        Assert.Equal(32, batch.Count);
        Assert.Equal(32, batch.Select(m => m.MessageId).Distinct().Count());
        Assert.All(batch, m => Assert.StartsWith("message ", m.MessageText, StringComparison.Ordinal));
        Assert.Equal(8, (await queue.ReceiveMessagesAsync(32, TimeSpan.FromSeconds(60), deadline)).Count);
    }

    [Fact]
    public async Task Arguments_OutOfRange_RejectedBeforeAnyCall()
    {
        using var deadline = TestDeadline.Create();
        var queue = Service().GetQueueClient(UniqueNames.Queue()); // never created: a request would fail with 404 instead

        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => queue.ReceiveMessagesAsync(0, cancellationToken: deadline));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => queue.ReceiveMessagesAsync(33, cancellationToken: deadline));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => queue.PeekMessagesAsync(33, deadline));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => queue.ReceiveMessagesAsync(1, TimeSpan.Zero, deadline));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => queue.ReceiveMessagesAsync(1, TimeSpan.FromDays(7.5), deadline));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => queue.SendMessageAsync("x", TimeSpan.FromSeconds(-1), cancellationToken: deadline));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => queue.SendMessageAsync("x", TimeSpan.FromDays(8), TimeSpan.MaxValue, deadline));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => queue.SendMessageAsync("x", TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(10), deadline));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => queue.SendMessageAsync("x", TimeSpan.FromDays(7), cancellationToken: deadline));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => queue.SendMessageAsync("x", timeToLive: TimeSpan.Zero, cancellationToken: deadline));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => queue.UpdateMessageAsync("id", "receipt", TimeSpan.FromDays(8), cancellationToken: deadline));
        await Assert.ThrowsAsync<ArgumentException>(() => queue.DeleteMessageAsync("id", "", deadline));
    }
}
