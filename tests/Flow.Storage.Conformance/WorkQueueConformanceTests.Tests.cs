using System.Collections.Concurrent;
using Flow.Engine.Storage;
using Flow.TestSupport;

namespace Flow.Storage.Conformance;

/// <summary>The work queue tests.</summary>
public abstract partial class WorkQueueConformanceTests
{
    [Fact]
    public async Task EnsureQueueAsync_CalledAgain_KeepsTheQueueAndItsItems()
    {
        using var deadline = TestDeadline.Create(Timeout);
        var (queue, name) = await NewQueueAsync(deadline.Token);
        await queue.EnqueueAsync(name, Item(), TimeSpan.Zero, deadline.Token);

        await Task.WhenAll(Enumerable.Range(0, 3).Select(_ => queue.EnsureQueueAsync(name, deadline.Token)));

        var taken = await DequeueOneAsync(queue, name, LongLease, deadline, "the item enqueued before EnsureQueueAsync was called again");
        Assert.Equal(Item(), taken.Item);
    }

    [Fact]
    public async Task DequeueAsync_EmptyQueue_ReturnsAnEmptyList()
    {
        using var deadline = TestDeadline.Create(Timeout);
        var (queue, name) = await NewQueueAsync(deadline.Token);

        Assert.Empty(await queue.DequeueAsync(name, 32, LongLease, deadline.Token));
    }

    [Fact]
    public async Task EnqueueAsync_ThenDequeue_RoundTripsEveryFieldWithAFirstLease()
    {
        using var deadline = TestDeadline.Create(Timeout);
        var (queue, name) = await NewQueueAsync(deadline.Token);
        var minimal = new WorkItem { Kind = WorkItem.RunKind, RunId = "run.minimal_1" };
        await queue.EnqueueAsync(name, Item(), TimeSpan.Zero, deadline.Token);
        await queue.EnqueueAsync(name, minimal, TimeSpan.Zero, deadline.Token);

        var before = Clock.GetUtcNow();
        var first = await DequeueOneAsync(queue, name, LongLease, deadline, "the first item");
        var after = Clock.GetUtcNow();
        var second = await DequeueOneAsync(queue, name, LongLease, deadline, "the second item");

        var items = new[] { first, second };
        Assert.Equal(
            [Item(), minimal],
            items.Select(i => i.Item).OrderBy(i => i!.Kind == WorkItem.RunKind ? 1 : 0));
        Assert.All(items, taken =>
        {
            Assert.Equal(name, taken.Queue);
            Assert.False(string.IsNullOrEmpty(taken.MessageId));
            Assert.False(string.IsNullOrEmpty(taken.Receipt));
            Assert.False(string.IsNullOrEmpty(taken.RawBody));
            Assert.Equal(1, taken.DequeueCount);
        });
        Assert.NotEqual(first.MessageId, second.MessageId);
        AssertWithin(before + LongLease, after + LongLease, first.LeaseUntil, "LeaseUntil");
    }

    [Fact]
    public async Task EnqueueAsync_SameItemThreeTimes_GivesThreeMessages()
    {
        using var deadline = TestDeadline.Create(Timeout);
        var (queue, name) = await NewQueueAsync(deadline.Token);
        for (var i = 0; i < 3; i++)
        {
            await queue.EnqueueAsync(name, Item(), TimeSpan.Zero, deadline.Token);
        }

        var ids = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < 3; i++)
        {
            ids.Add((await DequeueOneAsync(queue, name, LongLease, deadline, $"copy {i + 1} of the item")).MessageId);
        }

        Assert.Equal(3, ids.Count);
    }

    [Fact]
    public async Task EnqueueAsync_WithDelay_IsInvisibleUntilTheDelayHasPassed()
    {
        using var deadline = TestDeadline.Create(Timeout);
        var (queue, name) = await NewQueueAsync(deadline.Token);
        var enqueuedAt = Clock.GetUtcNow();

        await queue.EnqueueAsync(name, Item(), ShortDelay, deadline.Token);

        await AssertNothingVisibleAsync(queue, name, deadline.Token, "an item is hidden for its visibility delay");
        var taken = await DequeueOneAsync(queue, name, LongLease, deadline, "the delayed item");
        Assert.True(Clock.GetUtcNow() - enqueuedAt >= ShortDelay - Tolerance, "The delayed item appeared before its delay passed.");
        Assert.Equal(Item(), taken.Item);
        Assert.Equal(1, taken.DequeueCount);
    }

    [Fact]
    public async Task DequeueAsync_LeasedItem_IsInvisibleUntilTheLeaseEndsThenRedeliveredWithAHigherDequeueCount()
    {
        using var deadline = TestDeadline.Create(Timeout);
        var (queue, name, first) = await NewQueueWithItemAsync(ShortDelay, deadline);
        var takenAt = Clock.GetUtcNow();

        await AssertNothingVisibleAsync(queue, name, deadline.Token, "a leased item is hidden");
        var again = await DequeueOneAsync(queue, name, LongLease, deadline, "the item after its lease ended");

        Assert.True(Clock.GetUtcNow() - takenAt >= ShortDelay - Tolerance, "The item reappeared before its lease ended.");
        Assert.Equal(first.MessageId, again.MessageId);
        Assert.NotEqual(first.Receipt, again.Receipt);
        Assert.Equal(2, again.DequeueCount);
        Assert.Equal(first.Item, again.Item);
        Assert.Equal(first.RawBody, again.RawBody);
    }

    [Fact]
    public async Task ExtendLeaseAsync_LeasedItem_KeepsItHiddenUnderANewReceipt()
    {
        using var deadline = TestDeadline.Create(Timeout);
        var (queue, name, first) = await NewQueueWithItemAsync(ShortDelay, deadline);
        var extension = ShortDelay * 3;

        var extendedAt = Clock.GetUtcNow();
        var extended = await queue.ExtendLeaseAsync(first, extension, deadline.Token);
        var extendedBy = Clock.GetUtcNow();

        Assert.NotEqual(first.Receipt, extended.Receipt);
        Assert.Equal(first.MessageId, extended.MessageId);
        Assert.Equal(first.Item, extended.Item);
        Assert.Equal(first.DequeueCount, extended.DequeueCount);
        AssertWithin(extendedAt + extension, extendedBy + extension, extended.LeaseUntil, "The extended LeaseUntil");
        await PassTimeUntilAsync(first.LeaseUntil + Tolerance + PollStep, deadline);
        await AssertNothingVisibleAsync(queue, name, deadline.Token, "the extended lease still hides the item after the first lease's end");
        var again = await DequeueOneAsync(queue, name, LongLease, deadline, "the item after the extended lease ended");
        Assert.True(Clock.GetUtcNow() - extendedAt >= extension - Tolerance, "The item reappeared before its extended lease ended.");
        Assert.Equal(2, again.DequeueCount);
    }

    [Fact]
    public async Task OldReceipt_AfterExtension_IsRefusedAndTheNewOneStillWorks()
    {
        using var deadline = TestDeadline.Create(Timeout);
        var (queue, name, first) = await NewQueueWithItemAsync(LongLease, deadline);
        var extended = await queue.ExtendLeaseAsync(first, LongLease, deadline.Token);

        await AssertLeaseLostAsync(queue, first, deadline.Token);

        await AssertNothingVisibleAsync(queue, name, deadline.Token, "refused calls with an old receipt do not release the item");
        extended = await queue.ExtendLeaseAsync(extended, LongLease, deadline.Token);
        Assert.True(await queue.CompleteAsync(extended, deadline.Token));
        Assert.Empty(await queue.GetDeadLettersAsync(name, 10, deadline.Token));
    }

    [Fact]
    public async Task CompleteAsync_LeasedItem_RemovesItForGood()
    {
        using var deadline = TestDeadline.Create(Timeout);
        var (queue, name, taken) = await NewQueueWithItemAsync(ShortDelay, deadline);

        Assert.True(await queue.CompleteAsync(taken, deadline.Token));

        await WaitUntilAsync(async ct => await queue.GetApproximateCountAsync(name, ct) == 0, deadline, "the count to drop to 0");
        await PassTimeUntilAsync(taken.LeaseUntil + Tolerance + PollStep, deadline);
        await AssertNothingVisibleAsync(queue, name, deadline.Token, "a completed item never comes back");
        await AssertLeaseLostAsync(queue, taken, deadline.Token);
        Assert.Empty(await queue.GetDeadLettersAsync(name, 10, deadline.Token));
    }

    [Fact]
    public async Task CompleteAsync_LeaseEndedAndItemTakenByAnother_ReturnsFalseAndTheOtherCanComplete()
    {
        using var deadline = TestDeadline.Create(Timeout);
        var (queue, name, lost) = await NewQueueWithItemAsync(ShortDelay, deadline);
        var other = await DequeueOneAsync(queue, name, LongLease, deadline, "the item after the first lease ended");

        await AssertLeaseLostAsync(queue, lost, deadline.Token);

        await AssertNothingVisibleAsync(queue, name, deadline.Token, "the other holder's lease still hides the item");
        Assert.True(await queue.CompleteAsync(other, deadline.Token));
        Assert.Empty(await queue.GetDeadLettersAsync(name, 10, deadline.Token));
    }

    [Fact]
    public async Task CompleteAsync_LeaseEndedButItemNotTakenAgain_StillCompletes()
    {
        using var deadline = TestDeadline.Create(Timeout);
        var (queue, name, taken) = await NewQueueWithItemAsync(ShortDelay, deadline);
        await PassTimeUntilAsync(taken.LeaseUntil + Tolerance + PollStep, deadline);

        Assert.True(await queue.CompleteAsync(taken, deadline.Token));

        await AssertNothingVisibleAsync(queue, name, deadline.Token, "a completed item never comes back");
    }

    [Fact]
    public async Task ExtendLeaseAsync_LeaseEndedButItemNotTakenAgain_HidesItAgain()
    {
        using var deadline = TestDeadline.Create(Timeout);
        var (queue, name, taken) = await NewQueueWithItemAsync(ShortDelay, deadline);
        await PassTimeUntilAsync(taken.LeaseUntil + Tolerance + PollStep, deadline);

        var extended = await queue.ExtendLeaseAsync(taken, LongLease, deadline.Token);

        await AssertNothingVisibleAsync(queue, name, deadline.Token, "the renewed lease hides the item");
        Assert.True(await queue.CompleteAsync(extended, deadline.Token));
    }

    [Fact]
    public async Task AbandonAsync_WithDelay_ReleasesTheLeaseAndTheItemReturnsAfterTheDelay()
    {
        using var deadline = TestDeadline.Create(Timeout);
        var (queue, name, taken) = await NewQueueWithItemAsync(LongLease, deadline);

        var abandonedAt = Clock.GetUtcNow();
        Assert.True(await queue.AbandonAsync(taken, ShortDelay, deadline.Token));

        await AssertNothingVisibleAsync(queue, name, deadline.Token, "an item abandoned with a delay is hidden for the delay");
        await AssertLeaseLostAsync(queue, taken, deadline.Token);
        var again = await DequeueOneAsync(queue, name, LongLease, deadline, "the abandoned item");
        Assert.True(Clock.GetUtcNow() - abandonedAt >= ShortDelay - Tolerance, "The abandoned item reappeared before its delay passed.");
        Assert.Equal(taken.MessageId, again.MessageId);
        Assert.Equal(2, again.DequeueCount);
        Assert.Equal(taken.Item, again.Item);
    }

    [Fact]
    public async Task AbandonAsync_WithoutDelay_MakesTheItemVisibleAtOnce()
    {
        using var deadline = TestDeadline.Create(Timeout);
        var (queue, name, taken) = await NewQueueWithItemAsync(LongLease, deadline);

        Assert.True(await queue.AbandonAsync(taken, TimeSpan.Zero, deadline.Token));

        var again = Assert.Single(await queue.DequeueAsync(name, 1, LongLease, deadline.Token));
        Assert.Equal(taken.MessageId, again.MessageId);
        Assert.Equal(2, again.DequeueCount);
    }

    [Fact]
    public async Task DeadLetterAsync_LeasedItem_RemovesItAndRecordsItWithTheReason()
    {
        using var deadline = TestDeadline.Create(Timeout);
        var (queue, name, taken) = await NewQueueWithItemAsync(ShortDelay, deadline);
        const string reason = "poison: failed 5 times ✗ \"quoted\"";

        var before = Clock.GetUtcNow();
        await queue.DeadLetterAsync(taken, reason, deadline.Token);
        var after = Clock.GetUtcNow();

        var letter = Assert.Single(await queue.GetDeadLettersAsync(name, 10, deadline.Token));
        Assert.Equal(name, letter.Queue);
        Assert.Equal(taken.MessageId, letter.MessageId);
        Assert.Equal(taken.RawBody, letter.RawBody);
        Assert.Equal(reason, letter.Reason);
        AssertWithin(before, after, letter.Timestamp, "The dead letter's timestamp");
        await WaitUntilAsync(async ct => await queue.GetApproximateCountAsync(name, ct) == 0, deadline, "the count to drop to 0");
        await PassTimeUntilAsync(taken.LeaseUntil + Tolerance + PollStep, deadline);
        await AssertNothingVisibleAsync(queue, name, deadline.Token, "a dead-lettered item never comes back");
        await AssertLeaseLostAsync(queue, taken, deadline.Token);
    }

    [Fact]
    public async Task GetDeadLettersAsync_SeveralLetters_ReturnsOldestFirstAndHonoursMaxItems()
    {
        using var deadline = TestDeadline.Create(Timeout);
        var (queue, name) = await NewQueueAsync(deadline.Token);
        for (var i = 0; i < 3; i++)
        {
            await queue.EnqueueAsync(name, Item($"run-{i}"), TimeSpan.Zero, deadline.Token);
        }

        var order = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            var taken = await DequeueOneAsync(queue, name, LongLease, deadline, $"item {i + 1}");
            await queue.DeadLetterAsync(taken, $"reason {i}", deadline.Token);
            order.Add(taken.MessageId);
            await PassTimeAsync(PollStep, deadline.Token);
        }

        var two = await queue.GetDeadLettersAsync(name, 2, deadline.Token);
        var all = await queue.GetDeadLettersAsync(name, 10, deadline.Token);

        Assert.Equal(order[..2], two.Select(l => l.MessageId));
        Assert.Equal(order, all.Select(l => l.MessageId));
        Assert.Equal(["reason 0", "reason 1", "reason 2"], all.Select(l => l.Reason));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => queue.GetDeadLettersAsync(name, 0, deadline.Token));
    }

    [Theory]
    [InlineData("this is not JSON")]
    [InlineData("{\"kind\":\"run\",\"runId\":")]
    [InlineData("[1,2,3]")]
    [InlineData("{\"kind\":\"run\"}")]
    [InlineData("{\"runId\":\"run-1\"}")]
    [InlineData("null")]
    [InlineData("<QueueMessage>données ✗</QueueMessage>")]
    public async Task DequeueAsync_UnparseableBody_ReturnsANullItemWithTheRawBodyForDeadLettering(string body)
    {
        using var deadline = TestDeadline.Create(Timeout);
        var (queue, name) = await NewQueueAsync(deadline.Token);
        await EnqueueRawAsync(queue, name, body, deadline.Token);

        var taken = await DequeueOneAsync(queue, name, LongLease, deadline, "the unparseable message");

        Assert.Null(taken.Item);
        Assert.Equal(body, taken.RawBody);
        Assert.Equal(1, taken.DequeueCount);
        await queue.DeadLetterAsync(taken, "unparseable", deadline.Token);
        var letter = Assert.Single(await queue.GetDeadLettersAsync(name, 10, deadline.Token));
        Assert.Equal(body, letter.RawBody);
        Assert.Equal(taken.MessageId, letter.MessageId);
    }

    [Fact]
    public async Task EnqueueRawAsync_BodyOfAnEnqueuedItem_IsParsedBackToTheItem()
    {
        using var deadline = TestDeadline.Create(Timeout);
        var (queue, name) = await NewQueueAsync(deadline.Token);
        var copies = await EnsureNewQueueAsync(queue, deadline.Token);
        await queue.EnqueueAsync(name, Item(), TimeSpan.Zero, deadline.Token);
        var original = await DequeueOneAsync(queue, name, LongLease, deadline, "the item");

        await EnqueueRawAsync(queue, copies, original.RawBody, deadline.Token);

        var copy = await DequeueOneAsync(queue, copies, LongLease, deadline, "the copy");
        Assert.Equal(Item(), copy.Item);
        Assert.Equal(original.RawBody, copy.RawBody);
    }

    [Fact]
    public async Task DequeueAsync_MoreItemsThanMaxItems_ReturnsAtMostMaxItemsAndTheRestLater()
    {
        using var deadline = TestDeadline.Create(Timeout);
        var (queue, name) = await NewQueueAsync(deadline.Token);
        const int count = StorageContract.MaxDequeueItems + 8;
        for (var i = 0; i < count; i++)
        {
            await queue.EnqueueAsync(name, Item($"run-{i}"), TimeSpan.Zero, deadline.Token);
        }

        var seen = new HashSet<string>(StringComparer.Ordinal);
        var three = await queue.DequeueAsync(name, 3, LongLease, deadline.Token);
        Assert.InRange(three.Count, 0, 3);
        seen.UnionWith(three.Select(i => i.Item!.RunId));
        await WaitUntilAsync(
            async ct =>
            {
                var batch = await queue.DequeueAsync(name, StorageContract.MaxDequeueItems, LongLease, ct);
                Assert.InRange(batch.Count, 0, StorageContract.MaxDequeueItems);
                Assert.All(batch, item => Assert.True(seen.Add(item.Item!.RunId), $"{item.Item!.RunId} was delivered twice."));
                return seen.Count == count;
            },
            deadline,
            $"all {count} items");

        await AssertNothingVisibleAsync(queue, name, deadline.Token, "every item is leased");
    }

    [Fact]
    public async Task DequeueAsync_ConcurrentConsumers_NeverReceiveTheSameItemWhileItsLeaseHolds()
    {
        using var deadline = TestDeadline.Create(Timeout);
        var (queue, name) = await NewQueueAsync(deadline.Token);
        const int count = 40;
        await Task.WhenAll(Enumerable.Range(0, count).Select(i => queue.EnqueueAsync(name, Item($"run-{i}"), TimeSpan.Zero, deadline.Token)));
        var received = new ConcurrentDictionary<string, string>(StringComparer.Ordinal);
        var duplicates = new ConcurrentBag<string>();

        async Task ConsumeAsync()
        {
            while (received.Count < count)
            {
                deadline.Token.ThrowIfCancellationRequested();
                var batch = await queue.DequeueAsync(name, 4, LongLease, deadline.Token);
                foreach (var item in batch)
                {
                    if (!received.TryAdd(item.MessageId, item.Item!.RunId))
                    {
                        duplicates.Add(item.MessageId);
                    }
                }

                if (batch.Count == 0)
                {
                    await PassTimeAsync(PollStep, deadline.Token);
                }
            }
        }

        await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Task.Run(ConsumeAsync, deadline.Token))).WaitAsync(deadline, "the consumers");

        Assert.Empty(duplicates);
        Assert.Equal(Enumerable.Range(0, count).Select(i => $"run-{i}").Order(StringComparer.Ordinal), received.Values.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task GetApproximateCountAsync_CountsVisibleAndHiddenItemsUntilRemoved()
    {
        using var deadline = TestDeadline.Create(Timeout);
        var (queue, name) = await NewQueueAsync(deadline.Token);
        Assert.Equal(0, await queue.GetApproximateCountAsync(name, deadline.Token));
        await queue.EnqueueAsync(name, Item("run-1"), TimeSpan.Zero, deadline.Token);
        await queue.EnqueueAsync(name, Item("run-2"), TimeSpan.Zero, deadline.Token);
        await queue.EnqueueAsync(name, Item("run-3"), LongLease, deadline.Token);

        async Task CountIsAsync(int expected, string when) =>
            await WaitUntilAsync(async ct => await queue.GetApproximateCountAsync(name, ct) == expected, deadline, $"the count to be {expected} {when}");

        await CountIsAsync(3, "with two visible items and a delayed one");
        var first = await DequeueOneAsync(queue, name, LongLease, deadline, "an item");
        var second = await DequeueOneAsync(queue, name, LongLease, deadline, "another item");
        await CountIsAsync(3, "with two items leased");
        Assert.True(await queue.CompleteAsync(first, deadline.Token));
        await CountIsAsync(2, "after one was completed");
        await queue.DeadLetterAsync(second, "test", deadline.Token);
        await CountIsAsync(1, "after one was dead-lettered");
    }

    [Fact]
    public async Task Queues_OnOneBackend_AreIsolatedFromEachOther()
    {
        using var deadline = TestDeadline.Create(Timeout);
        var (queue, a) = await NewQueueAsync(deadline.Token);
        var b = await EnsureNewQueueAsync(queue, deadline.Token);
        await queue.EnqueueAsync(a, Item("run-a"), TimeSpan.Zero, deadline.Token);
        await queue.EnqueueAsync(a, Item("run-a2"), TimeSpan.Zero, deadline.Token);

        await AssertNothingVisibleAsync(queue, b, deadline.Token, "items of queue a are not on queue b");
        Assert.Equal(0, await queue.GetApproximateCountAsync(b, deadline.Token));
        var taken = await DequeueOneAsync(queue, a, LongLease, deadline, "an item on queue a");
        await queue.DeadLetterAsync(taken, "test", deadline.Token);

        Assert.Empty(await queue.GetDeadLettersAsync(b, 10, deadline.Token));
        Assert.Single(await queue.GetDeadLettersAsync(a, 10, deadline.Token));
        await queue.EnqueueAsync(b, Item("run-b"), TimeSpan.Zero, deadline.Token);
        Assert.Equal("run-b", (await DequeueOneAsync(queue, b, LongLease, deadline, "the item on queue b")).Item?.RunId);
    }

    [Theory]
    [InlineData("")]
    [InlineData("Upper")]
    [InlineData("double--hyphen")]
    [InlineData("-leading")]
    [InlineData("trailing-")]
    [InlineData("under_score")]
    [InlineData("dot.ted")]
    [InlineData("ünï")]
    [InlineData("has space")]
    public async Task EnsureQueueAsync_MalformedName_ThrowsArgumentException(string name)
    {
        using var deadline = TestDeadline.Create(Timeout);
        var queue = await CreateQueueAsync(deadline.Token);
        _queues.Add(queue);

        await Assert.ThrowsAnyAsync<ArgumentException>(() => queue.EnsureQueueAsync(name, deadline.Token));
        await Assert.ThrowsAnyAsync<ArgumentException>(() => queue.EnqueueAsync(name, Item(), TimeSpan.Zero, deadline.Token));
    }

    [Fact]
    public async Task EnsureQueueAsync_NameOf40Characters_WorksAnd41AreRefused()
    {
        using var deadline = TestDeadline.Create(Timeout);
        var queue = await CreateQueueAsync(deadline.Token);
        _queues.Add(queue);
        var name = UniqueNames.Suffix() + "-" + new string('x', StorageContract.MaxQueueNameLength - 11);

        await queue.EnsureQueueAsync(name, deadline.Token);
        await queue.EnqueueAsync(name, Item(), TimeSpan.Zero, deadline.Token);

        Assert.Equal(Item(), (await DequeueOneAsync(queue, name, LongLease, deadline, "the item on the 40-character queue")).Item);
        await Assert.ThrowsAnyAsync<ArgumentException>(() => queue.EnsureQueueAsync(name + "x", deadline.Token));
    }

    [Fact]
    public async Task Arguments_OutOfRange_ThrowArgumentOutOfRangeException()
    {
        using var deadline = TestDeadline.Create(Timeout);
        var (queue, name, taken) = await NewQueueWithItemAsync(LongLease, deadline);
        var tooLong = StorageContract.MaxQueueDelay + TimeSpan.FromSeconds(1);

        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => queue.EnqueueAsync(name, Item(), TimeSpan.FromSeconds(-1), deadline.Token));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => queue.EnqueueAsync(name, Item(), tooLong, deadline.Token));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => queue.DequeueAsync(name, 0, LongLease, deadline.Token));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => queue.DequeueAsync(name, StorageContract.MaxDequeueItems + 1, LongLease, deadline.Token));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => queue.DequeueAsync(name, 1, TimeSpan.FromMilliseconds(500), deadline.Token));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => queue.DequeueAsync(name, 1, tooLong, deadline.Token));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => queue.ExtendLeaseAsync(taken, TimeSpan.Zero, deadline.Token));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => queue.AbandonAsync(taken, TimeSpan.FromSeconds(-1), deadline.Token));

        Assert.True(await queue.CompleteAsync(taken, deadline.Token));
        Assert.Equal(0, await queue.GetApproximateCountAsync(name, deadline.Token));
    }

    [Fact]
    public async Task Methods_WithACancelledToken_ThrowOperationCanceledException()
    {
        using var deadline = TestDeadline.Create(Timeout);
        var (queue, name, taken) = await NewQueueWithItemAsync(LongLease, deadline);
        using var cancelled = new CancellationTokenSource();
        await cancelled.CancelAsync();
        var token = cancelled.Token;
        Func<Task>[] calls =
        [
            () => queue.EnsureQueueAsync(name, token),
            () => queue.EnqueueAsync(name, Item("cancelled"), TimeSpan.Zero, token),
            () => queue.DequeueAsync(name, 1, LongLease, token),
            () => queue.ExtendLeaseAsync(taken, LongLease, token),
            () => queue.CompleteAsync(taken, token),
            () => queue.AbandonAsync(taken, TimeSpan.Zero, token),
            () => queue.DeadLetterAsync(taken, "cancelled", token),
            () => queue.GetDeadLettersAsync(name, 10, token),
            () => queue.GetApproximateCountAsync(name, token),
        ];

        foreach (var call in calls)
        {
            await Assert.ThrowsAnyAsync<OperationCanceledException>(call);
        }

        Assert.Equal(1, await queue.GetApproximateCountAsync(name, deadline.Token));
        Assert.Empty(await queue.GetDeadLettersAsync(name, 10, deadline.Token));
        Assert.True(await queue.CompleteAsync(taken, deadline.Token));
    }
}
