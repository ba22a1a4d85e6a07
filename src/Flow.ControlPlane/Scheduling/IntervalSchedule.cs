namespace Flow.ControlPlane.Scheduling;

/// <summary>
/// Fires every <see cref="Interval"/>, at <see cref="Anchor"/> + k × interval for every integer k
/// (so before the anchor too), like Prefect's <c>IntervalSchedule</c>.
/// </summary>
/// <remarks>
/// <para>In absolute time by default: every 90 minutes is every 90 minutes, across DST.</para>
/// <para>When a time zone other than UTC is given and the interval is a whole number of days, the
/// schedule keeps the anchor's local wall-clock time instead (<see cref="KeepsWallClockTime"/>):
/// daily at 09:00 in Europe/London stays at 09:00 local through DST, so the instants are 23 or 25
/// hours apart across a transition. The occurrences are the local times anchor-local + k × interval,
/// mapped with the cron DST rules for a fixed-time job: a local time in a spring-forward gap fires
/// once at the end of the gap; a local time in a fall-back overlap fires once, in the first pass (the
/// offset before the transition). An anchor that is itself in the second pass of an overlap is
/// therefore not an occurrence; its local time is, in the first pass.</para>
/// </remarks>
public sealed class IntervalSchedule : ScheduleRule
{
    /// <summary>The anchor used when none is given: 2020-01-01T00:00Z.</summary>
    public static readonly DateTimeOffset DefaultAnchor = new(2020, 1, 1, 0, 0, 0, TimeSpan.Zero);

    private readonly long _intervalTicks;
    private readonly DateTime _anchorLocal;

    /// <summary>Creates the schedule.</summary>
    /// <param name="interval">How often; at least one second.</param>
    /// <param name="anchor">An occurrence; <see cref="DefaultAnchor"/> when null.</param>
    /// <param name="timeZone">An IANA time-zone id; UTC when null. Decides the offsets the occurrences carry and, for whole-day intervals, the wall clock kept.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="interval"/> is shorter than one second.</exception>
    /// <exception cref="ScheduleFormatException"><paramref name="timeZone"/> is not a known zone.</exception>
    public IntervalSchedule(TimeSpan interval, DateTimeOffset? anchor = null, string? timeZone = null)
    {
        if (interval < TimeSpan.FromSeconds(1))
        {
            throw new ArgumentOutOfRangeException(nameof(interval), interval, $"The interval must be at least 1 second; got {interval}.");
        }

        Interval = interval;
        Anchor = anchor ?? DefaultAnchor;
        TimeZone = TimeZones.FindOrThrow(timeZone);
        _intervalTicks = interval.Ticks;
        KeepsWallClockTime = interval.Ticks % TimeSpan.TicksPerDay == 0 && !TimeZones.IsUtc(TimeZone);
        _anchorLocal = InZone(Anchor).DateTime;
    }

    /// <summary>How often.</summary>
    public TimeSpan Interval { get; }

    /// <summary>One of the occurrences (in absolute time), from which the others are counted.</summary>
    public DateTimeOffset Anchor { get; }

    /// <inheritdoc/>
    public override TimeZoneInfo TimeZone { get; }

    /// <summary>Whether the schedule keeps the anchor's local time of day across DST (a whole-day interval in a zone other than UTC) rather than counting absolute time.</summary>
    public bool KeepsWallClockTime { get; }

    /// <summary>The interval, anchor and zone, e.g. <c>every 01:30:00 from 2020-01-01T00:00:00.0000000+00:00 in UTC</c>.</summary>
    /// <returns>A description.</returns>
    public override string ToString() => $"every {Interval} from {Anchor:O} in {TimeZone.Id}";

    private protected override DateTimeOffset? Next(DateTimeOffset after, DateTimeOffset until)
    {
        if (!KeepsWallClockTime)
        {
            var k = FloorDivide(after.UtcTicks - Anchor.UtcTicks, _intervalTicks) + 1;
            var ticks = Anchor.UtcTicks + (k * _intervalTicks);
            return ticks > until.UtcTicks ? null : InZone(new DateTimeOffset((long)ticks, TimeSpan.Zero));
        }

        // The local time k steps from the anchor's; the one counted from `after`'s own local time
        // can map to an instant at or before `after` (in an overlap), so try the next few.
        var first = FloorDivide(InZone(after).DateTime.Ticks - _anchorLocal.Ticks, _intervalTicks);
        for (var k = first; k <= first + 3; k++)
        {
            var ticks = _anchorLocal.Ticks + (k * _intervalTicks);
            if (ticks > until.UtcTicks + TimeSpan.TicksPerDay)
            {
                return null;
            }

            if (ticks < 0)
            {
                continue;
            }

            var occurrence = ZoneClock.Earliest(TimeZone, new DateTime((long)ticks, DateTimeKind.Unspecified));
            if (occurrence > after)
            {
                return occurrence;
            }
        }

        return null;
    }

    private static Int128 FloorDivide(Int128 dividend, long divisor)
    {
        var quotient = dividend / divisor;
        return dividend % divisor < 0 ? quotient - 1 : quotient;
    }
}
