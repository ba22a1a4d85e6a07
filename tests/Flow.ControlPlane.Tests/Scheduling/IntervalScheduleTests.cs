using System.Globalization;
using Flow.ControlPlane.Scheduling;

namespace Flow.ControlPlane.Tests.Scheduling;

public sealed class IntervalScheduleTests
{
    [Theory]
    [InlineData(0)]
    [InlineData(-1_000)]
    [InlineData(999)]
    public void Constructor_IntervalUnderOneSecond_ThrowsSayingTheMinimum(int milliseconds)
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => new IntervalSchedule(TimeSpan.FromMilliseconds(milliseconds)));

        Assert.Equal("interval", error.ParamName);
        Assert.Contains("The interval must be at least 1 second", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Constructor_UnknownZone_ThrowsNamingIt()
    {
        var error = Assert.Throws<ScheduleFormatException>(() => new IntervalSchedule(TimeSpan.FromHours(1), null, "Atlantis/Capital"));

        Assert.Contains("'Atlantis/Capital'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Constructor_Defaults_AnchorIn2020AndUtc()
    {
        var schedule = new IntervalSchedule(TimeSpan.FromMinutes(5));

        Assert.Equal(new DateTimeOffset(2020, 1, 1, 0, 0, 0, TimeSpan.Zero), schedule.Anchor);
        Assert.Same(TimeZoneInfo.Utc, schedule.TimeZone);
        Assert.False(schedule.KeepsWallClockTime);
        Assert.Equal(TimeSpan.FromMinutes(5), schedule.Interval);
    }

    [Theory]
    [InlineData(24 * 60, "Europe/London", true)]
    [InlineData(7 * 24 * 60, "America/New_York", true)]
    [InlineData(24 * 60, null, false)]
    [InlineData(24 * 60, "UTC", false)]
    [InlineData(24 * 60, "Etc/UTC", false)]
    [InlineData(25 * 60, "Europe/London", false)]
    [InlineData(90, "Europe/London", false)]
    public void KeepsWallClockTime_WholeDaysInAZone_IsTrue(int minutes, string? zone, bool expected)
    {
        Assert.Equal(expected, new IntervalSchedule(TimeSpan.FromMinutes(minutes), null, zone).KeepsWallClockTime);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("Pacific/Auckland")]
    public void GetNextOccurrence_HugeIntervals_ReturnNullOrAnInstantWithoutOverflow(string? zone)
    {
        var after = Instant("2026-01-01T00:00:00Z");

        Assert.Null(new IntervalSchedule(TimeSpan.FromDays(1_000_000), null, zone).GetNextOccurrence(after));
        Assert.Null(new IntervalSchedule(TimeSpan.MaxValue, null, zone).GetNextOccurrence(after));
        Assert.Equal(Instant("2030-01-01T00:00:00Z"), new IntervalSchedule(TimeSpan.FromDays(3653), null, null).GetNextOccurrence(after));
    }

    [Fact]
    public void GetOccurrences_OneSecondForADay_ReturnsEverySecond()
    {
        var after = Instant("2026-03-08T00:00:00-05:00");

        var all = new IntervalSchedule(TimeSpan.FromSeconds(1), null, "America/New_York").GetOccurrences(after, after.AddDays(1), ScheduleRule.MaxOccurrencesPerCall).ToList();

        Assert.Equal(86_400, all.Count);
        Assert.Equal(TimeSpan.FromHours(-4), all[^1].Offset);
    }

    private static DateTimeOffset Instant(string value) => DateTimeOffset.Parse(value, CultureInfo.InvariantCulture);
}
