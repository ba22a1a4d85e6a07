using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Text;

namespace Flow.ControlPlane.Scheduling;

/// <summary>
/// Reads a cron expression field by field (Cronos' grammar without <c>L</c>, <c>W</c>, <c>#</c> and
/// <c>H</c>), with an error that names the field and value, and rewrites it as plain value lists for
/// NCrontab, which then does the matching and the searching. Rewriting closes gaps in NCrontab's own
/// parser: it reads the reversed range <c>22-2</c> as <c>2-22</c>, the step <c>*/0</c> as
/// <c>*</c>, any name prefix (<c>T</c>) as a day, and rejects 7 for Sunday.
/// </summary>
internal static class CronSyntax
{
    private static readonly string[] MonthNames = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"];
    private static readonly string[] DayNames = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

    private static readonly Field Second = new("second", 0, 59, null, 0, CanDefineInterval: true);
    private static readonly Field Minute = new("minute", 0, 59, null, 0, CanDefineInterval: true);
    private static readonly Field Hour = new("hour", 0, 23, null, 0, CanDefineInterval: true);
    private static readonly Field DayOfMonth = new("day-of-month", 1, 31, null, 0, CanDefineInterval: false);
    private static readonly Field Month = new("month", 1, 12, MonthNames, 1, CanDefineInterval: false);

    // 0 and 7 are both Sunday; values are stored as 0-6.
    private static readonly Field DayOfWeek = new("day-of-week", 0, 7, DayNames, 0, CanDefineInterval: false);

    private static readonly Field[] FiveFields = [Minute, Hour, DayOfMonth, Month, DayOfWeek];
    private static readonly Field[] SixFields = [Second, Minute, Hour, DayOfMonth, Month, DayOfWeek];

    private static readonly Dictionary<string, string> Macros = new(StringComparer.OrdinalIgnoreCase)
    {
        ["@yearly"] = "0 0 1 1 *",
        ["@annually"] = "0 0 1 1 *",
        ["@monthly"] = "0 0 1 * *",
        ["@weekly"] = "0 0 * * 0",
        ["@daily"] = "0 0 * * *",
        ["@midnight"] = "0 0 * * *",
        ["@hourly"] = "0 * * * *",
        ["@every_minute"] = "* * * * *",
        ["@every_second"] = "* * * * * *",
    };

    /// <summary>A parsed expression.</summary>
    /// <param name="Canonical">The same schedule as NCrontab reads it: one list of numbers (or <c>*</c>) per field.</param>
    /// <param name="HasSeconds">Six fields, seconds first.</param>
    /// <param name="IsIntervalStyle">Cronos' interval flag: the second (six fields only), minute or hour field uses <c>*</c>, <c>?</c>, a range or a step.</param>
    internal sealed record Parsed(string Canonical, bool HasSeconds, bool IsIntervalStyle);

    private sealed record Field(string Name, int Min, int Max, string[]? Names, int FirstNameValue, bool CanDefineInterval);

    /// <summary>Parses <paramref name="expression"/>; on failure <paramref name="error"/> says what is wrong.</summary>
    internal static bool TryParse(string? expression, [NotNullWhen(true)] out Parsed? parsed, [NotNullWhen(false)] out string? error)
    {
        parsed = null;
        if (string.IsNullOrWhiteSpace(expression))
        {
            error = "The cron expression is empty.";
            return false;
        }

        var text = expression.Trim();
        if (text.StartsWith('@'))
        {
            if (!Macros.TryGetValue(text, out var expanded))
            {
                error = Invalid(expression, $"unknown macro '{text}'; use one of {string.Join(", ", Macros.Keys)}.");
                return false;
            }

            text = expanded;
        }

        var parts = text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length is not (5 or 6))
        {
            error = Invalid(expression, $"expected 5 fields (minute hour day-of-month month day-of-week) or 6 (second first), found {parts.Length}.");
            return false;
        }

        var fields = parts.Length == 5 ? FiveFields : SixFields;
        var canonical = new StringBuilder();
        var intervalStyle = false;
        for (var i = 0; i < parts.Length; i++)
        {
            if (!TryParseField(fields[i], parts[i], out var bits, out var usesInterval, out var problem))
            {
                error = Invalid(expression, problem);
                return false;
            }

            intervalStyle |= usesInterval && fields[i].CanDefineInterval;
            if (i > 0)
            {
                canonical.Append(' ');
            }

            AppendCanonical(canonical, fields[i], bits);
        }

        parsed = new Parsed(canonical.ToString(), parts.Length == 6, intervalStyle);
        error = null;
        return true;
    }

    private static string Invalid(string expression, string problem) =>
        $"Invalid cron expression '{TimeZones.Shorten(expression)}': {problem}";

    private static bool TryParseField(Field field, string text, out ulong bits, out bool usesInterval, out string problem)
    {
        bits = 0;
        usesInterval = false;
        problem = "";
        foreach (var item in text.Split(','))
        {
            if (item.Length == 0)
            {
                problem = $"the {field.Name} field '{text}' has an empty list item.";
                return false;
            }

            if (!TryParseItem(field, item, ref bits, ref usesInterval, out problem))
            {
                return false;
            }
        }

        return true;
    }

    private static bool TryParseItem(Field field, string item, ref ulong bits, ref bool usesInterval, out string problem)
    {
        var slash = item.IndexOf('/', StringComparison.Ordinal);
        var range = slash < 0 ? item : item[..slash];
        var step = 1;
        if (slash >= 0)
        {
            usesInterval = true;
            var stepText = item[(slash + 1)..];
            if (!int.TryParse(stepText, NumberStyles.None, CultureInfo.InvariantCulture, out step) || step < 1 || step > field.Max)
            {
                problem = $"{field.Name} step '{stepText}' in '{item}' must be a number from 1 to {field.Max}.";
                return false;
            }
        }

        int low, high;
        if (range is "*" or "?")
        {
            usesInterval = true;
            (low, high) = (field.Min, field.Max);
        }
        else
        {
            var dash = range.IndexOf('-', StringComparison.Ordinal);
            if (!TryParseValue(field, dash < 0 ? range : range[..dash], item, out low, out problem))
            {
                return false;
            }

            if (dash < 0)
            {
                // "5/15" means from 5 to the end, every 15.
                high = slash >= 0 ? field.Max : low;
            }
            else
            {
                usesInterval = true;
                if (!TryParseValue(field, range[(dash + 1)..], item, out high, out problem))
                {
                    return false;
                }
            }
        }

        bits |= Bits(field, low, high, step);
        problem = "";
        return true;
    }

    private static bool TryParseValue(Field field, string text, string item, out int value, out string problem)
    {
        problem = "";
        if (text.Length > 0 && char.IsAsciiDigit(text[0]))
        {
            var digits = text.TakeWhile(char.IsAsciiDigit).Count();
            if (digits == text.Length)
            {
                if (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out value) && value >= field.Min && value <= field.Max)
                {
                    return true;
                }

                problem = $"{field.Name} value {text} is out of range ({field.Min}-{field.Max}).";
                value = 0;
                return false;
            }

            if (IsUnsupportedSpecial(text[digits..]))
            {
                return Unsupported(item, out value, out problem);
            }
        }
        else if (text.Length > 0 && char.IsAsciiLetter(text[0]))
        {
            var index = field.Names is null ? -1 : Array.FindIndex(field.Names, n => string.Equals(n, text, StringComparison.OrdinalIgnoreCase));
            if (index >= 0)
            {
                value = index + field.FirstNameValue;
                return true;
            }

            if (IsUnsupportedSpecial(text))
            {
                return Unsupported(item, out value, out problem);
            }

            problem = field.Names is null
                ? $"'{item}' is not a valid {field.Name} value (a number from {field.Min} to {field.Max})."
                : $"'{text}' is not a {field.Name} name; use {field.Names[0]}-{field.Names[^1]} (three letters) or a number from {field.Min} to {field.Max}.";
            value = 0;
            return false;
        }
        else if (text.Contains('#', StringComparison.Ordinal))
        {
            return Unsupported(item, out value, out problem);
        }

        problem = text.Length == 0
            ? $"'{item}' in the {field.Name} field is missing a value."
            : $"'{item}' is not a valid {field.Name} value (a number from {field.Min} to {field.Max}" + (field.Names is null ? ")." : $" or {field.Names[0]}-{field.Names[^1]}).");
        value = 0;
        return false;
    }

    private static bool IsUnsupportedSpecial(string rest) =>
        rest.Contains('#', StringComparison.Ordinal) || rest.ToUpperInvariant() is "L" or "W" or "LW";

    private static bool Unsupported(string item, out int value, out string problem)
    {
        value = 0;
        problem = $"'{item}': L/W/# are not supported (last day, nearest weekday and nth weekday).";
        return false;
    }

    /// <summary>
    /// The values of low..high every step; a reversed range (22-2) wraps around the field
    /// (22,23,0,1,2). In the day-of-week field 7 is folded into 0 (Sunday).
    /// </summary>
    private static ulong Bits(Field field, int low, int high, int step)
    {
        var isDayOfWeek = field == DayOfWeek;
        ulong bits = 0;
        if (isDayOfWeek && low == 7 && high < 7)
        {
            low = 0;
        }

        if (low <= high)
        {
            for (var v = low; v <= high; v += step)
            {
                bits |= 1UL << v;
            }
        }
        else
        {
            var size = (isDayOfWeek ? 6 : field.Max) - field.Min + 1;
            var count = high - low + size + 1;
            for (var i = 0; i < count; i += step)
            {
                bits |= 1UL << (field.Min + ((low - field.Min + i) % size));
            }
        }

        return isDayOfWeek && (bits & (1UL << 7)) != 0 ? (bits & ~(1UL << 7)) | 1UL : bits;
    }

    private static void AppendCanonical(StringBuilder builder, Field field, ulong bits)
    {
        var last = field == DayOfWeek ? 6 : field.Max;
        var all = (ulong.MaxValue >> (63 - last)) & ~((1UL << field.Min) - 1);
        if (bits == all)
        {
            builder.Append('*');
            return;
        }

        var first = true;
        for (var v = field.Min; v <= last; v++)
        {
            if ((bits & (1UL << v)) != 0)
            {
                builder.Append(first ? "" : ",").Append(v.ToString(CultureInfo.InvariantCulture));
                first = false;
            }
        }
    }
}
