using System.Globalization;
using System.Text.Json;
using Flow.Client;
using Flow.Engine;
using Flow.ControlPlane;
using Flow.ControlPlane.Automations;
using Flow.Engine.Runs;
using Flow.Engine.Storage;
using Flow.Sdk;
using Microsoft.Extensions.Options;

namespace Flow.Functions.Api;

/// <summary>The HTTP API under <c>/api</c>: deployments, work pools, runs, logs, artifacts, events, run requests.</summary>
internal static class ApiEndpoints
{
    public static void Map(WebApplication app)
    {
        var api = app.MapGroup("/api");
        MapDeployments(api.MapGroup("/deployments").WithTags("Deployments"));
        MapPools(api.MapGroup("/work-pools").WithTags("Work pools"));
        var runs = api.MapGroup("/runs").WithTags("Runs");
        MapRuns(runs);
        RunPurgeEndpoints.Map(runs);
        AutomationEndpoints.Map(api.MapGroup("/automations").WithTags("Automations"));
        api.MapGet("/flows", (FlowEngine engine) => Results.Json(
            engine.Registry.Flows.OrderBy(f => f.Name, StringComparer.Ordinal).Select(f => new FlowInfoView { Name = f.Name, Input = f.InputType.Name, Output = f.OutputType.Name }), ApiJson.Options))
            .Produces<FlowInfoView[]>().WithTags("Flows").WithSummary("The flows registered in this app.");
        api.MapGet("/run-requests/rejected", async (IControlStore store, int? count, CancellationToken ct) =>
        {
            if (count is < 1 or > 1000)
            {
                return Problems.Field("count", "must be 1-1000");
            }

            return Results.Json((await store.ListRejectedRequestsAsync(count ?? 100, ct)).Select(Views.Rejected), ApiJson.Options);
        }).Produces<RejectedRunRequestView[]>().ProducesValidationProblem().WithTags("Run requests").WithSummary("Run requests from the flow-run-requests queue that were refused, newest first, with the reason.");
    }

    private static void MapDeployments(RouteGroupBuilder group)
    {
        group.MapGet("/", async (DeploymentService service, CancellationToken ct) =>
            Results.Json((await service.ListAsync(ct)).Select(d => Views.Deployment(d, service)), ApiJson.Options))
            .Produces<DeploymentView[]>().WithSummary("Lists deployments.");

        group.MapPost("/apply", async (HttpRequest request, DeploymentService service, AutomationService automations, IOptions<FlowAppOptions> options, CancellationToken ct) =>
        {
            var (text, error) = await Problems.ReadTextAsync(request, options.Value.MaxRequestBodyBytes, ct);
            if (error is not null)
            {
                return error;
            }

            var content = DeploymentFile.Parse(text ?? string.Empty, yaml: true);
            var (results, _) = await DeploymentFile.ApplyWithAutomationsAsync(service, automations, content, "api", ct);
            foreach (var result in results)
            {
                await ScheduleNowAsync(request, result, ct);
            }

            return Results.Json(results.Select(r => Views.Applied(r, service)), ApiJson.Options);
        }).Produces<ApplyResultView[]>().ProducesValidationProblem().WithSummary("Applies a deployments file (YAML or JSON, the format of flow.yaml): work pools, deployments and automations. Idempotent: unchanged ones are not written. Answers the deployments' results (GET /api/automations shows the automations).");

        group.MapPut("/{flow}/{name}", async (string flow, string name, HttpRequest request, DeploymentService service, CancellationToken ct) =>
        {
            var (spec, error) = await Problems.ReadJsonAsync<DeploymentSpec>(request, required: true, ct);
            if (error is not null)
            {
                return error;
            }

            if ((spec!.Flow is not null && spec.Flow != flow) || (spec.Name is not null && spec.Name != name))
            {
                return Problems.Field(spec.Flow is not null && spec.Flow != flow ? "flow" : "name", "differs from the URL; leave it out or make it match");
            }

            var result = await service.ApplyAsync(spec with { Flow = flow, Name = name }, "api", ct);
            await ScheduleNowAsync(request, result, ct);
            var view = Views.Deployment(result.Deployment, service);
            return result.Outcome == "created"
                ? Results.Json(view, ApiJson.Options, statusCode: 201)
                : Results.Json(view, ApiJson.Options);
        }).Accepts<DeploymentRequest>("application/json")
            .Produces<DeploymentView>().Produces<DeploymentView>(201).ProducesValidationProblem().WithSummary("Creates or updates a deployment (idempotent).");

        group.MapGet("/{flow}/{name}", async (string flow, string name, DeploymentService service, CancellationToken ct) =>
            Results.Json(Views.Deployment(await service.GetAsync(ControlNames.Deployment(flow, name), ct), service), ApiJson.Options))
            .Produces<DeploymentView>().ProducesProblem(404).WithSummary("Reads a deployment.");

        group.MapDelete("/{flow}/{name}", async (string flow, string name, DeploymentService service, CancellationToken ct) =>
        {
            await service.DeleteAsync(ControlNames.Deployment(flow, name), ct);
            return Results.NoContent();
        }).WithSummary("Deletes a deployment (its runs stay).");

        group.MapPost("/{flow}/{name}/pause", async (string flow, string name, DeploymentService service, CancellationToken ct) =>
            Results.Json(Views.Deployment(await service.SetPausedAsync(ControlNames.Deployment(flow, name), true, ct), service), ApiJson.Options))
            .Produces<DeploymentView>().ProducesProblem(404).WithSummary("Pauses a deployment: its schedules stop creating runs.");

        group.MapPost("/{flow}/{name}/resume", async (string flow, string name, HttpRequest request, DeploymentService service, CancellationToken ct) =>
        {
            var deployment = await service.SetPausedAsync(ControlNames.Deployment(flow, name), false, ct);
            await ScheduleNowAsync(request, new ApplyResult(deployment.Name, "updated", deployment), ct);
            return Results.Json(Views.Deployment(deployment, service), ApiJson.Options);
        }).Produces<DeploymentView>().ProducesProblem(404).WithSummary("Resumes a paused deployment.");

        group.MapPost("/{flow}/{name}/runs", async (string flow, string name, HttpRequest request, DeploymentService service, CancellationToken ct) =>
        {
            var (trigger, error) = await Problems.ReadJsonAsync<TriggerRequest>(request, required: false, ct);
            if (error is not null)
            {
                return error;
            }

            var result = await service.TriggerAsync(ControlNames.Deployment(flow, name), trigger ?? new TriggerRequest(), ct);
            var links = RunLinks.For(result.Run.RunId);
            return Results.Json(new TriggerResponse(result.Run.RunId, result.Run.State, result.Created, links.Self, links.Cancel), ApiJson.Options, statusCode: 202);
        }).Produces<TriggerResponse>(202).ProducesValidationProblem().ProducesProblem(404).WithSummary("Triggers a run: 202 with the run id and its status and cancel URLs. The same idempotency key gives the same run.");

        group.MapGet("/{flow}/{name}/schedule", async (string flow, string name, string? count, string? from, HttpRequest request, DeploymentService service, CancellationToken ct) =>
        {
            var (query, error) = SchedulePreviewQuery.Read(request.Query.Keys, count, from);
            if (error is not null)
            {
                return error;
            }

            var occurrences = await service.PreviewAsync(ControlNames.Deployment(flow, name), query.Count, query.From, ct);
            return Results.Json(occurrences.Select(o => new ScheduleOccurrenceView
            {
                Schedule = o.ScheduleId,
                Time = o.Time.ToString("yyyy-MM-dd'T'HH:mm:sszzz", CultureInfo.InvariantCulture),
                Utc = o.Time.UtcDateTime,
                UtcOffset = o.Time.Offset.ToString(o.Time.Offset < TimeSpan.Zero ? "\\-hh\\:mm" : "\\+hh\\:mm", CultureInfo.InvariantCulture),
            }), ApiJson.Options);
        }).Produces<ScheduleOccurrenceView[]>().ProducesValidationProblem().ProducesProblem(404).WithSummary("Previews the next occurrences of the deployment's active schedules (after `from`, an ISO 8601 time, default now; `count` 1-1000, default 10), with their UTC offsets. Other query parameters are refused.");
    }

    private static void MapPools(RouteGroupBuilder group)
    {
        group.MapGet("/", async (IControlStore store, CancellationToken ct) =>
            Results.Json((await store.ListWorkPoolsAsync(ct)).Select(p => Views.Pool(p.Record)), ApiJson.Options))
            .Produces<WorkPoolView[]>().WithSummary("Lists work pools.");
        group.MapPut("/{name}", async (string name, HttpRequest request, DeploymentService service, CancellationToken ct) =>
        {
            var (spec, error) = await Problems.ReadJsonAsync<WorkPoolSpec>(request, required: false, ct);
            if (error is not null)
            {
                return error;
            }

            var (pool, created) = await service.PutPoolAsync(name, spec ?? new WorkPoolSpec(), ct);
            return Results.Json(Views.Pool(pool), ApiJson.Options, statusCode: created ? 201 : 200);
        }).Accepts<WorkPoolRequest>(isOptional: true, "application/json")
            .Produces<WorkPoolView>().Produces<WorkPoolView>(201).ProducesValidationProblem().WithSummary("Creates or updates a work pool.");
        group.MapGet("/{name}", async (string name, DeploymentService service, CancellationToken ct) =>
            Results.Json(Views.Pool(await service.GetPoolAsync(name, ct)), ApiJson.Options))
            .Produces<WorkPoolView>().ProducesProblem(404).WithSummary("Reads a work pool.");
        group.MapPost("/{name}/pause", async (string name, DeploymentService service, CancellationToken ct) =>
            Results.Json(Views.Pool(await service.SetPoolPausedAsync(name, true, ct)), ApiJson.Options))
            .Produces<WorkPoolView>().ProducesProblem(404).WithSummary("Pauses a work pool: its runs wait.");
        group.MapPost("/{name}/resume", async (string name, DeploymentService service, CancellationToken ct) =>
            Results.Json(Views.Pool(await service.SetPoolPausedAsync(name, false, ct)), ApiJson.Options))
            .Produces<WorkPoolView>().ProducesProblem(404).WithSummary("Resumes a work pool.");
    }

    private static void MapRuns(RouteGroupBuilder group)
    {
        group.MapGet("/", async ([AsParameters] RunListQuery q, FlowEngine engine, TimeProvider time, IOptions<ControlPlaneOptions> control, CancellationToken ct) =>
        {
            var errors = new Dictionary<string, string[]>();
            RunState? state = null;
            var late = false;
            if (q.State is { } s)
            {
                if (string.Equals(s, "Late", StringComparison.OrdinalIgnoreCase))
                {
                    late = true;
                }
                else if (Enum.TryParse<RunState>(s, ignoreCase: true, out var parsed) && !int.TryParse(s, out _))
                {
                    state = parsed;
                }
                else
                {
                    errors["state"] = [$"'{s}' is not a state; use one of {string.Join(", ", Enum.GetNames<RunState>())} or Late"];
                }
            }

            var tags = RunTags(q.Tag, errors);

            if (q.PageSize is < 1 or > 1000)
            {
                errors["pageSize"] = ["must be 1-1000"];
            }

            DateTimeOffset? from = Time(q.From, "from", errors), to = Time(q.To, "to", errors);
            if (errors.Count > 0)
            {
                return Problems.Validation(errors);
            }

            RunPage page;
            var now = time.GetUtcNow();
            try
            {
                page = await engine.Store.ListRunsAsync(new RunQuery
                {
                    State = state,
                    LateCutoff = late ? LateRuns.Cutoff(now, control.Value.LateAfter) : null,
                    Tags = tags,
                    FlowName = q.Flow,
                    Deployment = q.Deployment,
                    CreatedFrom = from,
                    CreatedBefore = to,
                    PageSize = q.PageSize ?? 50,
                    ContinuationToken = q.ContinuationToken,
                }, ct);
            }
            catch (ArgumentException e) when (q.ContinuationToken is not null)
            {
                return Problems.Field("continuationToken", "not a token from this list: " + e.Message);
            }

            return Results.Json(new RunPageView
            {
                Runs = [.. page.Runs.Select(r => Views.Run(r, now, control.Value.LateAfter))],
                ContinuationToken = page.ContinuationToken,
            }, ApiJson.Options);
        }).Produces<RunPageView>().ProducesValidationProblem()
            .WithSummary("Lists runs, newest first; filter by deployment, flow, state (a stored state, or Late), tags (`tag=key` or `tag=key=value`, repeatable: all must match) and creation time; paged with continuationToken.")
            .WithDescription("`state=Late` lists Scheduled or Pending runs that never started and whose scheduled time passed more than the grace period (Flow:ControlPlane:LateAfter) ago, newest scheduled time first; the stores read them from an index of the runs that can become Late, not by scanning.");

        group.MapGet("/{id}", async (string id, FlowEngine engine, TimeProvider time, IOptions<ControlPlaneOptions> control, CancellationToken ct) =>
        {
            var stored = await GetRunAsync(engine, id, ct);
            if (stored is null)
            {
                return Problems.NotFound($"Run '{id}' does not exist.");
            }

            var history = await engine.Store.GetStateHistoryAsync(id, ct);
            var journal = await engine.Store.LoadJournalAsync(stored, ct);
            return Results.Json(Views.Run(stored, time.GetUtcNow(), control.Value.LateAfter, history, Views.TaskRuns(journal.Events)), ApiJson.Options);
        }).Produces<RunView>().ProducesProblem(404).WithSummary("Reads a run: state, state history, task runs with attempts and timings, parameters, result or failure.");

        group.MapPost("/{id}/cancel", async (string id, HttpRequest request, FlowEngine engine, CancellationToken ct) =>
        {
            var (body, error) = await Problems.ReadJsonAsync<CancelRunRequest>(request, required: false, ct);
            if (error is not null)
            {
                return error;
            }

            var run = await GetRunAsync(engine, id, ct);
            if (run is null)
            {
                return Problems.NotFound($"Run '{id}' does not exist.");
            }

            if (run.State.IsFinal())
            {
                return Problems.Problem(409, "Conflict", $"Run '{id}' is already {run.State}.");
            }

            var requested = await engine.RequestCancelAsync(id, body?.Reason ?? "Cancelled through the API", ct);
            return Results.Json(new CancelRunView { Id = id, CancelRequested = true, AlreadyRequested = !requested }, ApiJson.Options, statusCode: 202);
        }).Produces<CancelRunView>(202).ProducesProblem(404).ProducesProblem(409).WithSummary("Requests cancellation (Cancelling, then Cancelled).");

        group.MapPost("/{id}/resume", (string id, HttpRequest request, FlowEngine engine, IOptions<FlowAppOptions> options, CancellationToken ct) =>
            SendEventAsync(id, FlowContext.ResumeEventName, request, engine, options, ct))
            .Produces<EventDeliveryView>(202).ProducesProblem(404).ProducesProblem(409).WithSummary("Resumes a run paused by FlowContext.PauseAsync; the JSON body (optional) is the input the flow receives.");

        group.MapPost("/{id}/events/{name}", (string id, string name, HttpRequest request, FlowEngine engine, IOptions<FlowAppOptions> options, CancellationToken ct) =>
            SendEventAsync(id, name, request, engine, options, ct))
            .Produces<EventDeliveryView>(202).ProducesProblem(404).ProducesProblem(409).WithSummary("Sends an event to a run (resumes a flow waiting for it). Idempotency-Key header: the same key is delivered once.");

        group.MapGet("/{id}/logs", async (string id, int? pageSize, string? continuationToken, FlowEngine engine, CancellationToken ct) =>
        {
            if (pageSize is < 1 or > 1000)
            {
                return Problems.Field("pageSize", "must be 1-1000");
            }

            if (await GetRunAsync(engine, id, ct) is null)
            {
                return Problems.NotFound($"Run '{id}' does not exist.");
            }

            try
            {
                var page = await engine.Store.GetLogsAsync(id, pageSize ?? 200, continuationToken, ct);
                return Results.Json(new LogPageView { Lines = [.. page.Lines.Select(Views.LogLine)], ContinuationToken = page.ContinuationToken }, ApiJson.Options);
            }
            catch (ArgumentException e) when (continuationToken is not null)
            {
                return Problems.Field("continuationToken", "not a token from this log: " + e.Message);
            }
        }).Produces<LogPageView>().ProducesValidationProblem().ProducesProblem(404).WithSummary("Reads a run's log lines, oldest first, paged.");

        group.MapGet("/{id}/artifacts", async (string id, FlowEngine engine, CancellationToken ct) =>
        {
            if (await GetRunAsync(engine, id, ct) is null)
            {
                return Problems.NotFound($"Run '{id}' does not exist.");
            }

            var artifacts = await engine.Store.GetArtifactsAsync(id, ct);
            return Results.Json(artifacts.Select(Views.Artifact), ApiJson.Options);
        }).Produces<ArtifactView[]>().ProducesProblem(404).WithSummary("Reads a run's artifacts (tables, markdown, links).");
    }

    /// <summary>
    /// Creates the first runs of a saved or resumed deployment's schedules now, so they start on time instead of after the
    /// next scheduler tick (a minute away under the Functions host). Best effort: the tick creates them anyway.
    /// </summary>
    private static async Task ScheduleNowAsync(HttpRequest request, ApplyResult result, CancellationToken ct)
    {
        if (result.Outcome == "unchanged" || result.Deployment.Paused || !result.Deployment.Schedules.Any(s => s.Active))
        {
            return;
        }

        try
        {
            await request.HttpContext.RequestServices.GetRequiredService<DeploymentScheduler>().TickDeploymentAsync(result.Name, ct);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            ApiLog.ScheduleNowFailed(request.HttpContext.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger("Flow.Functions.Api"), e, result.Name);
        }
    }

    private static async Task<IResult> SendEventAsync(string id, string name, HttpRequest request, FlowEngine engine, IOptions<FlowAppOptions> options, CancellationToken ct)
    {
        if (name.Length is 0 or > 100 || name.Any(char.IsControl))
        {
            return Problems.Field("name", "must be 1-100 characters without control characters");
        }

        var eventId = request.Headers["Idempotency-Key"].ToString();
        if (eventId.Length > 0 && (eventId.Length > 180 || !eventId.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.')))
        {
            return Problems.Field("Idempotency-Key", "must be at most 180 letters, digits, '-', '_' and '.'");
        }

        var (text, error) = await Problems.ReadTextAsync(request, options.Value.MaxRequestBodyBytes, ct);
        if (error is not null)
        {
            return error;
        }

        JsonElement? payload = null;
        if (!string.IsNullOrWhiteSpace(text))
        {
            try
            {
                using var document = JsonDocument.Parse(text, JsonInputErrors.DocumentOptions);
                payload = document.RootElement.Clone();
            }
            catch (JsonException e)
            {
                return Problems.Field("(body)", "not valid JSON: " + JsonInputErrors.Describe(e));
            }
        }

        var run = await GetRunAsync(engine, id, ct);
        if (run is null)
        {
            return Problems.NotFound($"Run '{id}' does not exist.");
        }

        if (run.State.IsFinal())
        {
            return Problems.Problem(409, "Conflict", $"Run '{id}' is already {run.State}; it takes no events.");
        }

        var delivered = await engine.RaiseEventAsync(id, name, payload, eventId.Length > 0 ? eventId : null, ct);
        return Results.Json(new EventDeliveryView { Id = id, Event = name, Delivered = delivered }, ApiJson.Options, statusCode: 202);
    }

    internal static async Task<FlowRunRecord?> GetRunAsync(FlowEngine engine, string id, CancellationToken ct)
    {
        if (id.Length is 0 or > 100 || !id.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.'))
        {
            throw new InvalidRequestException("id", $"'{id}' is not a run id (1-100 letters, digits, '-', '_' and '.')");
        }

        return await engine.GetRunAsync(id, ct);
    }

    internal static DateTimeOffset? Time(string? text, string field, Dictionary<string, string[]> errors)
    {
        if (text is null)
        {
            return null;
        }

        if (DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var value))
        {
            return value;
        }

        errors[field] = [$"'{text}' is not an ISO 8601 time"];
        return null;
    }

    /// <summary>The <c>tag</c> query values as tag conditions; an invalid one adds a <c>tag</c> error.</summary>
    internal static IReadOnlyList<RunTagFilter> RunTags(string[]? values, Dictionary<string, string[]> errors)
    {
        var tags = new List<RunTagFilter>();
        var problems = new List<string>();
        foreach (var value in values ?? [])
        {
            if (RunTagFilter.TryParse(value, out var tag, out var error))
            {
                tags.Add(tag!);
            }
            else
            {
                problems.Add(error!);
            }
        }

        if (tags.Count + problems.Count > RunTagFilter.MaxPerQuery)
        {
            problems.Add($"at most {RunTagFilter.MaxPerQuery} tags");
        }

        if (problems.Count > 0)
        {
            errors["tag"] = [.. problems];
        }

        return tags;
    }
}

/// <summary>The filters of GET /api/runs.</summary>
internal sealed record RunListQuery(string? Deployment, string? Flow, string? State, string? From, string? To, int? PageSize, string? ContinuationToken, string[]? Tag);

/// <summary>The API's log messages.</summary>
internal static partial class ApiLog
{
    [LoggerMessage(701, LogLevel.Warning, "Creating the first scheduled runs of {Deployment} failed; the next scheduler tick creates them")]
    public static partial void ScheduleNowFailed(ILogger logger, Exception exception, string deployment);
}
