using System.Globalization;

namespace Flow.ControlPlane.Tests.Scheduling;

/// <summary>
/// An independent, slow reference for schedule occurrences, sharing no code with
/// Flow.ControlPlane.Scheduling (nor NCrontab). It walks UTC instants one step (a minute, or a second for
/// six-field crons) at a time, reads the zone's clock at each (TimeZoneInfo's instant → offset, the
/// direction that is never ambiguous), and applies the DST rules by observing the clock:
/// <list type="bullet">
/// <item><description>a reading that matches fires, unless it was already read before (the second
/// pass of a fall-back) and the job is fixed-time;</description></item>
/// <item><description>when the clock jumps forward, readings it skipped that match fire once at the
/// instant after the jump (the end of the gap).</description></item>
/// </list>
/// </summary>
internal static class BruteForceOracle
{
    /// <summary>The occurrences of a cron expression, by walking the clock.</summary>
    public static List<DateTimeOffset> Cron(string expression, TimeZoneInfo zone, DateTimeOffset after, DateTimeOffset until, int max)
    {
        var matcher = TinyCron.Parse(expression);
        return Walk(zone, after, until, max, matcher.HasSeconds ? 1 : 60, matcher.Matches, matcher.IsIntervalStyle);
    }

    /// <summary>The occurrences of an interval schedule: absolute steps, or for whole days in a zone, the anchor's wall-clock time.</summary>
    public static List<DateTimeOffset> Interval(TimeSpan interval, DateTimeOffset anchor, TimeZoneInfo zone, DateTimeOffset after, DateTimeOffset until, int max)
    {
        var wholeDays = interval.Ticks % TimeSpan.TicksPerDay == 0 && zone.Id is not ("UTC" or "Etc/UTC");
        if (!wholeDays)
        {
            var result = new List<DateTimeOffset>();
            var stepSeconds = interval.Ticks % TimeSpan.TicksPerMinute == 0 && anchor.UtcTicks % TimeSpan.TicksPerMinute == 0 ? 60 : 1;
            for (var t = Floor(after.UtcDateTime, stepSeconds); t <= until.UtcDateTime && result.Count < max; t = t.AddSeconds(stepSeconds))
            {
                if (t > after.UtcDateTime && (t.Ticks - anchor.UtcTicks) % interval.Ticks == 0)
                {
                    result.Add(new DateTimeOffset(t).ToOffset(zone.GetUtcOffset(t)));
                }
            }

            return result;
        }

        var anchorLocal = TimeZoneInfo.ConvertTime(anchor, zone).DateTime;
        var days = (int)interval.TotalDays;
        bool Matches(DateTime reading) =>
            reading.TimeOfDay == anchorLocal.TimeOfDay && (((reading.Date - anchorLocal.Date).Days % days) + days) % days == 0;
        var step = anchorLocal.Ticks % TimeSpan.TicksPerMinute == 0 ? 60 : 1;
        return Walk(zone, after, until, max, step, Matches, isIntervalStyle: false);
    }

    private static List<DateTimeOffset> Walk(TimeZoneInfo zone, DateTimeOffset after, DateTimeOffset until, int max, int stepSeconds, Func<DateTime, bool> matches, bool isIntervalStyle)
    {
        var result = new List<DateTimeOffset>();

        // Start well before `after` so the first pass of an overlap `after` may be in has been read.
        var u = Floor(after.UtcDateTime.AddHours(-4), stepSeconds);
        var previous = Reading(zone, u.AddSeconds(-stepSeconds));
        var latestRead = previous;
        for (; u <= until.UtcDateTime && result.Count < max; u = u.AddSeconds(stepSeconds))
        {
            var reading = Reading(zone, u);
            var fires = matches(reading) && (reading > latestRead || isIntervalStyle);
            for (var skipped = previous.AddSeconds(stepSeconds); !fires && skipped < reading && reading > latestRead; skipped = skipped.AddSeconds(stepSeconds))
            {
                fires = skipped > latestRead && matches(skipped);
            }

            if (fires && u > after.UtcDateTime)
            {
                result.Add(new DateTimeOffset(DateTime.SpecifyKind(u, DateTimeKind.Utc)).ToOffset(reading - u));
            }

            previous = reading;
            latestRead = reading > latestRead ? reading : latestRead;
        }

        return result;
    }

    private static DateTime Reading(TimeZoneInfo zone, DateTime utc) =>
        DateTime.SpecifyKind(utc + zone.GetUtcOffset(DateTime.SpecifyKind(utc, DateTimeKind.Utc)), DateTimeKind.Unspecified);

    private static DateTime Floor(DateTime utc, int stepSeconds)
    {
        var step = stepSeconds * TimeSpan.TicksPerSecond;
        return new DateTime(utc.Ticks - (utc.Ticks % step), DateTimeKind.Utc);
    }

    /// <summary>A deliberately naive cron matcher: one bool per value per field.</summary>
    private sealed class TinyCron
    {
        private static readonly string[] DayNames = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

        private readonly bool[][] _allowed;
        private readonly Func<DateTime, bool>? _daySpecial;

        private TinyCron(bool[][] allowed, Func<DateTime, bool>? daySpecial, bool hasSeconds, bool isIntervalStyle)
        {
            _allowed = allowed;
            _daySpecial = daySpecial;
            HasSeconds = hasSeconds;
            IsIntervalStyle = isIntervalStyle;
        }

        public bool HasSeconds { get; }

        public bool IsIntervalStyle { get; }

        public static TinyCron Parse(string expression)
        {
            expression = expression.Trim().ToUpperInvariant() switch
            {
                "@HOURLY" => "0 * * * *",
                "@DAILY" or "@MIDNIGHT" => "0 0 * * *",
                "@WEEKLY" => "0 0 * * 0",
                "@MONTHLY" => "0 0 1 * *",
                "@YEARLY" or "@ANNUALLY" => "0 0 1 1 *",
                _ => expression,
            };
            var parts = expression.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            var hasSeconds = parts.Length == 6;
            if (!hasSeconds)
            {
                parts = ["0", .. parts];
            }

            (int Low, int High, string[]? Names)[] specs =
            [
                (0, 59, null), (0, 59, null), (0, 23, null), (1, 31, null),
                (1, 12, ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]),
                (0, 7, DayNames),
            ];
            var allowed = new bool[6][];
            var interval = false;

            // L, W and # (one per expression here): the field matches through the special instead.
            Func<DateTime, bool>? daySpecial = Special(parts[3], parts[5]);
            if (daySpecial is not null)
            {
                (parts[3], parts[5]) = (Special(parts[3], "*") is null ? parts[3] : "*", Special("*", parts[5]) is null ? parts[5] : "*");
            }

            for (var f = 0; f < 6; f++)
            {
                allowed[f] = Field(parts[f], specs[f].Low, specs[f].High, specs[f].Names);
                var textual = f > 0 || hasSeconds;
                if (f < 3 && textual && parts[f].IndexOfAny(['*', '?', '-', '/']) >= 0)
                {
                    interval = true;
                }
            }

            allowed[5][0] |= allowed[5][7];
            return new TinyCron(allowed, daySpecial, hasSeconds, interval);
        }

        public bool Matches(DateTime t) =>
            _allowed[0][t.Second] && _allowed[1][t.Minute] && _allowed[2][t.Hour] && _allowed[3][t.Day] && _allowed[4][t.Month] && _allowed[5][(int)t.DayOfWeek]
            && (_daySpecial is null || _daySpecial(t));

        /// <summary>
        /// The day test for a special: L (last day), L-n, LW (last weekday), nW (weekday nearest day n,
        /// inside the month) in day-of-month; nL (last such weekday) and n#k (k-th such weekday) in day-of-week.
        /// </summary>
        private static Func<DateTime, bool>? Special(string dayOfMonth, string dayOfWeek)
        {
            static int Last(DateTime t) => DateTime.DaysInMonth(t.Year, t.Month);
            static int Weekday(DateTime t, int day)
            {
                var d = new DateTime(t.Year, t.Month, day, 0, 0, 0, DateTimeKind.Unspecified).DayOfWeek;
                return d switch
                {
                    DayOfWeek.Saturday => day > 1 ? day - 1 : day + 2,
                    DayOfWeek.Sunday => day < Last(t) ? day + 1 : day - 2,
                    _ => day,
                };
            }

            if (dayOfMonth == "L")
            {
                return t => t.Day == Last(t);
            }

            if (dayOfMonth.StartsWith("L-", StringComparison.Ordinal))
            {
                var back = int.Parse(dayOfMonth[2..], CultureInfo.InvariantCulture);
                return t => t.Day == Last(t) - back;
            }

            if (dayOfMonth == "LW")
            {
                return t => t.Day == Weekday(t, Last(t));
            }

            if (dayOfMonth.EndsWith('W'))
            {
                var day = int.Parse(dayOfMonth[..^1], CultureInfo.InvariantCulture);
                return t => day <= Last(t) && t.Day == Weekday(t, day);
            }

            static int DayNumber(string text) => Array.IndexOf(DayNames, text) is var i and >= 0 ? i : int.Parse(text, CultureInfo.InvariantCulture) % 7;
            if (dayOfWeek.Length > 1 && dayOfWeek.EndsWith('L'))
            {
                var dow = DayNumber(dayOfWeek[..^1]);
                return t => (int)t.DayOfWeek == dow && t.Day + 7 > Last(t);
            }

            if (dayOfWeek.Contains('#'))
            {
                var dow = DayNumber(dayOfWeek[..dayOfWeek.IndexOf('#')]);
                var nth = int.Parse(dayOfWeek[(dayOfWeek.IndexOf('#') + 1)..], CultureInfo.InvariantCulture);
                return t => (int)t.DayOfWeek == dow && ((t.Day - 1) / 7) + 1 == nth;
            }

            return null;
        }

        private static bool[] Field(string text, int low, int high, string[]? names)
        {
            var allowed = new bool[high + 1];
            foreach (var item in text.Split(','))
            {
                var step = 1;
                var body = item;
                if (item.Contains('/'))
                {
                    step = int.Parse(item[(item.IndexOf('/') + 1)..], CultureInfo.InvariantCulture);
                    body = item[..item.IndexOf('/')];
                }

                int from, to;
                if (body is "*" or "?")
                {
                    (from, to) = (low, high);
                }
                else if (body.Contains('-'))
                {
                    from = Value(body[..body.IndexOf('-')], low, names);
                    to = Value(body[(body.IndexOf('-') + 1)..], low, names);
                }
                else
                {
                    from = Value(body, low, names);
                    to = item.Contains('/') ? high : from;
                }

                // A reversed range wraps past the top of the field (day of week: 0-6, 7 is Sunday).
                var top = names is { Length: 7 } ? 6 : high;
                if (names is { Length: 7 } && from == 7 && to < 7)
                {
                    from = 0;
                }

                var values = new List<int>();
                for (var v = from; v <= (to >= from ? to : top); v++)
                {
                    values.Add(v);
                }

                for (var v = low; to < from && v <= to; v++)
                {
                    values.Add(v);
                }

                for (var i = 0; i < values.Count; i += step)
                {
                    allowed[values[i]] = true;
                }
            }

            return allowed;
        }

        private static int Value(string text, int low, string[]? names)
        {
            if (names is not null && Array.IndexOf(names, text) is var index and >= 0)
            {
                return index + (names.Length == 12 ? 1 : 0);
            }

            return int.Parse(text, CultureInfo.InvariantCulture);
        }
    }
}
