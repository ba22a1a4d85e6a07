namespace Flow.ControlPlane.Scheduling;

/// <summary>
/// Maps local wall-clock times of a zone to instants across DST transitions, for whole-day
/// <see cref="IntervalSchedule"/>s (cron schedules leave this to Cronos). Local times are
/// <see cref="DateTimeKind.Unspecified"/> readings of the zone's clock.
/// </summary>
internal static class ZoneClock
{
    /// <summary>
    /// The earliest instant whose local reading is <paramref name="local"/>: in a spring-forward gap
    /// the end of the gap (the transition instant, at the new offset); in a fall-back overlap the first
    /// pass; otherwise the one instant.
    /// </summary>
    internal static DateTimeOffset Earliest(TimeZoneInfo zone, DateTime local)
    {
        if (zone.IsInvalidTime(local))
        {
            return GapEnd(zone, local);
        }

        if (zone.IsAmbiguousTime(local))
        {
            var offsets = zone.GetAmbiguousTimeOffsets(local);
            return new DateTimeOffset(local, offsets.Max());
        }

        return new DateTimeOffset(local, zone.GetUtcOffset(local));
    }

    /// <summary>The instant a spring-forward gap ends, for a local time inside the gap, at the new offset.</summary>
    private static DateTimeOffset GapEnd(TimeZoneInfo zone, DateTime local)
    {
        var whole = FloorToSecond(local);
        var before = zone.GetUtcOffset(Utc(whole).AddDays(-1));
        var after = zone.GetUtcOffset(Utc(whole).AddDays(1));
        if (after > before)
        {
            var transition = FindTransition(zone, Utc(whole - after), Utc(whole - before), after);
            return new DateTimeOffset(transition + after, after);
        }

        // Two transitions within two days (never in current tzdata): walk to the first valid minute.
        var probe = whole.AddSeconds(-whole.Second);
        while (zone.IsInvalidTime(probe))
        {
            probe = probe.AddMinutes(1);
        }

        return new DateTimeOffset(probe, zone.GetUtcOffset(probe));
    }

    /// <summary>
    /// The first UTC instant (to the second) in (<paramref name="low"/>, <paramref name="high"/>]
    /// at which the zone's offset is <paramref name="newOffset"/>, given that it is not at
    /// <paramref name="low"/> and is at <paramref name="high"/>. Returned as a UTC reading.
    /// </summary>
    private static DateTime FindTransition(TimeZoneInfo zone, DateTime low, DateTime high, TimeSpan newOffset)
    {
        while (high - low > TimeSpan.FromSeconds(1))
        {
            var mid = low.AddTicks((high - low).Ticks / 2);
            mid = FloorToSecond(mid);
            if (mid <= low)
            {
                mid = low.AddSeconds(1);
            }

            if (zone.GetUtcOffset(mid) == newOffset)
            {
                high = mid;
            }
            else
            {
                low = mid;
            }
        }

        return DateTime.SpecifyKind(high, DateTimeKind.Unspecified);
    }

    private static DateTime Utc(DateTime reading) => DateTime.SpecifyKind(reading, DateTimeKind.Utc);

    private static DateTime FloorToSecond(DateTime value) => value.AddTicks(-(value.Ticks % TimeSpan.TicksPerSecond));
}
