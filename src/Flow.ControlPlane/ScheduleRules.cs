using System.Collections.Concurrent;
using Flow.ControlPlane.Scheduling;

namespace Flow.ControlPlane;

/// <summary>Builds the occurrence rule of a deployment schedule.</summary>
public static class ScheduleRules
{
    private static readonly ConcurrentDictionary<(string?, string?, TimeSpan?, DateTimeOffset?), ScheduleRule> Cache = new();

    /// <summary>The rule of a schedule (cached by definition).</summary>
    /// <param name="schedule">The schedule.</param>
    /// <returns>The rule.</returns>
    /// <exception cref="FormatException">The cron expression or time zone is invalid.</exception>
    /// <exception cref="ArgumentException">The interval is invalid.</exception>
    public static ScheduleRule Build(DeploymentSchedule schedule)
    {
        ArgumentNullException.ThrowIfNull(schedule);
        var key = (schedule.Cron, schedule.TimeZone, schedule.Interval, schedule.Anchor);
        if (Cache.TryGetValue(key, out var rule))
        {
            return rule;
        }

        rule = schedule.Cron is { } cron
            ? CronSchedule.Parse(cron, schedule.TimeZone)
            : new IntervalSchedule(schedule.Interval ?? throw new ArgumentException("A schedule needs a cron expression or an interval."), schedule.Anchor, schedule.TimeZone);
        if (Cache.Count > 10_000)
        {
            Cache.Clear();
        }

        Cache[key] = rule;
        return rule;
    }
}
