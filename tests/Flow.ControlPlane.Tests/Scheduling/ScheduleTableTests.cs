using System.Globalization;

namespace Flow.ControlPlane.Tests.Scheduling;

/// <summary>
/// The schedule tables: rows written by hand from the known transition dates, and hundreds of rows
/// computed by <see cref="BruteForceOracle"/>. The code under test must match both; the oracle must
/// match the hand-written rows too (so it is checked against something it did not compute) and still
/// reproduce its own table.
/// </summary>
public sealed class ScheduleTableTests
{
    private static readonly string[] Zones =
    [
        "UTC", "Europe/London", "America/New_York", "Australia/Lord_Howe", "Australia/Sydney",
        "Pacific/Auckland", "America/Santiago", "Asia/Kolkata",
    ];

    // Around a transition (three hours either side), in every zone: gaps and overlaps, fixed-time
    // and interval-style, lists, ranges (also reversed), steps, hours around midnight for Santiago.
    private static readonly string[] TransitionCrons =
    [
        "*/15 * * * *", "0 * * * *", "30 * * * *", "*/20 0-3 * * *", "0,30 0,1,2,3,23 * * *", "15 1,2 * * *",
        "30 2 * * *", "45 1 * * *", "0 0 * * *", "0 2 * * *", "0 3 * * *", "30 23 * * *", "10 22-2 * * *",
        "5 */2 * * *", "* 2 * * *", "0,20,40 1 * * *", "*/30 1 * * *", "59 1 * * SUN", "0 1-2 * * *", "0 23,0 * * *", "*/10 1 * * *",
    ];

    // Six fields, with the span around the transition each is checked over.
    private static readonly (string Cron, TimeSpan Span)[] SecondCrons =
    [
        ("*/20 * * * * *", TimeSpan.FromMinutes(3)), ("0 */10 * * * *", TimeSpan.FromMinutes(70)),
        ("15 30 * * * *", TimeSpan.FromMinutes(70)), ("0 0 2 * * *", TimeSpan.FromHours(3)), ("30 45 1 * * *", TimeSpan.FromHours(3)),
    ];

    // An ordinary 30-hour window: weekday names, ranges with steps, 7 for Sunday, reversed weekdays.
    private static readonly string[] DayCrons =
    [
        "0 9 * * MON-FRI", "*/45 * * * *", "0 12 * * SAT,SUN", "15 14 * * 3", "0 */6 * * *", "0 0 * * 7",
        "0 8-18/2 * * 1-5", "20 4 * * FRI-MON", "@daily",
    ];

    // A five-week window over the end of January and February: month ends, lists, leap day (none in 2026).
    private static readonly string[] MonthCrons =
    [
        "0 0 31 * *", "0 12 1,15 * *", "30 6 28-31 * *", "0 0 29 2 *", "0 0 1 JAN-MAR *", "0 18 */10 * *",
    ];

    // Cronos' specials (added after the first 714 rows, which they leave unchanged): last day, last
    // weekday, nearest weekday, last and n-th weekday of the month, also on transition days (the second
    // Sunday of March is New York's spring forward, the last Sunday of March and October London's).
    private static readonly string[] SpecialCrons =
    [
        "0 0 L * *", "30 1 L * *", "0 12 L-3 * *", "0 9 LW * *", "0 9 15W * *", "0 9 1W * *", "0 9 * * 5L",
        "0 9 * * MON#2", "30 2 * * SUN#2", "30 1 * * 0L",
    ];

    private static readonly string[] SpecialZones = ["UTC", "Europe/London", "America/New_York", "Australia/Sydney"];

    private static readonly string[] Intervals = ["00:07:00", "00:15:00", "01:30:00"];

    private static readonly (string Interval, string LocalTime)[] DayIntervals =
    [
        ("1.00:00:00", "01:30"), ("1.00:00:00", "02:15"), ("1.00:00:00", "02:30"), ("1.00:00:00", "23:30"),
        ("1.00:00:00", "00:00"), ("2.00:00:00", "02:30"), ("2.00:00:00", "01:30"), ("7.00:00:00", "09:00"),
    ];

    public static TheoryData<string> HandWrittenRows() => ScheduleCase.Rows(ScheduleCase.HandWrittenFile);

    public static TheoryData<string> OracleRows() => ScheduleCase.Rows(ScheduleCase.OracleFile);

    [Theory]
    [MemberData(nameof(HandWrittenRows))]
    public void GetOccurrences_HandWrittenRow_MatchesExpected(string row)
    {
        var c = ScheduleCase.Find(ScheduleCase.HandWrittenFile, row);
        Assert.Equal(c.Expected, c.Actual());
    }

    [Theory]
    [MemberData(nameof(HandWrittenRows))]
    public void Oracle_HandWrittenRow_MatchesExpected(string row)
    {
        var c = ScheduleCase.Find(ScheduleCase.HandWrittenFile, row);
        Assert.Equal(c.Expected, c.FromOracle());
    }

    [Theory]
    [MemberData(nameof(OracleRows))]
    public void GetOccurrences_OracleRow_MatchesExpected(string row)
    {
        var c = ScheduleCase.Find(ScheduleCase.OracleFile, row);
        Assert.Equal(c.Expected, c.Actual());
    }

    [Fact]
    public void OracleTable_RecomputedByTheOracle_IsUnchanged()
    {
        var stale = ScheduleCase.Load(ScheduleCase.OracleFile).Where(c => !c.Expected.SequenceEqual(c.FromOracle())).Select(c => c.Name).ToList();
        Assert.Empty(stale);
    }

    [Fact]
    public void OracleTable_HasHundredsOfRowsCoveringEveryZone()
    {
        var rows = ScheduleCase.Load(ScheduleCase.OracleFile);
        Assert.True(rows.Count >= 500, $"{rows.Count} rows");
        Assert.All(Zones, zone => Assert.Contains(rows, r => r.Zone == zone));
        Assert.Contains(rows, r => r.Interval is not null);
        Assert.All(["L", "W", "#"], special => Assert.Contains(rows, r => r.Cron?.Split(' ') is [_, _, var dayOfMonth, _, var dayOfWeek] && (dayOfMonth + dayOfWeek).Contains(special, StringComparison.Ordinal)));
    }

    /// <summary>
    /// Writes the oracle table from the brute-force oracle. Run it explicitly after changing the
    /// specification above (or the oracle); review the diff of the JSON file.
    /// </summary>
    [Fact(Explicit = true)]
    public void RegenerateOracleTable()
    {
        ScheduleCase.Save(ScheduleCase.OracleFile, GenerateOracleRows().Select(c => c with { Expected = c.FromOracle() }));
    }

    private static IEnumerable<ScheduleCase> GenerateOracleRows()
    {
        foreach (var id in Zones)
        {
            var zone = TimeZoneInfo.FindSystemTimeZoneById(id);
            foreach (var (transition, before, after) in Transitions(zone, 2026))
            {
                var kind = after > before ? "spring" : "fall";
                var near = $"{id} {kind} {Format(transition)}";
                foreach (var cron in TransitionCrons)
                {
                    yield return Cron(cron, id, zone, transition.AddHours(-3), transition.AddHours(3), 12, near);
                    if (after < before)
                    {
                        // `after` inside the second pass of the overlap.
                        yield return Cron(cron, id, zone, transition.AddMinutes(10), transition.AddHours(3), 12, near + " from the second pass");
                    }
                }

                foreach (var (cron, span) in SecondCrons)
                {
                    yield return Cron(cron, id, zone, transition - span, transition + span, 12, near);
                }

                foreach (var interval in Intervals)
                {
                    yield return Interval(interval, null, id, zone, transition.AddHours(-3), transition.AddHours(3), near);
                }

                foreach (var (interval, localTime) in DayIntervals)
                {
                    var anchor = LocalAnchor(zone, localTime);
                    yield return Interval(interval, anchor, id, zone, transition.AddDays(-4), transition.AddDays(4), near + $" anchored at {localTime} local");
                }
            }

            var day = new DateTimeOffset(2026, 6, 14, 18, 0, 0, TimeSpan.Zero);
            foreach (var cron in DayCrons)
            {
                yield return Cron(cron, id, zone, day, day.AddHours(30), 12, $"{id} ordinary day");
            }

            var month = new DateTimeOffset(2026, 1, 26, 0, 0, 0, TimeSpan.Zero);
            foreach (var cron in MonthCrons)
            {
                yield return Cron(cron, id, zone, month, month.AddDays(36), 12, $"{id} month ends");
            }

            foreach (var interval in Intervals)
            {
                yield return Interval(interval, "2026-06-14T18:05:00+00:00", id, zone, day, day.AddHours(5), $"{id} ordinary day");
            }
        }

        foreach (var id in SpecialZones)
        {
            var zone = TimeZoneInfo.FindSystemTimeZoneById(id);
            foreach (var start in new[] { new DateTimeOffset(2026, 2, 20, 0, 0, 0, TimeSpan.Zero), new DateTimeOffset(2026, 9, 25, 0, 0, 0, TimeSpan.Zero) })
            {
                foreach (var cron in SpecialCrons)
                {
                    yield return Cron(cron, id, zone, start, start.AddDays(45), 12, $"{id} special from {start:yyyy-MM-dd}");
                }
            }
        }
    }

    private static ScheduleCase Cron(string cron, string id, TimeZoneInfo zone, DateTimeOffset after, DateTimeOffset until, int max, string note) =>
        new($"'{cron}' {note}", cron, null, null, id, Local(zone, after), Local(zone, until), max, []);

    private static ScheduleCase Interval(string interval, string? anchor, string id, TimeZoneInfo zone, DateTimeOffset after, DateTimeOffset until, string note) =>
        new($"every {interval} {note}", null, interval, anchor, id, Local(zone, after), Local(zone, until), 12, []);

    /// <summary>An anchor on 2026-01-10 at the given local time (a valid, unambiguous time in every zone on that day).</summary>
    private static string LocalAnchor(TimeZoneInfo zone, string localTime)
    {
        var local = DateTime.ParseExact("2026-01-10T" + localTime, "yyyy-MM-dd'T'HH:mm", CultureInfo.InvariantCulture);
        return ScheduleCase.Format(new DateTimeOffset(local, zone.GetUtcOffset(local)));
    }

    private static string Local(TimeZoneInfo zone, DateTimeOffset instant) => ScheduleCase.Format(TimeZoneInfo.ConvertTime(instant, zone));

    private static string Format(DateTimeOffset instant) => instant.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm'Z'", CultureInfo.InvariantCulture);

    /// <summary>The instants in a year at which the zone's offset changes (found by scanning, for the generator only).</summary>
    private static IEnumerable<(DateTimeOffset At, TimeSpan Before, TimeSpan After)> Transitions(TimeZoneInfo zone, int year)
    {
        var start = new DateTimeOffset(year, 1, 1, 0, 0, 0, TimeSpan.Zero);
        var previous = zone.GetUtcOffset(start);
        for (var t = start; t.Year == year; t = t.AddMinutes(15))
        {
            var offset = zone.GetUtcOffset(t);
            if (offset != previous)
            {
                yield return (t, previous, offset);
                previous = offset;
            }
        }
    }
}
