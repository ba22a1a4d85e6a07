using System.Globalization;
using System.Text.Json;
using Spectre.Console;

namespace Flow.Cli;

/// <summary>How the CLI prints runs: an 80-column list, one run with its state history and task runs, states in colour on a terminal.</summary>
internal static class RunOutput
{
    /// <summary>The width <c>flow run ls</c> stays within.</summary>
    public const int Width = 80;

    private const int StateWidth = 10;
    private const int WhenWidth = 8;
    private const int DurationWidth = 8;

    /// <summary>Prints runs one a line: short id, deployment (or flow), state, when it started (or is scheduled), how long it took.</summary>
    public static void PrintList(IReadOnlyList<JsonElement> runs, DateTimeOffset now)
    {
        var ids = RunIds.Shorten(runs.Select(r => r.GetProperty("id").GetString()!).ToArray());
        var idWidth = Math.Max(RunIds.MinimumShown, ids.Values.Select(s => s.Length).DefaultIfEmpty(0).Max());
        var nameWidth = Math.Max(10, Width - 1 - idWidth - StateWidth - WhenWidth - DurationWidth - 8);
        AnsiConsole.MarkupLine(Markup.Escape(Row("RUN", idWidth, "DEPLOYMENT", nameWidth, "STATE", "STARTED", "DURATION")));
        foreach (var r in runs)
        {
            var name = Text(r, "deployment") is { Length: > 0 } d ? d : Text(r, "flow");
            var state = r.GetProperty("stateName").GetString()!;
            var started = Time(r, "startedAt");
            var ended = Time(r, "endedAt");
            var when = Relative((started ?? Time(r, "scheduledAt") ?? now) - now);
            var duration = started is { } s ? Duration((ended ?? now) - s) : string.Empty;
            var line = Row(ids[r.GetProperty("id").GetString()!], idWidth, Fit(name, nameWidth), nameWidth, state, when, duration);
            var at = line.IndexOf(state, idWidth + nameWidth + 4, StringComparison.Ordinal);
            AnsiConsole.MarkupLine(Markup.Escape(line[..at]) + StateMarkup(state) + Markup.Escape(line[(at + state.Length)..]));
        }
    }

    /// <summary>Prints one run: its state and message, the state history with times, the task runs with timings, the result or failure.</summary>
    public static void PrintRun(JsonElement r)
    {
        var deployment = Text(r, "deployment");
        AnsiConsole.MarkupLineInterpolated($"[bold]{r.GetProperty("id").GetString()}[/] {r.GetProperty("flow").GetString()}{(deployment.Length > 0 ? $" ({deployment})" : string.Empty)}");
        var stateName = r.GetProperty("stateName").GetString()!;
        var stateMessage = StateMessage(r);
        AnsiConsole.MarkupLine($"state: {StateMarkup(stateName)}{(stateMessage.Length > 0 && stateMessage != stateName ? " — " + Markup.Escape(stateMessage) : string.Empty)}");
        var origin = Time(r, "createdAt");
        if (r.TryGetProperty("history", out var history) && history.ValueKind == JsonValueKind.Array && history.GetArrayLength() > 0)
        {
            AnsiConsole.MarkupLine("state history:");
            foreach (var h in history.EnumerateArray())
            {
                var at = h.GetProperty("timestamp").GetDateTimeOffset();
                var offset = origin is { } o ? "+" + Duration(at - o) : string.Empty;
                var to = Text(h, "to");
                var message = Text(h, "message") is var m && m != to ? (m.StartsWith(to + ": ", StringComparison.Ordinal) ? m[(to.Length + 2)..] : m) : string.Empty;
                AnsiConsole.MarkupLine($"  {at.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss.fff", CultureInfo.InvariantCulture)}Z {Markup.Escape(offset),8}  {StateMarkup(to)}{(message.Length > 0 ? "  " + Markup.Escape(message) : string.Empty)}");
            }
        }

        if (r.TryGetProperty("taskRuns", out var tasks) && tasks.ValueKind == JsonValueKind.Array && tasks.GetArrayLength() > 0)
        {
            var table = new Table().AddColumns("task", "state", "attempts", "started", "duration");
            foreach (var t in tasks.EnumerateArray())
            {
                var started = Time(t, "startedAt");
                table.AddRow(
                    Markup.Escape(t.GetProperty("name").GetString()!),
                    StateMarkup(t.GetProperty("state").GetString()!),
                    t.GetProperty("attempts").GetInt32().ToString(CultureInfo.InvariantCulture),
                    started is { } s && origin is { } o ? "+" + Duration(s - o) : string.Empty,
                    t.TryGetProperty("durationMs", out var ms) && ms.ValueKind == JsonValueKind.Number ? Duration(TimeSpan.FromMilliseconds(ms.GetDouble())) : string.Empty);
            }

            AnsiConsole.Write(table);
        }

        if (r.TryGetProperty("result", out var result))
        {
            AnsiConsole.MarkupLineInterpolated($"result: {result.GetRawText()}");
        }

        if (r.TryGetProperty("failure", out var failure))
        {
            AnsiConsole.MarkupLineInterpolated($"[red]failure[/]: {Text(failure, "type")}: {Text(failure, "message")}");
        }
    }

    /// <summary>A state in colour (markup).</summary>
    public static string StateMarkup(string state) => state switch
    {
        "Completed" or "Cached" => "[green]" + state + "[/]",
        "Failed" or "Crashed" => "[red]" + state + "[/]",
        "Running" or "Pending" => "[blue]" + state + "[/]",
        "Late" or "Cancelling" or "Cancelled" => "[yellow]" + state + "[/]",
        _ => Markup.Escape(state),
    };

    /// <summary>A time relative to now: "12s ago", "5m ago", "3h ago", "2d ago", or "in 5m" for the future.</summary>
    public static string Relative(TimeSpan fromNow)
    {
        var span = fromNow.Duration();
        var text = span.TotalSeconds < 60 ? $"{(int)span.TotalSeconds}s"
            : span.TotalMinutes < 60 ? $"{(int)span.TotalMinutes}m"
            : span.TotalHours < 48 ? $"{(int)span.TotalHours}h"
            : $"{(int)span.TotalDays}d";
        return fromNow > TimeSpan.FromSeconds(1) ? "in " + text : text + " ago";
    }

    /// <summary>A duration, short: "850ms", "12.3s", "4m05s", "2h10m".</summary>
    public static string Duration(TimeSpan span) =>
        span < TimeSpan.Zero ? "0ms"
        : span.TotalSeconds < 1 ? string.Create(CultureInfo.InvariantCulture, $"{(int)span.TotalMilliseconds}ms")
        : span.TotalMinutes < 1 ? string.Create(CultureInfo.InvariantCulture, $"{span.TotalSeconds:0.0}s")
        : span.TotalHours < 1 ? string.Create(CultureInfo.InvariantCulture, $"{(int)span.TotalMinutes}m{span.Seconds:00}s")
        : string.Create(CultureInfo.InvariantCulture, $"{(int)span.TotalHours}h{span.Minutes:00}m");

    /// <summary>A run's state message without a leading "State: " that repeats the state printed beside it ("Failed: Failed: boom").</summary>
    public static string StateMessage(JsonElement run)
    {
        var message = Text(run, "stateMessage");
        foreach (var state in new[] { Text(run, "state"), Text(run, "stateName") })
        {
            if (state.Length > 0 && message.StartsWith(state + ": ", StringComparison.OrdinalIgnoreCase))
            {
                return message[(state.Length + 2)..];
            }
        }

        return message;
    }

    /// <summary>A property as text: a string as is, another value as JSON, missing or null as empty.</summary>
    public static string Text(JsonElement element, string property) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(property, out var value) && value.ValueKind != JsonValueKind.Null
            ? value.ValueKind == JsonValueKind.String ? value.GetString()! : value.GetRawText()
            : string.Empty;

    private static DateTimeOffset? Time(JsonElement element, string property) =>
        element.TryGetProperty(property, out var value) && value.ValueKind == JsonValueKind.String && value.TryGetDateTimeOffset(out var t) ? t : null;

    private static string Fit(string text, int width) => text.Length <= width ? text : text[..(width - 1)] + "…";

    private static string Row(string id, int idWidth, string name, int nameWidth, string state, string when, string duration) =>
        $"{id.PadRight(idWidth)}  {name.PadRight(nameWidth)}  {state.PadRight(StateWidth)}  {when,WhenWidth}  {duration,DurationWidth}".TrimEnd();
}
