namespace Flow.ControlPlane.Scheduling;

/// <summary>
/// When a schedule fires: pure computation over instants, no clock and no I/O. The two kinds are
/// <see cref="CronSchedule"/> and <see cref="IntervalSchedule"/>.
/// </summary>
/// <remarks>
/// Every occurrence is returned as a <see cref="DateTimeOffset"/> carrying the schedule zone's UTC
/// offset at that instant (for example <c>2026-03-29T03:00:00+01:00</c> in Europe/London), so it
/// can be shown as is; compare occurrences as instants. Each call does a bounded amount of work: at
/// most <see cref="MaxOccurrencesPerCall"/> occurrences, and <see cref="GetNextOccurrence"/> looks at
/// most <see cref="NextOccurrenceHorizon"/> ahead. Instances are immutable and safe to share
/// between threads.
/// </remarks>
public abstract class ScheduleRule
{
    /// <summary>The largest <c>maxCount</c> <see cref="GetOccurrences"/> accepts: 100,000.</summary>
    public const int MaxOccurrencesPerCall = 100_000;

    // Occurrences are computed for years 2..9997 only, so that local readings and search bounds
    // (a day either side) stay inside DateTime's range.
    private static readonly DateTimeOffset Earliest = new(2, 1, 1, 0, 0, 0, TimeSpan.Zero);
    private static readonly DateTimeOffset Latest = new(9997, 12, 31, 0, 0, 0, TimeSpan.Zero);

    private protected ScheduleRule()
    {
    }

    /// <summary>How far <see cref="GetNextOccurrence"/> looks: 3,653 days (ten years, enough for any leap day).</summary>
    public static TimeSpan NextOccurrenceHorizon { get; } = TimeSpan.FromDays(3653);

    /// <summary>The schedule's time zone (UTC unless one was given).</summary>
    public abstract TimeZoneInfo TimeZone { get; }

    /// <summary>
    /// The occurrences strictly after <paramref name="after"/> and at or before
    /// <paramref name="until"/>, ascending, at most <paramref name="maxCount"/> of them.
    /// </summary>
    /// <param name="after">Exclusive start (an instant; its offset does not matter).</param>
    /// <param name="until">Inclusive end.</param>
    /// <param name="maxCount">At most this many, from 0 to <see cref="MaxOccurrencesPerCall"/>.</param>
    /// <returns>The occurrences, each at the zone's offset at that instant. Arguments are checked when this is called, not when it is enumerated.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxCount"/> is out of range, or <paramref name="until"/> is before <paramref name="after"/>.</exception>
    public IEnumerable<DateTimeOffset> GetOccurrences(DateTimeOffset after, DateTimeOffset until, int maxCount = 1000)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxCount);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(maxCount, MaxOccurrencesPerCall);
        if (until < after)
        {
            throw new ArgumentOutOfRangeException(nameof(until), until, $"The window ends ({until:O}) before it starts ({after:O}).");
        }

        return Enumerate(after, until, maxCount);
    }

    /// <summary>The first occurrence strictly after <paramref name="after"/>, or null when there is none within <see cref="NextOccurrenceHorizon"/> (for example <c>0 0 30 2 *</c>).</summary>
    /// <param name="after">Exclusive start.</param>
    /// <returns>The occurrence, at the zone's offset at that instant, or null.</returns>
    public DateTimeOffset? GetNextOccurrence(DateTimeOffset after)
    {
        var until = after.UtcDateTime < Latest.UtcDateTime - NextOccurrenceHorizon ? after + NextOccurrenceHorizon : Latest;
        foreach (var occurrence in Enumerate(after, until, 1))
        {
            return occurrence;
        }

        return null;
    }

    /// <summary>
    /// The first occurrence strictly after <paramref name="after"/>, or null when there is none at or
    /// before <paramref name="until"/> (it may return one later than <paramref name="until"/>; the caller filters).
    /// </summary>
    private protected abstract DateTimeOffset? Next(DateTimeOffset after, DateTimeOffset until);

    /// <summary>The local reading of <paramref name="instant"/> in <see cref="TimeZone"/>, with its offset.</summary>
    private protected DateTimeOffset InZone(DateTimeOffset instant) => TimeZoneInfo.ConvertTime(instant, TimeZone);

    private IEnumerable<DateTimeOffset> Enumerate(DateTimeOffset after, DateTimeOffset until, int maxCount)
    {
        if (after < Earliest)
        {
            after = Earliest;
        }

        if (until > Latest)
        {
            until = Latest;
        }

        var current = after;
        for (var count = 0; count < maxCount && current < until; count++)
        {
            var next = Next(current, until);
            if (next is not { } found || found > until)
            {
                yield break;
            }

            if (found <= current)
            {
                throw new InvalidOperationException($"Schedule {this} went backwards: {found:O} after {current:O}.");
            }

            yield return found;
            current = found;
        }
    }
}
