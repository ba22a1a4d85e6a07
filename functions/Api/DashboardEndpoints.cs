using Flow.Client;
using Flow.Engine;
using Flow.ControlPlane;
using Flow.Engine.Storage;
using Flow.Sdk;
using Microsoft.Extensions.Options;

namespace Flow.Functions.Api;

/// <summary>
/// The API the dashboard needs beyond the rest: a flow's parameter JSON Schema, a run's timeline in one request, and runs by
/// state in time buckets in one request. Plain API endpoints (key-protected like the rest), usable by any client.
/// </summary>
internal static class DashboardEndpoints
{
    /// <summary>The most runs one stats request counts.</summary>
    public const int StatsLimit = 20_000;

    public static void Map(WebApplication app)
    {
        var api = app.MapGroup("/api");
        api.MapGet("/flows/{name}/schema", (string name, FlowEngine engine) =>
            engine.Registry.TryGetFlow(name, out var flow)
                ? Results.Json(ParameterSchema.For(flow, engine.Registry.SerializerOptions), ApiJson.Options, "application/schema+json")
                : Problems.NotFound($"Flow '{name}' is not registered in this app."))
            .WithTags("Flows")
            .WithSummary("The JSON Schema (2020-12) of a flow's parameters, from its C# input type: required fields, enums, numbers, dates, nested records, descriptions.")
            .Produces(200, contentType: "application/schema+json").ProducesProblem(404);

        api.MapGet("/work-pools/status", PoolStatusAsync).WithTags("Work pools")
            .WithSummary("Every work pool with its load: slots in use (Running, Cancelling), queue depth (Pending and due Scheduled runs), runs paused; one request.")
            .Produces<PoolStatusView[]>();

        api.MapGet("/runs/{id}/timeline", async (string id, FlowEngine engine, TimeProvider time, IOptions<ControlPlaneOptions> control, CancellationToken ct) =>
        {
            var run = await ApiEndpoints.GetRunAsync(engine, id, ct);
            if (run is null)
            {
                return Problems.NotFound($"Run '{id}' does not exist.");
            }

            var journal = await engine.Store.LoadJournalAsync(run, ct);
            var stateName = Views.StateName(run, time.GetUtcNow(), control.Value.LateAfter);
            return Results.Json(RunTimeline.Build(run, journal.Events, stateName), ApiJson.Options);
        }).WithTags("Runs")
            .WithSummary("A run's timeline in one request: task runs with each attempt, retry waits, cache hits, subflows (child run ids), timers and event waits.")
            .Produces<RunTimelineView>().ProducesProblem(404).ProducesValidationProblem();

        api.MapGet("/runs/{id}/journal", async (string id, int? from, int? pageSize, FlowEngine engine, CancellationToken ct) =>
        {
            if (from is < 1)
            {
                return Problems.Field("from", "must be 1 or more (a journal index)");
            }

            if (pageSize is < 1 or > 1000)
            {
                return Problems.Field("pageSize", "must be 1-1000");
            }

            var run = await ApiEndpoints.GetRunAsync(engine, id, ct);
            if (run is null)
            {
                return Problems.NotFound($"Run '{id}' does not exist.");
            }

            var journal = await engine.Store.LoadJournalAsync(run, ct);
            return Results.Json(RunJournalViews.Page(run, journal, from ?? 1, pageSize ?? 500), ApiJson.Options);
        }).WithTags("Runs")
            .WithSummary("A run's journal (current attempt) as the engine recorded it, oldest first, paged by index (`from`, `pageSize` 1-1000, default 500); payloads over 4,096 characters are cut (`payloadLength` gives the whole length).")
            .Produces<RunJournalView>().ProducesProblem(404).ProducesValidationProblem();

        api.MapGet("/runs/stats", async (string? from, string? to, int? bucketMinutes, string? deployment, FlowEngine engine, TimeProvider time, IOptions<ControlPlaneOptions> control, CancellationToken ct) =>
        {
            var now = time.GetUtcNow();
            var errors = new Dictionary<string, string[]>();
            var end = ApiEndpoints.Time(to, "to", errors) ?? now;
            var start = ApiEndpoints.Time(from, "from", errors) ?? end.AddHours(-24);
            if (errors.Count == 0 && start >= end)
            {
                errors["from"] = ["must be before 'to'"];
            }

            var span = end - start;
            var bucket = TimeSpan.FromMinutes(bucketMinutes ?? (span <= TimeSpan.FromHours(24) ? 60 : span <= TimeSpan.FromDays(7) ? 360 : 1440));
            if (bucketMinutes is < 1 or > 10_080)
            {
                errors["bucketMinutes"] = ["must be 1-10080"];
            }
            else if (errors.Count == 0 && span / bucket > 500)
            {
                errors["bucketMinutes"] = [$"gives {(int)(span / bucket)} buckets; at most 500 (widen the bucket or narrow the window)"];
            }

            if (errors.Count > 0)
            {
                return Problems.Validation(errors);
            }

            var count = (int)Math.Ceiling(span / bucket);
            var buckets = Enumerable.Range(0, count).Select(_ => new Dictionary<string, int>(StringComparer.Ordinal)).ToArray();
            var totals = new Dictionary<string, int>(StringComparer.Ordinal);
            string? token = null;
            var seen = 0;
            do
            {
                var page = await engine.Store.ListRunsAsync(new RunQuery { Deployment = deployment, CreatedFrom = start, CreatedBefore = end, PageSize = 1000, ContinuationToken = token }, ct);
                foreach (var run in page.Runs)
                {
                    var index = (int)((run.CreatedAt - start) / bucket);
                    if (index < 0 || index >= count)
                    {
                        continue;
                    }

                    var state = Views.StateName(run, now, control.Value.LateAfter);
                    buckets[index][state] = buckets[index].GetValueOrDefault(state) + 1;
                    totals[state] = totals.GetValueOrDefault(state) + 1;
                    seen++;
                }

                token = page.ContinuationToken;
            }
            while (token is not null && seen < StatsLimit);

            return Results.Json(new RunStatsView
            {
                From = start,
                To = end,
                BucketSeconds = (int)bucket.TotalSeconds,
                Buckets = [.. buckets.Select((b, i) => new RunStatsBucket(start + (bucket * i), b))],
                Totals = totals,
                Truncated = token is not null,
            }, ApiJson.Options);
        }).WithTags("Runs")
            .WithSummary("Runs by state (Late included) in time buckets by creation time, for charts: one request. Defaults: the last 24 hours in hourly buckets.")
            .Produces<RunStatsView>().ProducesValidationProblem();
    }

    private static async Task<IResult> PoolStatusAsync(IControlStore control, FlowEngine engine, TimeProvider time, CancellationToken ct)
    {
        var pools = await control.ListWorkPoolsAsync(ct);
        var now = time.GetUtcNow();
        var counts = new Dictionary<(string Pool, string Kind), int>();
        foreach (var (state, kind) in new[] { (RunState.Running, "running"), (RunState.Cancelling, "running"), (RunState.Pending, "queued"), (RunState.Scheduled, "queued"), (RunState.Paused, "waiting"), (RunState.AwaitingRetry, "waiting") })
        {
            string? token = null;
            var seen = 0;
            do
            {
                var page = await engine.Store.ListRunsAsync(new RunQuery { State = state, PageSize = 1000, ContinuationToken = token }, ct);
                foreach (var run in page.Runs.Where(r => state != RunState.Scheduled || r.ScheduledAt <= now))
                {
                    counts[(run.Pool, kind)] = counts.GetValueOrDefault((run.Pool, kind)) + 1;
                }

                seen += page.Runs.Count;
                token = page.ContinuationToken;
            }
            while (token is not null && seen < StatsLimit);
        }

        return Results.Json(pools.Select(p => new PoolStatusView
        {
            Name = p.Record.Name,
            Type = p.Record.Type,
            Description = p.Record.Description,
            ConcurrencyLimit = p.Record.ConcurrencyLimit,
            Paused = p.Record.Paused,
            Running = counts.GetValueOrDefault((p.Record.Name, "running")),
            Queued = counts.GetValueOrDefault((p.Record.Name, "queued")),
            Waiting = counts.GetValueOrDefault((p.Record.Name, "waiting")),
        }), ApiJson.Options);
    }
}
