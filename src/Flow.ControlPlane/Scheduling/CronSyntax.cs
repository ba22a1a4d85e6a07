using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Text.RegularExpressions;
using Cronos;

namespace Flow.ControlPlane.Scheduling;

/// <summary>
/// Checks a cron expression field by field before Cronos parses it, so that an error names the field
/// and the value in plain words (Cronos' own messages are terser); works out the interval flag that
/// drives the daylight-saving rules; and hands the expression (macros expanded, <c>?</c> as <c>*</c>)
/// to <see cref="CronExpression.Parse(string, CronFormat)"/>. Cronos' specials <c>L</c>, <c>W</c> and
/// <c>#</c> are recognised here and checked by Cronos; <c>H</c> is not supported.
/// </summary>
internal static partial class CronSyntax
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
    /// <param name="Expression">The expression as Cronos parsed it.</param>
    /// <param name="HasSeconds">Six fields, seconds first.</param>
    /// <param name="IsIntervalStyle">Cronos' interval flag: the second (six fields only), minute or hour field uses <c>*</c>, <c>?</c>, a range or a step.</param>
    internal sealed record Parsed(CronExpression Expression, bool HasSeconds, bool IsIntervalStyle);

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
        var intervalStyle = false;
        for (var i = 0; i < parts.Length; i++)
        {
            if (IsSpecial(fields[i], parts[i], out var problem))
            {
                if (problem is not null)
                {
                    error = Invalid(expression, problem);
                    return false;
                }

                continue;
            }

            if (!TryParseField(fields[i], parts[i], out var usesInterval, out problem))
            {
                error = Invalid(expression, problem);
                return false;
            }

            intervalStyle |= usesInterval && fields[i].CanDefineInterval;
        }

        var cronosText = string.Join(' ', parts.Select(p => p == "?" ? "*" : p));
        try
        {
            var cron = CronExpression.Parse(cronosText, parts.Length == 6 ? CronFormat.IncludeSeconds : CronFormat.Standard);
            parsed = new Parsed(cron, parts.Length == 6, intervalStyle);
        }
        catch (CronFormatException e)
        {
            // Only the specials reach here (everything else was checked above): Cronos names the field.
            error = Invalid(expression, e.Message.Replace("The given cron expression has an invalid format. ", "", StringComparison.Ordinal));
            return false;
        }

        error = null;
        return true;
    }

    /// <summary>
    /// Whether the field uses one of Cronos' specials (<c>L</c>, <c>L-n</c>, <c>nW</c>, <c>LW</c> in
    /// day-of-month; <c>nL</c>, <c>n#k</c> in day-of-week), left to Cronos to check. A special inside a
    /// list is refused here with <paramref name="problem"/>, since Cronos only takes it alone.
    /// </summary>
    private static bool IsSpecial(Field field, string text, out string? problem)
    {
        problem = null;
        var pattern = field == DayOfMonth ? DayOfMonthSpecial() : field == DayOfWeek ? DayOfWeekSpecial() : null;
        if (pattern is null)
        {
            return false;
        }

        var items = text.Split(',');
        var special = items.FirstOrDefault(item => pattern.IsMatch(item));
        if (special is null)
        {
            return false;
        }

        if (items.Length > 1)
        {
            problem = $"'{special}' in the {field.Name} field '{text}': L, W and # must stand alone in their field, not in a list.";
        }

        return true;
    }

    [GeneratedRegex("^(L(-[0-9]+)?|LW|[0-9]+W)$", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex DayOfMonthSpecial();

    [GeneratedRegex("^([0-9]+|[A-Z]{3})(L|#[0-9]+)$", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex DayOfWeekSpecial();

    private static string Invalid(string expression, string problem) =>
        $"Invalid cron expression '{TimeZones.Shorten(expression)}': {problem}";

    private static bool TryParseField(Field field, string text, out bool usesInterval, out string problem)
    {
        usesInterval = false;
        problem = "";
        foreach (var item in text.Split(','))
        {
            if (item.Length == 0)
            {
                problem = $"the {field.Name} field '{text}' has an empty list item.";
                return false;
            }

            if (!TryParseItem(field, item, ref usesInterval, out problem))
            {
                return false;
            }
        }

        return true;
    }

    private static bool TryParseItem(Field field, string item, ref bool usesInterval, out string problem)
    {
        var slash = item.IndexOf('/', StringComparison.Ordinal);
        var range = slash < 0 ? item : item[..slash];
        if (slash >= 0)
        {
            usesInterval = true;
            var stepText = item[(slash + 1)..];
            if (!int.TryParse(stepText, NumberStyles.None, CultureInfo.InvariantCulture, out var step) || step < 1 || step > field.Max)
            {
                problem = $"{field.Name} step '{stepText}' in '{item}' must be a number from 1 to {field.Max}.";
                return false;
            }
        }

        if (range is "*" or "?")
        {
            usesInterval = true;
        }
        else
        {
            var dash = range.IndexOf('-', StringComparison.Ordinal);
            if (!TryParseValue(field, dash < 0 ? range : range[..dash], item, out _, out problem))
            {
                return false;
            }

            if (dash >= 0)
            {
                usesInterval = true;
                if (!TryParseValue(field, range[(dash + 1)..], item, out _, out problem))
                {
                    return false;
                }
            }
        }

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

        }
        else if (text.Length > 0 && char.IsAsciiLetter(text[0]))
        {
            var index = field.Names is null ? -1 : Array.FindIndex(field.Names, n => string.Equals(n, text, StringComparison.OrdinalIgnoreCase));
            if (index >= 0)
            {
                value = index + field.FirstNameValue;
                return true;
            }

            problem = field.Names is null
                ? $"'{item}' is not a valid {field.Name} value (a number from {field.Min} to {field.Max})."
                : $"'{text}' is not a {field.Name} name; use {field.Names[0]}-{field.Names[^1]} (three letters) or a number from {field.Min} to {field.Max}.";
            value = 0;
            return false;
        }

        problem = text.Length == 0
            ? $"'{item}' in the {field.Name} field is missing a value."
            : $"'{item}' is not a valid {field.Name} value (a number from {field.Min} to {field.Max}" + (field.Names is null ? ")." : $" or {field.Names[0]}-{field.Names[^1]}).");
        value = 0;
        return false;
    }
}
