using System.Collections.Concurrent;
using System.Diagnostics;
using Flow.Engine.Storage;
using Flow.TestSupport;

namespace Flow.Storage.Postgres.Tests;

/// <summary>What the PostgreSQL work queue promises beyond the conformance suite: many workers without double delivery, and NOTIFY wake-ups.</summary>
public sealed class PostgresWorkQueueTests(PostgresFixture postgres) : PostgresTestBase(postgres)
{
    private const string Name = "runs-default";

    [Fact]
    public async Task DequeueAsync_EightWorkersAtOnce_TakeEveryItemExactlyOnce()
    {
        await Queue.EnsureQueueAsync(Name, Ct);
        const int count = 300;
        await Task.WhenAll(Enumerable.Range(1, count).Select(i =>
            Queue.EnqueueAsync(Name, new WorkItem { Kind = WorkItem.RunKind, RunId = "run-" + i }, TimeSpan.Zero, Ct)));
        var taken = new ConcurrentBag<string>();

        await Task.WhenAll(Enumerable.Range(0, 8).Select(async _ =>
        {
            while (true)
            {
                var items = await Queue.DequeueAsync(Name, 7, TimeSpan.FromMinutes(5), Ct);
                if (items.Count == 0)
                {
                    return;
                }

                foreach (var item in items)
                {
                    taken.Add(item.Item!.RunId);
                    Assert.True(await Queue.CompleteAsync(item, Ct));
                }
            }
        }));

        Assert.Equal(count, taken.Count);
        Assert.Equal(count, taken.Distinct().Count());
        Assert.Equal(0, await Queue.GetApproximateCountAsync(Name, Ct));
    }

    [Fact]
    public async Task WaitForWorkAsync_EnqueueWithoutDelayByAnotherProcess_WakesTheWaiterAtOnce()
    {
        await Queue.EnsureQueueAsync(Name, Ct);
        await using var producer = new PostgresWorkQueue(PostgresConnection.CreateDataSource(Postgres.ConnectionString), Options);
        await StartListeningAsync();

        var watch = Stopwatch.StartNew();
        var wait = Queue.WaitForWorkAsync(Name, TimeSpan.FromSeconds(20), Ct);
        await producer.EnqueueAsync(Name, new WorkItem { Kind = WorkItem.RunKind, RunId = "wake" }, TimeSpan.Zero, Ct);

        Assert.True(await wait.WaitAsync(Deadline, "the waiter to wake"));
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(5), $"woke after {watch.Elapsed}");
        Assert.Single(await Queue.DequeueAsync(Name, 32, TimeSpan.FromMinutes(1), Ct));
    }

    [Fact]
    public async Task WaitForWorkAsync_NotificationBeforeTheWait_IsNotLost()
    {
        await Queue.EnsureQueueAsync(Name, Ct);
        await StartListeningAsync();
        await Queue.EnqueueAsync(Name, new WorkItem { Kind = WorkItem.RunKind, RunId = "early" }, TimeSpan.Zero, Ct);
        await Deadline.PollUntilAsync(_ => Task.FromResult(Queue.HasPendingSignal(Name)), "the notification to arrive");

        Assert.True(await Queue.WaitForWorkAsync(Name, TimeSpan.FromSeconds(20), Ct).WaitAsync(Deadline, "the pending signal"));
    }

    [Fact]
    public async Task WaitForWorkAsync_OtherQueueOrDelayedItem_TimesOut()
    {
        await Queue.EnsureQueueAsync(Name, Ct);
        await Queue.EnsureQueueAsync("tasks-default", Ct);
        await StartListeningAsync();

        var wait = Queue.WaitForWorkAsync(Name, TimeSpan.FromMilliseconds(700), Ct);
        await Queue.EnqueueAsync("tasks-default", new WorkItem { Kind = WorkItem.TaskKind, RunId = "other" }, TimeSpan.Zero, Ct);
        await Queue.EnqueueAsync(Name, new WorkItem { Kind = WorkItem.RunKind, RunId = "later" }, TimeSpan.FromMinutes(1), Ct);

        Assert.False(await wait.WaitAsync(Deadline, "the wait to time out"));
    }

    [Fact]
    public async Task WaitForWorkAsync_FirstWait_ReportsPossibleWorkOnceListening_SoAnEarlierNotificationIsNotMissed()
    {
        await Queue.EnsureQueueAsync(Name, Ct);
        // Enqueued (and notified) before anything listens: that NOTIFY reaches nobody.
        await Queue.EnqueueAsync(Name, new WorkItem { Kind = WorkItem.RunKind, RunId = "before-listen" }, TimeSpan.Zero, Ct);

        var watch = Stopwatch.StartNew();
        Assert.True(await Queue.WaitForWorkAsync(Name, TimeSpan.FromSeconds(20), Ct).WaitAsync(Deadline, "the first wait"));
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(10), $"returned after {watch.Elapsed}");
        Assert.Single(await Queue.DequeueAsync(Name, 32, TimeSpan.FromMinutes(1), Ct));

        // Listening now: the next wait waits for a notification again.
        Assert.False(await Queue.WaitForWorkAsync(Name, TimeSpan.FromMilliseconds(300), Ct).WaitAsync(Deadline, "the second wait"));
    }

    [Fact]
    public async Task WaitForWorkAsync_ListenNotifyOff_ReturnsFalseAtOnce()
    {
        await using var quiet = new PostgresWorkQueue(DataSource, Options with { ListenNotify = false });

        Assert.False(await quiet.WaitForWorkAsync(Name, TimeSpan.FromSeconds(20), Ct).WaitAsync(Deadline, "the wait"));
    }

    [Fact]
    public async Task AbandonAsync_NoDelay_NotifiesWaiters()
    {
        await Queue.EnsureQueueAsync(Name, Ct);
        await Queue.EnqueueAsync(Name, new WorkItem { Kind = WorkItem.RunKind, RunId = "again" }, TimeSpan.FromMinutes(1), Ct);
        await ScalarAsync<int>("WITH u AS (UPDATE {s}.queue_messages SET visible_at = now() RETURNING 1) SELECT count(*)::integer FROM u");
        var item = Assert.Single(await Queue.DequeueAsync(Name, 1, TimeSpan.FromMinutes(1), Ct));
        await StartListeningAsync();

        var wait = Queue.WaitForWorkAsync(Name, TimeSpan.FromSeconds(20), Ct);
        Assert.True(await Queue.AbandonAsync(item, TimeSpan.Zero, Ct));

        Assert.True(await wait.WaitAsync(Deadline, "the abandon's notification"));
    }

    private async Task StartListeningAsync()
    {
        await Queue.WaitForWorkAsync(Name, TimeSpan.Zero, Ct);
        await Queue.ListenerReady.WaitAsync(Deadline, "the LISTEN connection");
    }
}
