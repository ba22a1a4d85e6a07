using System.Globalization;
using System.Text.Json;
using Flow.Client;
using Flow.Sdk;
using Spectre.Console;

namespace Flow.Cli;

/// <summary><c>--watch</c>: polls a run and its log until the run ends, printing each state change and each new log line as it appears.</summary>
internal sealed class RunWatcher(FlowClient api, string runId, bool json)
{
    private static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(500);
    private const int LogPageSize = 1000;

    // The log is read from the page the last read ended in; lines of it already printed are skipped.
    private string? _logToken;
    private int _printedInPage;
    private string? _lastState;

    /// <summary>Streams the run until it ends; returns its final view.</summary>
    public async Task<RunView> WatchAsync(CancellationToken ct)
    {
        while (true)
        {
            var run = await api.GetRunAsync(runId, ct).ConfigureAwait(false);
            var state = run.StateName;
            if (!json && state != _lastState && !run.State.IsFinal())
            {
                AnsiConsole.MarkupLine($"{Clock(DateTimeOffset.UtcNow)} state {RunOutput.StateMarkup(state)}{(RunOutput.StateMessage(run) is { Length: > 0 } m ? " " + Markup.Escape(m) : string.Empty)}");
            }

            _lastState = state;
            await PrintNewLogLinesAsync(ct).ConfigureAwait(false);
            if (run.State.IsFinal())
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
            var page = await api.GetRunLogsAsync(runId, LogPageSize, _logToken, ct).ConfigureAwait(false);
            foreach (var line in page.Lines.Skip(_printedInPage))
            {
                if (json)
                {
                    Console.WriteLine(JsonSerializer.Serialize(line, FlowJson.Options));
                }
                else
                {
                    Console.WriteLine($"{Clock(line.Timestamp)} {line.Level,-11} {line.Message}");
                }
            }

            var next = page.ContinuationToken;
            if (next is null)
            {
                _printedInPage = Math.Max(_printedInPage, page.Lines.Count);
                return;
            }

            _logToken = next;
            _printedInPage = 0;
        }
    }

    private static string Clock(DateTimeOffset time) => time.UtcDateTime.ToString("HH:mm:ss", CultureInfo.InvariantCulture);
}
