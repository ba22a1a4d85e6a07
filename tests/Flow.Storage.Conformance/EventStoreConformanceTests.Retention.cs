using Flow.Engine.Events;
using Flow.TestSupport;

namespace Flow.Storage.Conformance;

/// <summary>Retention of events (<see cref="IEventRetention"/>), on every backend.</summary>
public abstract partial class EventStoreConformanceTests
{
    [Fact]
    public async Task DeleteEventsBeforeAsync_OldEventsLeaveTheList_RecentOnesStayInTheListAndTheFeed()
    {
        using var deadline = TestDeadline.Create(TimeSpan.FromSeconds(90));
        var (_, events) = await NewStoresAsync(deadline.Token);
        var retention = Assert.IsAssignableFrom<IEventRetention>(events);
        var prefix = "ret-" + UniqueNames.Suffix();
        var old = Enumerable.Range(0, 5).Select(i => External($"{prefix}-old-{i}", "ci.build.passed", T0.AddDays(-40).AddMinutes(i), null)).ToList();
        var recent = Enumerable.Range(0, 3).Select(i => External($"{prefix}-new-{i}", "ci.build.passed", T0.AddMinutes(i), null)).ToList();
        await events.AppendAsync([.. old, .. recent], deadline.Token);

        var deleted = 0;
        for (var call = 0; call < 100; call++)
        {
            var step = await retention.DeleteEventsBeforeAsync(T0.AddDays(-30), 2, deadline.Token);
            if (step == 0)
            {
                break;
            }

            deleted += step;
        }

        Assert.True(deleted >= old.Count, $"deleted {deleted}");
        var listed = await ReadAllAsync(events, new EventQuery { PageSize = 4 }, deadline.Token);
        Assert.Equal(recent.Select(e => e.Id).Reverse(), listed.Select(e => e.Id));
        Assert.Equal(0, await retention.DeleteEventsBeforeAsync(T0.AddDays(-30), 2, deadline.Token));

        // The feed from its start still delivers what stays, in order.
        await deadline.PollUntilAsync(async ct =>
        {
            var feed = (await events.ReadFeedAsync(null, 100, ct)).Events.Select(e => e.Id).ToList();
            return recent.All(e => feed.Contains(e.Id));
        }, "the recent events in the feed");
        var ordered = (await events.ReadFeedAsync(null, 100, deadline.Token)).Events.Select(e => e.Id).Where(id => id.Contains("-new-", StringComparison.Ordinal));
        Assert.Equal(recent.Select(e => e.Id), ordered);
    }

    [Fact]
    public async Task DeleteEventsBeforeAsync_BadBatchSize_IsRefused()
    {
        using var deadline = TestDeadline.Create();
        var (_, events) = await NewStoresAsync(deadline.Token);
        var retention = Assert.IsAssignableFrom<IEventRetention>(events);

        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => retention.DeleteEventsBeforeAsync(T0, 0, deadline.Token));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => retention.DeleteEventsBeforeAsync(T0, 1001, deadline.Token));
    }
}
