using System.Globalization;
using Flow.Client;
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
    public static void PrintList(IReadOnlyList<RunView> runs, DateTimeOffset now)
    {
        var ids = RunIds.Shorten(runs.Select(r => r.Id).ToArray());
        var idWidth = Math.Max(RunIds.MinimumShown, ids.Values.Select(s => s.Length).DefaultIfEmpty(0).Max());
        var nameWidth = Math.Max(10, Width - 1 - idWidth - StateWidth - WhenWidth - DurationWidth - 8);
        AnsiConsole.MarkupLine(Markup.Escape(Row("RUN", idWidth, "DEPLOYMENT", nameWidth, "STATE", "STARTED", "DURATION")));
        foreach (var r in runs)
        {
            var name = r.Deployment is { Length: > 0 } d ? d : r.Flow;
            var state = r.StateName;
            var started = r.StartedAt;
            var when = Relative((started ?? r.ScheduledAt) - now);
            var duration = started is { } s ? Duration((r.EndedAt ?? now) - s) : string.Empty;
            var line = Row(ids[r.Id], idWidth, Fit(name, nameWidth), nameWidth, state, when, duration);
            var at = line.IndexOf(state, idWidth + nameWidth + 4, StringComparison.Ordinal);
            AnsiConsole.MarkupLine(Markup.Escape(line[..at]) + StateMarkup(state) + Markup.Escape(line[(at + state.Length)..]));
        }
    }

    /// <summary>Prints one run: its state and message, the state history with times, the task runs with timings, the result or failure.</summary>
    public static void PrintRun(RunView r)
    {
        var deployment = r.Deployment ?? string.Empty;
        AnsiConsole.MarkupLineInterpolated($"[bold]{r.Id}[/] {r.Flow}{(deployment.Length > 0 ? $" ({deployment})" : string.Empty)}");
        var stateName = r.StateName;
        var stateMessage = StateMessage(r);
        AnsiConsole.MarkupLine($"state: {StateMarkup(stateName)}{(stateMessage.Length > 0 && stateMessage != stateName ? " — " + Markup.Escape(stateMessage) : string.Empty)}");
        DateTimeOffset? origin = r.CreatedAt;
        if (r.History is { Count: > 0 } history)
        {
            AnsiConsole.MarkupLine("state history:");
            foreach (var h in history)
            {
                var at = h.Timestamp;
                var offset = origin is { } o ? "+" + Duration(at - o) : string.Empty;
                var to = h.To.ToString();
                var message = (h.Message ?? string.Empty) is var m && m != to ? (m.StartsWith(to + ": ", StringComparison.Ordinal) ? m[(to.Length + 2)..] : m) : string.Empty;
                AnsiConsole.MarkupLine($"  {at.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss.fff", CultureInfo.InvariantCulture)}Z {Markup.Escape(offset),8}  {StateMarkup(to)}{(message.Length > 0 ? "  " + Markup.Escape(message) : string.Empty)}");
            }
        }

        if (r.TaskRuns is { Count: > 0 } tasks)
        {
            var table = new Table().AddColumns("task", "state", "attempts", "started", "duration");
            foreach (var t in tasks)
            {
                var started = t.StartedAt;
                table.AddRow(
                    Markup.Escape(t.Name),
                    StateMarkup(t.State),
                    t.Attempts.ToString(CultureInfo.InvariantCulture),
                    started is { } s && origin is { } o ? "+" + Duration(s - o) : string.Empty,
                    t.DurationMs is { } ms ? Duration(TimeSpan.FromMilliseconds(ms)) : string.Empty);
            }

            AnsiConsole.Write(table);
        }

        if (r.Result is { } result)
        {
            AnsiConsole.MarkupLineInterpolated($"result: {result.GetRawText()}");
        }

        if (r.Failure is { } failure)
        {
            AnsiConsole.MarkupLineInterpolated($"[red]failure[/]: {failure.Type}: {failure.Message}");
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
    public static string StateMessage(RunView run)
    {
        var message = run.StateMessage ?? string.Empty;
        foreach (var state in new[] { run.State.ToString(), run.StateName })
        {
            if (state.Length > 0 && message.StartsWith(state + ": ", StringComparison.OrdinalIgnoreCase))
            {
                return message[(state.Length + 2)..];
            }
        }

        return message;
    }

    private static string Fit(string text, int width) => text.Length <= width ? text : text[..(width - 1)] + "…";

    private static string Row(string id, int idWidth, string name, int nameWidth, string state, string when, string duration) =>
        $"{id.PadRight(idWidth)}  {name.PadRight(nameWidth)}  {state.PadRight(StateWidth)}  {when,WhenWidth}  {duration,DurationWidth}".TrimEnd();
}
