using System.Diagnostics;
using System.Globalization;
using Flow.ControlPlane.Scheduling;

namespace Flow.ControlPlane.Tests.Scheduling;

public sealed class CronScheduleTests
{
    [Fact]
    public void Parse_SixFieldsInAZone_ExposesExpressionZoneAndSeconds()
    {
        var schedule = CronSchedule.Parse(" 0 30 9 * * MON-FRI ", "Europe/London");

        Assert.Equal(" 0 30 9 * * MON-FRI ", schedule.Expression);
        Assert.Equal("Europe/London", schedule.TimeZone.Id);
        Assert.True(schedule.HasSeconds);
        Assert.Equal("cron ' 0 30 9 * * MON-FRI ' in Europe/London", schedule.ToString());
    }

    [Fact]
    public void Parse_NoZone_UsesUtc()
    {
        var schedule = CronSchedule.Parse("0 9 * * *");

        Assert.Same(TimeZoneInfo.Utc, schedule.TimeZone);
        Assert.False(schedule.HasSeconds);
    }

    [Fact]
    public void Parse_WindowsZoneId_UsesTheIanaZone()
    {
        Assert.Equal("America/New_York", CronSchedule.Parse("0 9 * * *", "Eastern Standard Time").TimeZone.Id);
    }

    [Theory]
    [InlineData("30 1 * * *", false)]
    [InlineData("0,30 1 * * *", false)]
    [InlineData("0 0 * * *", false)]
    [InlineData("0 0 1-5 * *", false)]
    [InlineData("0 0 * * 1-5", false)]
    [InlineData("0 0 */2 * *", false)]
    [InlineData("30 30 1 * * *", false)]
    [InlineData("@daily", false)]
    [InlineData("*/15 * * * *", true)]
    [InlineData("0 * * * *", true)]
    [InlineData("30 * * * *", true)]
    [InlineData("0 1-3 * * *", true)]
    [InlineData("*/15 1 * * *", true)]
    [InlineData("5/20 1 * * *", true)]
    [InlineData("0 22-2 * * *", true)]
    [InlineData("0 ? * * *", true)]
    [InlineData("*/5 30 1 * * *", true)]
    [InlineData("@hourly", true)]
    public void IsIntervalStyle_Expression_FollowsCronosIntervalFlag(string expression, bool expected)
    {
        Assert.Equal(expected, CronSchedule.Parse(expression).IsIntervalStyle);
    }

    [Theory]
    [InlineData("", "The cron expression is empty.")]
    [InlineData("   ", "The cron expression is empty.")]
    [InlineData("* * * *", "Invalid cron expression '* * * *': expected 5 fields (minute hour day-of-month month day-of-week) or 6 (second first), found 4.")]
    [InlineData("* * * * * * *", "found 7.")]
    [InlineData("61 * * * *", "Invalid cron expression '61 * * * *': minute value 61 is out of range (0-59).")]
    [InlineData("0 24 * * *", "hour value 24 is out of range (0-23).")]
    [InlineData("0 0 0 * *", "day-of-month value 0 is out of range (1-31).")]
    [InlineData("0 0 32 * *", "day-of-month value 32 is out of range (1-31).")]
    [InlineData("0 0 1 13 *", "month value 13 is out of range (1-12).")]
    [InlineData("0 0 * * 8", "day-of-week value 8 is out of range (0-7).")]
    [InlineData("60 0 0 * * *", "second value 60 is out of range (0-59).")]
    [InlineData("0 0 L,15 * *", "'L' in the day-of-month field 'L,15': L, W and # must stand alone in their field, not in a list.")]
    [InlineData("0 0 * * 1#2,5", "'1#2' in the day-of-week field '1#2,5': L, W and # must stand alone")]
    [InlineData("0 0 * * 1#6", "Invalid cron expression '0 0 * * 1#6': Days of week")]
    [InlineData("0 0 32W * *", "Invalid cron expression '0 0 32W * *': Days of month")]
    [InlineData("*/0 * * * *", "minute step '0' in '*/0' must be a number from 1 to 59.")]
    [InlineData("*/60 * * * *", "minute step '60' in '*/60' must be a number from 1 to 59.")]
    [InlineData("0 0 * * Monday", "'Monday' is not a day-of-week name; use SUN-SAT (three letters) or a number from 0 to 7.")]
    [InlineData("0 0 * * M", "'M' is not a day-of-week name")]
    [InlineData("0 0 1 FOO *", "'FOO' is not a month name; use JAN-DEC (three letters) or a number from 1 to 12.")]
    [InlineData("a * * * *", "'a' is not a valid minute value (a number from 0 to 59).")]
    [InlineData("0 H * * *", "'H' is not a valid hour value (a number from 0 to 23).")]
    [InlineData("1,,2 * * * *", "the minute field '1,,2' has an empty list item.")]
    [InlineData("1- * * * *", "'1-' in the minute field is missing a value.")]
    [InlineData("@fortnightly", "unknown macro '@fortnightly'")]
    public void Parse_InvalidExpression_ThrowsNamingTheProblem(string expression, string message)
    {
        var error = Assert.Throws<ScheduleFormatException>(() => CronSchedule.Parse(expression));

        Assert.Contains(message, error.Message, StringComparison.Ordinal);
        Assert.IsAssignableFrom<FormatException>(error);
    }

    [Fact]
    public void Parse_UnknownZone_ThrowsNamingTheZone()
    {
        var error = Assert.Throws<ScheduleFormatException>(() => CronSchedule.Parse("0 9 * * *", "Mars/Olympus_Mons"));

        Assert.Equal("Unknown time zone 'Mars/Olympus_Mons'; use an IANA id such as 'Europe/London', 'America/New_York' or 'UTC'.", error.Message);
    }

    [Fact]
    public void TryParse_Invalid_ReturnsFalseWithTheError()
    {
        Assert.False(CronSchedule.TryParse("0 0 L,1 * *", "UTC", out var schedule, out var error));
        Assert.Null(schedule);
        Assert.Contains("must stand alone", error, StringComparison.Ordinal);

        Assert.False(CronSchedule.TryParse("0 0 * * *", "Nowhere/Town", out _, out error));
        Assert.Contains("'Nowhere/Town'", error, StringComparison.Ordinal);
    }

    [Fact]
    public void TryParse_Valid_ReturnsTheSchedule()
    {
        Assert.True(CronSchedule.TryParse("0 9 * * *", "Asia/Kolkata", out var schedule, out var error));
        Assert.Null(error);
        Assert.Equal("Asia/Kolkata", schedule.TimeZone.Id);
    }

    [Theory]
    [InlineData("0 0 L * *", "2026-02-28T00:00:00+00:00")]
    [InlineData("0 0 L-2 * *", "2026-02-26T00:00:00+00:00")]
    [InlineData("0 0 LW * *", "2026-02-27T00:00:00+00:00")]
    [InlineData("0 0 1W * *", "2026-02-02T00:00:00+00:00")]
    [InlineData("0 0 15W * *", "2026-02-16T00:00:00+00:00")]
    [InlineData("0 0 * * 5L", "2026-02-27T00:00:00+00:00")]
    [InlineData("0 0 * * FRIL", "2026-02-27T00:00:00+00:00")]
    [InlineData("0 0 * * MON#2", "2026-02-09T00:00:00+00:00")]
    [InlineData("0 0 * * 0#5", "2026-03-29T00:00:00+00:00")]
    public void GetNextOccurrence_CronosSpecials_FindTheDayTheyName(string expression, string expected)
    {
        // From Sunday 2026-02-01: February 2026 has 28 days and ends on a Saturday.
        var next = CronSchedule.Parse(expression).GetNextOccurrence(Instant("2026-02-01T00:00:00Z"));

        Assert.Equal(expected, ScheduleCase.Format(next!.Value));
    }

    [Fact]
    public void GetNextOccurrence_InLondonAfterSpringForward_CarriesTheSummerOffset()
    {
        var next = CronSchedule.Parse("0 3 * * *", "Europe/London").GetNextOccurrence(Instant("2026-03-28T12:00:00Z"));

        Assert.Equal("2026-03-29T03:00:00+01:00", ScheduleCase.Format(next!.Value));
    }

    [Fact]
    public void GetNextOccurrence_ImpossibleDate_ReturnsNullQuickly()
    {
        var watch = Stopwatch.StartNew();

        Assert.Null(CronSchedule.Parse("0 0 30 2 *", "America/New_York").GetNextOccurrence(Instant("2026-01-01T00:00:00Z")));
        Assert.Null(CronSchedule.Parse("0 0 31 4,6,9,11 *").GetNextOccurrence(Instant("2026-01-01T00:00:00Z")));
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(5), watch.Elapsed.ToString());
    }

    [Fact]
    public void GetNextOccurrence_LeapDayAcrossANonLeapCentury_FindsItEightYearsOn()
    {
        var next = CronSchedule.Parse("0 0 29 2 *").GetNextOccurrence(Instant("2097-01-01T00:00:00Z"));

        Assert.Equal(Instant("2104-02-29T00:00:00Z"), next);
    }

    [Fact]
    public void GetNextOccurrence_SubSecondAfter_IsStrictlyAfter()
    {
        var schedule = CronSchedule.Parse("* * * * * *");

        Assert.Equal(Instant("2026-01-01T00:00:01Z"), schedule.GetNextOccurrence(Instant("2026-01-01T00:00:00Z").AddTicks(1)));
        Assert.Equal(Instant("2026-01-01T00:00:01Z"), schedule.GetNextOccurrence(Instant("2026-01-01T00:00:00Z")));
    }

    [Fact]
    public void GetOccurrences_BadArguments_ThrowWhenCalledNotWhenEnumerated()
    {
        var schedule = CronSchedule.Parse("* * * * *");
        var at = Instant("2026-01-01T00:00:00Z");

        Assert.Throws<ArgumentOutOfRangeException>(() => schedule.GetOccurrences(at, at.AddHours(1), -1));
        Assert.Throws<ArgumentOutOfRangeException>(() => schedule.GetOccurrences(at, at.AddHours(1), ScheduleRule.MaxOccurrencesPerCall + 1));
        var reversed = Assert.Throws<ArgumentOutOfRangeException>(() => schedule.GetOccurrences(at, at.AddHours(-1)));
        Assert.Contains("before it starts", reversed.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void GetOccurrences_EmptyWindowOrZeroCount_ReturnsNothing()
    {
        var schedule = CronSchedule.Parse("* * * * *");
        var at = Instant("2026-01-01T00:00:00Z");

        Assert.Empty(schedule.GetOccurrences(at, at));
        Assert.Empty(schedule.GetOccurrences(at, at.AddDays(1), 0));
    }

    [Fact]
    public void GetOccurrences_MaximumCountOfSeconds_ReturnsThemAll()
    {
        var at = Instant("2026-01-01T00:00:00Z");

        var all = CronSchedule.Parse("* * * * * *", "America/New_York").GetOccurrences(at, at.AddDays(2), ScheduleRule.MaxOccurrencesPerCall).ToList();

        Assert.Equal(ScheduleRule.MaxOccurrencesPerCall, all.Count);
        Assert.Equal(at.AddSeconds(ScheduleRule.MaxOccurrencesPerCall), all[^1]);
    }

    [Fact]
    public void GetOccurrences_PerMinuteCron_HundredOccurrencesForAThousandSchedulesIsFast()
    {
        // What a scheduler tick does: the next 100 runs of every schedule. Measured well under a
        // second on a 2-core machine; the bound only catches a minute-by-minute scan over months.
        var schedules = new[] { "* * * * *", "*/5 * * * *", "0 * * * *", "0 9 * * MON-FRI" }
            .SelectMany(cron => new[] { "America/New_York", "Europe/London", "Australia/Lord_Howe", "UTC" }.Select(zone => CronSchedule.Parse(cron, zone)))
            .ToList();
        var at = Instant("2026-10-31T20:00:00Z");
        var watch = Stopwatch.StartNew();

        var total = 0;
        for (var i = 0; i < 1000; i++)
        {
            total += schedules[i % schedules.Count].GetOccurrences(at, at.AddDays(365), 100).Count();
        }

        Assert.Equal(100_000, total);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(20), watch.Elapsed.ToString());
    }

    private static DateTimeOffset Instant(string value) => DateTimeOffset.Parse(value, CultureInfo.InvariantCulture);
}
