using System.Diagnostics.CodeAnalysis;
using Cronos;

namespace Flow.ControlPlane.Scheduling;

/// <summary>
/// A cron schedule in a time zone, evaluated by Cronos (<see cref="CronExpression"/>): the fields are
/// matched against the zone's local wall-clock time, and Cronos applies its daylight-saving rules.
/// </summary>
/// <remarks>
/// <para><b>Syntax.</b> Five fields <c>minute hour day-of-month month day-of-week</c>, or six with
/// <c>second</c> first. Each field takes <c>*</c> (<c>?</c> is the same), numbers, ranges <c>a-b</c>,
/// reversed ranges that wrap (<c>22-2</c> is 22,23,0,1,2; <c>FRI-MON</c>), steps <c>*/n</c>,
/// <c>a/n</c> (from a to the end) and <c>a-b/n</c>, and comma lists. Months take <c>JAN</c>-<c>DEC</c>,
/// days of week <c>SUN</c>-<c>SAT</c> (three letters, any case); 0 and 7 are both Sunday. Macros:
/// <c>@yearly</c>, <c>@annually</c>, <c>@monthly</c>, <c>@weekly</c>, <c>@daily</c>, <c>@midnight</c>,
/// <c>@hourly</c>, <c>@every_minute</c>, <c>@every_second</c>.</para>
/// <para><b>Specials</b> (Cronos'; each alone in its field, not in a list): in day-of-month <c>L</c>
/// (the last day of the month), <c>L-n</c> (n days before the last), <c>nW</c> (the weekday nearest
/// day n, within the month), <c>LW</c> (the last weekday of the month); in day-of-week <c>nL</c> or
/// <c>FRIL</c> (the last such weekday of the month) and <c>n#k</c> or <c>MON#2</c> (the k-th such
/// weekday, k from 1 to 5). <c>H</c> is not supported.</para>
/// <para><b>Day of month and day of week</b> must both match (AND), as in Cronos:
/// <c>0 0 13 * FRI</c> is every Friday the 13th (Vixie cron would read it as OR). A day that a
/// month lacks is skipped: <c>0 0 31 * *</c> fires in seven months, <c>0 0 29 2 *</c> only in leap
/// years, <c>0 0 30 2 *</c> never (<see cref="ScheduleRule.GetNextOccurrence"/> returns null).</para>
/// <para><b>Daylight saving time</b> (Cronos' rules):</para>
/// <list type="bullet">
/// <item><description>Spring forward: a local time that does not exist (in the gap, e.g. 02:30 on
/// 2026-03-08 in America/New_York) fires once at the end of the gap, the instant the clocks jump
/// (03:00 local, 07:00Z). Several occurrences in one gap, and an occurrence at the gap's end, fire
/// once together.</description></item>
/// <item><description>Fall back: a local time that happens twice (in the overlap, e.g. 01:30 on
/// 2026-11-01 in America/New_York) fires in the first pass (the offset before the transition, 01:30-04:00).
/// It fires again in the second pass (01:30-05:00) only when the expression is interval-style
/// (<see cref="IsIntervalStyle"/>): its second (six-field form only), minute or hour field uses
/// <c>*</c>, <c>?</c>, a range or a step. So <c>*/15 * * * *</c> fires 01:00, 01:15, 01:30, 01:45
/// in both offsets, <c>30 1 * * *</c> and <c>0,30 1 * * *</c> fire once, and <c>0 1-3 * * *</c>
/// and <c>*/15 1 * * *</c> fire at 01:00 (and 01:15 ...) in both offsets.</description></item>
/// <item><description>Anything else fires at the zone's single offset for that local time.</description></item>
/// </list>
/// </remarks>
public sealed class CronSchedule : ScheduleRule
{
    private readonly CronExpression _cron;

    private CronSchedule(string expression, CronSyntax.Parsed parsed, TimeZoneInfo zone)
    {
        Expression = expression;
        TimeZone = zone;
        HasSeconds = parsed.HasSeconds;
        IsIntervalStyle = parsed.IsIntervalStyle;
        _cron = parsed.Expression;
    }

    /// <summary>The expression as given.</summary>
    public string Expression { get; }

    /// <inheritdoc/>
    public override TimeZoneInfo TimeZone { get; }

    /// <summary>Six fields, seconds first.</summary>
    public bool HasSeconds { get; }

    /// <summary>
    /// Whether the expression is interval-style and so fires in both passes of a fall-back overlap:
    /// its second (six-field form only), minute or hour field uses <c>*</c>, <c>?</c>, a range or a step.
    /// </summary>
    public bool IsIntervalStyle { get; }

    /// <summary>Parses a cron expression in a time zone.</summary>
    /// <param name="expression">Five or six fields, or a macro such as <c>@daily</c>.</param>
    /// <param name="timeZone">An IANA time-zone id; UTC when null.</param>
    /// <returns>The schedule.</returns>
    /// <exception cref="ScheduleFormatException">The expression or zone is invalid; the message says what is wrong.</exception>
    public static CronSchedule Parse(string expression, string? timeZone = null) =>
        TryParse(expression, timeZone, out var schedule, out var error) ? schedule : throw new ScheduleFormatException(error);

    /// <summary>Parses a cron expression in a time zone, without throwing.</summary>
    /// <param name="expression">Five or six fields, or a macro such as <c>@daily</c>.</param>
    /// <param name="timeZone">An IANA time-zone id; UTC when null.</param>
    /// <param name="schedule">The schedule, when valid.</param>
    /// <param name="error">What is wrong, when invalid.</param>
    /// <returns>True when valid.</returns>
    public static bool TryParse(string expression, string? timeZone, [NotNullWhen(true)] out CronSchedule? schedule, [NotNullWhen(false)] out string? error)
    {
        schedule = null;
        if (!CronSyntax.TryParse(expression, out var parsed, out error))
        {
            return false;
        }

        var zone = TimeZoneInfo.Utc;
        if (timeZone is not null && !TimeZones.TryFind(timeZone, out zone, out error))
        {
            return false;
        }

        schedule = new CronSchedule(expression, parsed, zone);
        return true;
    }

    /// <summary>The expression and zone, e.g. <c>cron '0 9 * * MON-FRI' in Europe/London</c>.</summary>
    /// <returns>A description.</returns>
    public override string ToString() => $"cron '{Expression}' in {TimeZone.Id}";

    private protected override DateTimeOffset? Next(DateTimeOffset after, DateTimeOffset until) =>
        _cron.GetNextOccurrence(after, TimeZone, inclusive: false);
}
