using System.Collections.Concurrent;
using Flow.ControlPlane.Scheduling;

namespace Flow.ControlPlane.Tests.Scheduling;

/// <summary>Properties every schedule keeps, over random schedules and windows (fixed seeds, so failures reproduce).</summary>
public sealed class ScheduleRulePropertyTests
{
    private static readonly string[] Crons =
    [
        "* * * * *", "*/15 * * * *", "30 1 * * *", "0 2 * * *", "0,30 1,2 * * *", "*/7 1-3 * * *", "0 0 * * *",
        "0 9 * * MON-FRI", "0 0 31 * *", "0 0 29 2 *", "10 22-2 * * *", "*/20 * * * * *", "30 30 1 * * *", "0 0 13 * FRI",
    ];

    private static readonly string[] Zones =
    [
        "UTC", "Europe/London", "America/New_York", "Australia/Lord_Howe", "Australia/Sydney", "Pacific/Auckland",
        "America/Santiago", "Asia/Kolkata",
    ];

    private static readonly TimeSpan[] Intervals =
    [
        TimeSpan.FromSeconds(1), TimeSpan.FromMinutes(7), TimeSpan.FromMinutes(90), TimeSpan.FromDays(1), TimeSpan.FromDays(2), TimeSpan.FromDays(7),
    ];

    private static readonly ConcurrentDictionary<string, List<DateTimeOffset>> Transitions = new();

    public static TheoryData<int> Seeds() => [.. Enumerable.Range(1, 40)];

    [Theory]
    [MemberData(nameof(Seeds))]
    public void GetOccurrences_RandomScheduleAndWindow_AscendingInsideTheWindowAndConsistentWithGetNextOccurrence(int seed)
    {
        var random = new Random(seed);
        for (var round = 0; round < 10; round++)
        {
            var zone = Zones[random.Next(Zones.Length)];
            ScheduleRule rule = random.Next(3) == 0
                ? new IntervalSchedule(Intervals[random.Next(Intervals.Length)], RandomInstant(random, zone), zone)
                : CronSchedule.Parse(Crons[random.Next(Crons.Length)], zone);
            var after = RandomInstant(random, zone).AddTicks(random.Next(2) == 0 ? 0 : random.Next(10_000_000));
            var until = after + TimeSpan.FromMinutes(random.Next(1, 60 * 24 * 10));
            var max = random.Next(1, 60);

            var occurrences = rule.GetOccurrences(after, until, max).ToList();

            var context = $"{rule} after {after:O} until {until:O} max {max}";
            Assert.True(occurrences.Count <= max, context);
            var previous = after;
            foreach (var occurrence in occurrences)
            {
                Assert.True(occurrence > previous, $"{context}: {occurrence:O} is not after {previous:O}");
                Assert.True(occurrence <= until, $"{context}: {occurrence:O} is after the window");
                Assert.Equal(rule.TimeZone.GetUtcOffset(occurrence), occurrence.Offset);
                Assert.Equal(occurrence, rule.GetNextOccurrence(previous));
                previous = occurrence;
            }

            if (occurrences.Count < max)
            {
                var next = rule.GetNextOccurrence(previous);
                Assert.True(next is null || next > until, $"{context}: {next:O} was left out");
            }
        }
    }

    /// <summary>Mostly near a 2026 DST transition of the zone (where the rules matter), sometimes anywhere in 2026.</summary>
    private static DateTimeOffset RandomInstant(Random random, string zoneId)
    {
        var zone = TimeZoneInfo.FindSystemTimeZoneById(zoneId);
        var start = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
        var anywhere = start.AddMinutes(random.Next(365 * 24 * 60));
        if (random.Next(4) == 0)
        {
            return anywhere;
        }

        var transitions = Transitions.GetOrAdd(zoneId, _ =>
        {
            var found = new List<DateTimeOffset>();
            for (var t = start; t.Year == 2026; t = t.AddHours(1))
            {
                if (zone.GetUtcOffset(t) != zone.GetUtcOffset(t.AddHours(1)))
                {
                    found.Add(t);
                }
            }

            return found;
        });
        return transitions.Count == 0 ? anywhere : transitions[random.Next(transitions.Count)].AddMinutes(random.Next(-300, 300));
    }
}
