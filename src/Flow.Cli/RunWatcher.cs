using System.Globalization;
using System.Text.Json;
using Spectre.Console;

namespace Flow.Cli;

/// <summary><c>--watch</c>: polls a run and its log until the run ends, printing each state change and each new log line as it appears.</summary>
internal sealed class RunWatcher(ApiClient api, string runId, bool json)
{
    private static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(500);
    private const int LogPageSize = 1000;

    // The log is read from the page the last read ended in; lines of it already printed are skipped.
    private string? _logToken;
    private int _printedInPage;
    private string? _lastState;

    /// <summary>Whether a state is one a run does not leave.</summary>
    public static bool IsFinal(string state) => state is "Completed" or "Cached" or "Failed" or "Crashed" or "Cancelled";

    /// <summary>Streams the run until it ends; returns its final view.</summary>
    public async Task<JsonElement> WatchAsync(CancellationToken ct)
    {
        while (true)
        {
            var run = await api.GetAsync("runs/" + Uri.EscapeDataString(runId), ct).ConfigureAwait(false);
            var state = run.GetProperty("stateName").GetString()!;
            if (!json && state != _lastState && !IsFinal(state))
            {
                AnsiConsole.MarkupLine($"{Clock(DateTimeOffset.UtcNow)} state {RunOutput.StateMarkup(state)}{(RunOutput.StateMessage(run) is { Length: > 0 } m ? " " + Markup.Escape(m) : string.Empty)}");
            }

            _lastState = state;
            await PrintNewLogLinesAsync(ct).ConfigureAwait(false);
            if (IsFinal(run.GetProperty("state").GetString()!))
            {
                return run;
            }

            await Task.Delay(Interval, ct).ConfigureAwait(false);
        }
    }

    private async Task PrintNewLogLinesAsync(CancellationToken ct)
    {
        while (true)
        {
            var page = await api.GetAsync($"runs/{Uri.EscapeDataString(runId)}/logs?pageSize={LogPageSize.ToString(CultureInfo.InvariantCulture)}" + (_logToken is null ? string.Empty : "&continuationToken=" + Uri.EscapeDataString(_logToken)), ct).ConfigureAwait(false);
            var lines = page.GetProperty("lines").EnumerateArray().ToArray();
            foreach (var line in lines.Skip(_printedInPage))
            {
                if (json)
                {
                    Console.WriteLine(line.GetRawText());
                }
                else
                {
                    Console.WriteLine($"{Clock(line.GetProperty("timestamp").GetDateTimeOffset())} {line.GetProperty("level").GetString(),-11} {line.GetProperty("message").GetString()}");
                }
            }

            var next = page.TryGetProperty("continuationToken", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString() : null;
            if (next is null)
            {
                _printedInPage = Math.Max(_printedInPage, lines.Length);
                return;
            }

            _logToken = next;
            _printedInPage = 0;
        }
    }

    private static string Clock(DateTimeOffset time) => time.UtcDateTime.ToString("HH:mm:ss", CultureInfo.InvariantCulture);
}
