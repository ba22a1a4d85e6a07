using Flow.Testing;

namespace Flow.TestSupport.Tests;

public sealed class FakeClockTests
{
    private static readonly DateTimeOffset Start = new(2026, 3, 1, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Advance_MovesUtcNowAndTimestamps_Consistently()
    {
        var time = new FakeClock(Start);
        var before = time.GetTimestamp();

        time.Advance(TimeSpan.FromMinutes(90));

        Assert.Equal(Start.AddMinutes(90), time.GetUtcNow());
        Assert.Equal(TimeSpan.FromMinutes(90), time.GetElapsedTime(before));
    }

    [Fact]
    public void SetUtcNow_Backwards_Throws()
    {
        var time = new FakeClock(Start);

        Assert.Throws<ArgumentOutOfRangeException>(() => time.SetUtcNow(Start.AddTicks(-1)));
        Assert.Throws<ArgumentOutOfRangeException>(() => time.Advance(TimeSpan.FromTicks(-1)));
        Assert.Equal(Start, time.UtcNow);
    }

    [Fact]
    public void LocalTimeZone_IsSettable_AndUsedForLocalNow()
    {
        var time = new FakeClock(Start) { LocalTimeZoneSetting = TimeZoneInfo.FindSystemTimeZoneById("Europe/Paris") };

        Assert.Equal("Europe/Paris", time.LocalTimeZone.Id);
        Assert.Equal(TimeSpan.FromHours(1), time.GetLocalNow().Offset);
        Assert.Equal(13, time.GetLocalNow().Hour);
    }

    [Fact]
    public void OneShotTimer_FiresOnce_WhenTimePassesItsDueTime_SeeingItsDueTimeAsNow()
    {
        var time = new FakeClock(Start);
        var fired = new List<DateTimeOffset>();
        using var timer = time.CreateTimer(_ => fired.Add(time.GetUtcNow()), null, TimeSpan.FromSeconds(10), Timeout.InfiniteTimeSpan);

        time.Advance(TimeSpan.FromSeconds(9));
        Assert.Empty(fired);

        time.Advance(TimeSpan.FromSeconds(5));
        time.Advance(TimeSpan.FromMinutes(5));

        Assert.Equal([Start.AddSeconds(10)], fired);
        Assert.Equal(Start.AddSeconds(14) + TimeSpan.FromMinutes(5), time.GetUtcNow());
        Assert.Equal(0, time.ActiveTimerCount);
    }

    [Fact]
    public void PeriodicTimer_FiresOncePerPeriodPassed_InOrderWithOtherTimers()
    {
        var time = new FakeClock(Start);
        var log = new List<string>();
        using var every3 = time.CreateTimer(_ => log.Add($"p@{(time.GetUtcNow() - Start).TotalSeconds}"), null, TimeSpan.FromSeconds(3), TimeSpan.FromSeconds(3));
        using var once = time.CreateTimer(_ => log.Add($"o@{(time.GetUtcNow() - Start).TotalSeconds}"), null, TimeSpan.FromSeconds(4), Timeout.InfiniteTimeSpan);

        time.Advance(TimeSpan.FromSeconds(10));

        Assert.Equal(["p@3", "o@4", "p@6", "p@9"], log);
        Assert.Equal(1, time.ActiveTimerCount);
    }

    [Fact]
    public void Change_And_Dispose_RearmAndStopATimer()
    {
        var time = new FakeClock(Start);
        var count = 0;
        var timer = time.CreateTimer(_ => count++, null, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);

        time.Advance(TimeSpan.FromHours(1));
        Assert.Equal(0, count);

        Assert.True(timer.Change(TimeSpan.FromSeconds(1), Timeout.InfiniteTimeSpan));
        time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(1, count);

        timer.Change(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1));
        timer.Dispose();
        time.Advance(TimeSpan.FromSeconds(10));

        Assert.Equal(1, count);
        Assert.False(timer.Change(TimeSpan.Zero, Timeout.InfiniteTimeSpan));
    }

    [Fact]
    public async Task TaskDelay_And_CancelAfter_FollowTheFakeClock()
    {
        var time = new FakeClock(Start);
        var delay = Task.Delay(TimeSpan.FromMinutes(1), time, TestContext.Current.CancellationToken);
        using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(2), time);

        time.Advance(TimeSpan.FromSeconds(59));
        Assert.False(delay.IsCompleted);

        time.Advance(TimeSpan.FromSeconds(1));
        await delay.WaitAsync(TimeSpan.FromSeconds(5), TestContext.Current.CancellationToken);
        Assert.False(cts.IsCancellationRequested);

        time.Advance(TimeSpan.FromMinutes(1));
        Assert.True(cts.IsCancellationRequested);
    }
}
