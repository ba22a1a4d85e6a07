using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Flow.Client;

namespace Flow.Cli;

/// <summary><c>flow event ls [--kind K] [--resource R] [--limit N] [--follow]</c>: events from <c>GET /api/events</c>, one line each, oldest first.</summary>
internal static class EventCommand
{
    /// <summary>How often <c>--follow</c> asks for new events.</summary>
    private static readonly TimeSpan PollInterval = TimeSpan.FromSeconds(2);

    /// <summary>How far back <c>--follow</c> looks again, for events stored after later ones (an outbox relayed a little later).</summary>
    private static readonly TimeSpan Lookback = TimeSpan.FromMinutes(1);

    public static Command Create()
    {
        var command = new Command("event", "Events: run state changes and events other systems sent.") { ApiCommands.Api, ApiCommands.ApiKey, ApiCommands.Json };
        var kind = new Option<string?>("--kind") { Description = "Only events whose kind starts with this (e.g. flow-run.Failed)." };
        var resource = new Option<string?>("--resource") { Description = "Only events about or related to this resource (e.g. deployment/etl/daily, flow-run/RUN_ID)." };
        var limit = new Option<int>("--limit") { Description = "How many of the newest to show first (1-500).", DefaultValueFactory = _ => 20 };
        var follow = new Option<bool>("--follow", "-f") { Description = "Keep printing new events as they arrive (polls every 2 s; Ctrl+C stops)." };
        var ls = new Command("ls", "List events, one line each (oldest of the page first).") { kind, resource, limit, follow };
        ls.SetAction((p, ct) => ApiCommands.RunAsync(p, ct, async (api, json) =>
        {
            var filter = new EventFilter { Kind = p.GetValue(kind), Resource = p.GetValue(resource), PageSize = Math.Clamp(p.GetValue(limit), 1, 500) };
            var page = await api.ListEventsAsync(filter, ct).ConfigureAwait(false);
            var seen = new Dictionary<string, DateTimeOffset>(StringComparer.Ordinal);
            Print(page.Events, seen, json);
            if (!p.GetValue(follow))
            {
                return null;
            }

            using var timer = new PeriodicTimer(PollInterval);
            try
            {
                while (await timer.WaitForNextTickAsync(ct).ConfigureAwait(false))
                {
                    var newest = seen.Count == 0 ? DateTimeOffset.UtcNow - Lookback : seen.Values.Max() - Lookback;
                    var fresh = new List<EventView>();
                    var next = filter with { Since = newest, PageSize = 500, ContinuationToken = null };
                    do
                    {
                        var more = await api.ListEventsAsync(next, ct).ConfigureAwait(false);
                        fresh.AddRange(more.Events);
                        next = next with { ContinuationToken = more.ContinuationToken };
                    }
                    while (next.ContinuationToken is not null);
                    Print(fresh, seen, json);
                    foreach (var old in seen.Where(s => s.Value < newest).Select(s => s.Key).ToList())
                    {
                        seen.Remove(old);
                    }
                }
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
            }

            return null;
        }));
        command.Subcommands.Add(ls);
        return command;
    }

    /// <summary>Prints the events not printed yet, oldest first.</summary>
    private static void Print(IReadOnlyList<EventView> newestFirst, Dictionary<string, DateTimeOffset> seen, bool json)
    {
        for (var i = newestFirst.Count - 1; i >= 0; i--)
        {
            var e = newestFirst[i];
            if (!seen.TryAdd(e.Id, e.OccurredAt))
            {
                continue;
            }

            Console.WriteLine(json ? JsonSerializer.Serialize(e, FlowJson.Options) : Line(e));
        }
    }

    /// <summary>One line: time, kind, resource and the payload's message (if any).</summary>
    internal static string Line(EventView e)
    {
        var message = e.Payload is { ValueKind: JsonValueKind.Object } payload && payload.TryGetProperty("message", out var m) && m.ValueKind == JsonValueKind.String
            ? " " + m.GetString()
            : string.Empty;
        return string.Create(CultureInfo.InvariantCulture, $"{e.OccurredAt.UtcDateTime:yyyy-MM-dd'T'HH:mm:ss.fff'Z'} {e.Kind,-24} {e.Resource.Id}{message}");
    }
}
