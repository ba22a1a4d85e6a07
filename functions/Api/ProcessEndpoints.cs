using System.Text.Json;
using Flow.Engine.Runs;
using Flow.Engine.Storage;
using Flow.Process;
using Flow.Sdk;

namespace Flow.Functions.Api;

/// <summary>
/// The process API under <c>/api/process/runs/{runId}</c>, used by subprocesses a process worker started. Every request needs
/// <c>Authorization: Bearer FLOW_RUN_TOKEN</c>, a token scoped to one run (<see cref="RunTokens"/>): a missing or invalid
/// token is 401, a token of another run 403, a write with the token of a run that has ended 403 (its history cannot be rewritten).
/// Task-cache entries are scoped to the run's flow. Every malformed body is a 400 naming the field (<see cref="ProcessBodies"/>). Two layers: the language-agnostic protocol (<c>GET</c> the run, <c>POST logs</c>,
/// <c>POST tasks</c>, <c>POST artifacts</c>) for scripts in any language, and the store operations (<c>attach</c>, <c>store/…</c>,
/// <c>enqueue</c>) that Flow.Sdk's <see cref="FlowProcess"/> keeps its journal through. The API key is not needed (nor accepted) here.
/// </summary>
internal static class ProcessEndpoints
{
    private const int MaxLinesPerRequest = 1000;
    private const int MaxLineLength = 16 * 1024;
    private const string JournalPath = "/store/journal";

    public static void Map(WebApplication app)
    {
        var run = app.MapGroup(ProcessWire.RunsPath + "/{runId}").WithTags("Process runs").AddEndpointFilter(AuthorizeAsync);
        run.MapGet("/", async (string runId, IFlowStore store, CancellationToken ct) =>
            await store.GetRunAsync(runId, ct) is { } stored
                ? Results.Json(new { runId, flowName = stored.Record.FlowName, deployment = stored.Record.Deployment, state = stored.Record.State.ToString(), attempt = stored.Record.Attempt, cancelRequested = stored.Record.CancelRequested, parameters = stored.Record.Parameters is { } p ? JsonDocument.Parse(p).RootElement : (JsonElement?)null }, ProcessWire.Json)
                : Problems.NotFound($"Run {runId} does not exist."))
            .WithSummary("The token's run: state, attempt, parameters, whether cancellation was requested.");
        run.MapPost("/logs", LogsAsync).WithSummary("Appends log lines: JSON {\"lines\":[{\"message\",\"level\"}]} or text/plain (one line each, level Information).");
        run.MapPost("/tasks", TaskAsync).WithSummary("Records a finished task run: {\"name\", \"state\": \"Completed\"|\"Failed\", \"result\", \"error\", \"startedAt\"}.");
        run.MapPost("/artifacts", ArtifactAsync).WithSummary("Creates or replaces an artifact: {\"key\", \"type\": \"Markdown\"|\"Table\"|\"Link\", \"data\", \"description\"}.");

        run.MapPost("/attach", AttachAsync).WithSummary("Flow.Sdk: marks the run as kept by a Flow.Sdk process (it resumes from its journal after a crash) and returns the store's limits.");
        run.MapGet("/store", async (string runId, IFlowStore store, CancellationToken ct) =>
            await store.GetRunAsync(runId, ct) is { } stored ? Results.Json(stored, ProcessWire.Json) : Results.NotFound())
            .WithSummary("Flow.Sdk: the run record with its version.");
        run.MapPost("/store/commit", CommitAsync).WithSummary("Flow.Sdk: a version-checked commit (409 on a version conflict).");
        run.MapPost(JournalPath, async (string runId, HttpRequest request, IFlowStore store, CancellationToken ct) =>
        {
            var (record, error) = await ProcessBodies.ReadAsync<FlowRunRecord>(request, ct);
            return error ?? (record!.RunId != runId
                ? Problems.Field("runId", "the record must be the token's run")
                : Results.Json(await store.LoadJournalAsync(record, ct), ProcessWire.Json));
        }).WithSummary("Flow.Sdk: the journal of the given record's attempt and the pending inbox.");
        run.MapGet("/store/journal/{attempt:int}/{index:int}", async (string runId, int attempt, int index, IFlowStore store, CancellationToken ct) =>
            await store.GetJournalEventAsync(runId, attempt, index, ct) is { } e ? Results.Json(e, ProcessWire.Json) : Results.NotFound())
            .WithSummary("Flow.Sdk: one journal event.");
        run.MapGet("/store/history", async (string runId, IFlowStore store, CancellationToken ct) =>
            Results.Json(await store.GetStateHistoryAsync(runId, ct), ProcessWire.Json))
            .WithSummary("Flow.Sdk: the run's state history.");
        run.MapGet("/store/cache", async (string runId, string? key, IFlowStore store, CancellationToken ct) =>
        {
            if (await CacheKeyAsync(store, runId, key, ct) is not { Scoped: { } scoped } k)
            {
                return Problems.NotFound($"Run {runId} does not exist.");
            }

            return k.Error ?? (await store.GetCacheEntryAsync(scoped, ct) is { } entry ? Results.Json(entry with { Key = key! }, ProcessWire.Json) : Results.NotFound());
        }).WithSummary("Flow.Sdk: a task cache entry of the run's own flow (process runs of one flow share a cache; no other flow's entries are visible).");
        run.MapPut("/store/cache", async (string runId, HttpRequest request, IFlowStore store, CancellationToken ct) =>
        {
            var (entry, error) = await ProcessBodies.ReadAsync<CacheEntry>(request, ct);
            if (error is not null)
            {
                return error;
            }

            if (entry!.RunId != runId)
            {
                return Problems.Field("runId", "a cache entry must be written by the token's run");
            }

            if (entry.Value is null || entry.TaskName is null)
            {
                return Problems.Field(entry.Value is null ? "value" : "taskName", "is required");
            }

            if (await CacheKeyAsync(store, runId, entry.Key, ct) is not { Scoped: { } scoped } k)
            {
                return Problems.NotFound($"Run {runId} does not exist.");
            }

            if (k.Error is not null)
            {
                return k.Error;
            }

            await store.PutCacheEntryAsync(entry with { Key = scoped }, ct);
            return Results.NoContent();
        }).WithSummary("Flow.Sdk: writes a task cache entry under the run's own flow.");
        run.MapPost("/enqueue", EnqueueAsync).WithSummary("Flow.Sdk: queues a wake-up of the token's run on its pool's run queue.");
    }

    private static async ValueTask<object?> AuthorizeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        var auth = http.Request.Headers.Authorization.ToString();
        var token = auth.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? auth["Bearer ".Length..].Trim() : null;
        var grant = token is null ? null : await http.RequestServices.GetRequiredService<RunTokens>().ValidateGrantAsync(token, http.RequestAborted);
        var owner = grant?.RunId;
        if (owner is null)
        {
            http.Response.Headers.WWWAuthenticate = "Bearer";
            return Problems.Problem(401, "Unauthorized", "The process API needs the run token a process worker hands its subprocess (FLOW_RUN_TOKEN) as Authorization: Bearer TOKEN; this one is missing, malformed, forged or expired.");
        }

        var runId = http.Request.RouteValues["runId"] as string;
        if (!string.Equals(owner, runId, StringComparison.Ordinal))
        {
            return Problems.Problem(403, "Forbidden", "This run token belongs to another run; a process may use the API for its own run only.", type: "https://flow.dev/problems/forbidden");
        }

        // A token grants writes while its run is not finished: a finished run's history cannot be rewritten with it. The one write
        // after the end is the record of the run's owed state hook (attach, then a commit CommitAsync checks: docs/hooks.md); a hook
        // token (a subprocess started only to run that hook) may make that write and no other.
        var path = http.Request.Path.Value ?? string.Empty;
        var reads = HttpMethods.IsGet(http.Request.Method) || HttpMethods.IsHead(http.Request.Method) || path.EndsWith(JournalPath, StringComparison.Ordinal);
        if (!reads)
        {
            var hookRecord = path.EndsWith("/attach", StringComparison.Ordinal) || path.EndsWith("/store/commit", StringComparison.Ordinal);
            var state = (await http.RequestServices.GetRequiredService<IFlowStore>().GetRunAsync(owner, http.RequestAborted))?.Record.State;
            if (state is { } ended && ended.IsFinal() && !hookRecord)
            {
                return Problems.Problem(403, "Forbidden", $"Run {owner} has ended ({ended}); its run token no longer grants writes.", type: "https://flow.dev/problems/run-ended");
            }

            if (grant!.HookOnly && !(hookRecord && state is { } final && final.IsFinal()))
            {
                return Problems.Problem(403, "Forbidden", $"A hook token may only record the owed state hook of finished run {owner}; it changes nothing else.", type: "https://flow.dev/problems/hook-token");
            }
        }

        return await next(context);
    }

    /// <summary>The stored key of a process run's cache entry: scoped to the run's flow. Null when the run does not exist.</summary>
    private static async Task<(string? Scoped, IResult? Error)?> CacheKeyAsync(IFlowStore store, string runId, string? key, CancellationToken ct)
    {
        if (await store.GetRunAsync(runId, ct) is not { } stored)
        {
            return null;
        }

        var prefix = $"process:{stored.Record.FlowName}:";
        var longest = StorageContract.MaxCacheKeyLength - prefix.Length;
        return string.IsNullOrEmpty(key) || key.Length > longest
            ? (prefix, Problems.Field("key", $"a cache key of 1-{longest} characters is required"))
            : (prefix + key, null);
    }

    private static async Task<IResult> AttachAsync(string runId, IFlowStore store, CancellationToken ct)
    {
        var stored = await UpdateAsync(store, runId, run => run.State.IsFinal() || (run.Tags.TryGetValue(ProcessRunExecutor.SdkTag, out var v) && v == ProcessRunExecutor.SdkTagValue)
            ? null
            : (run with { Tags = new Dictionary<string, string>(run.Tags, StringComparer.Ordinal) { [ProcessRunExecutor.SdkTag] = ProcessRunExecutor.SdkTagValue } }, [], []), ct);
        return stored is null
            ? Problems.NotFound($"Run {runId} does not exist.")
            : Results.Json(new AttachResponse(runId, store.MaxItemsPerCommit, store.MaxPayloadBytes), ProcessWire.Json);
    }

    private static async Task<IResult> CommitAsync(string runId, HttpRequest request, IFlowStore store, CancellationToken ct)
    {
        var (commit, error) = await ProcessBodies.ReadAsync<RunCommit>(request, ct);
        if (error is not null)
        {
            return error;
        }

        if (commit!.Run.RunId != runId)
        {
            return Problems.Field("run.runId", "a commit must be for the token's run");
        }

        try
        {
            if (await store.GetRunAsync(runId, ct) is { Record: { State: var state } current } && state.IsFinal())
            {
                // After the end only the owed hook's record: the flag cleared and its log lines, built here from the stored run.
                if (RunLifecycle.PlanHookDone(current) is not { } done || commit.Run.HookPending || commit.Events.Count + commit.Transitions.Count + commit.InboxToAdd.Count + commit.InboxToRemove.Count + commit.Artifacts.Count > 0)
                {
                    return Problems.Problem(403, "Forbidden", $"Run {runId} has ended ({state}); after the end a commit may only record its owed state hook.", type: "https://flow.dev/problems/run-ended");
                }

                commit = new RunCommit { ExpectedVersion = commit.ExpectedVersion, Run = done with { LogCount = current.LogCount + commit.Logs.Count }, Logs = commit.Logs };
            }

            return Results.Json(await store.CommitAsync(commit, ct), ProcessWire.Json);
        }
        catch (ConcurrencyException e)
        {
            return Problems.Problem(409, "Conflict", e.Message, type: "https://flow.dev/problems/concurrency");
        }
        catch (DuplicateInboxItemException e)
        {
            return Problems.Problem(409, "Conflict", e.Message, type: "https://flow.dev/problems/duplicate-inbox");
        }
    }

    private static async Task<IResult> EnqueueAsync(string runId, HttpRequest request, IFlowStore store, IWorkQueue queue, CancellationToken ct)
    {
        var (body, error) = await ProcessBodies.ReadAsync<EnqueueRequest>(request, ct);
        if (error is not null)
        {
            return error;
        }

        if (body!.Item is not { Kind: WorkItem.RunKind } item || item.RunId != runId)
        {
            return Problems.Field("item", "a process may queue only wake-ups (kind run) of its own run; distributed tasks and subflows are not available to process flows");
        }

        if (await store.GetRunAsync(runId, ct) is not { } stored)
        {
            return Problems.NotFound($"Run {runId} does not exist.");
        }

        await queue.EnqueueAsync(Flow.Engine.FlowEngine.RunQueueName(stored.Record.Pool), item, TimeSpan.FromMilliseconds(Math.Clamp(body.DelayMilliseconds, 0, (long)TimeSpan.FromDays(6.9).TotalMilliseconds)), ct);
        return Results.Accepted();
    }

    private static async Task<IResult> LogsAsync(string runId, HttpRequest request, IFlowStore store, TimeProvider time, CancellationToken ct)
    {
        List<ProcessLogLine> lines;
        if (request.ContentType?.StartsWith("text/plain", StringComparison.OrdinalIgnoreCase) == true)
        {
            using var reader = new StreamReader(request.Body);
            var text = await reader.ReadToEndAsync(ct);
            lines = [.. text.Split('\n').Select(l => l.TrimEnd('\r')).Where(l => l.Length > 0).Select(l => new ProcessLogLine(l))];
        }
        else
        {
            var (body, error) = await ProcessBodies.ReadAsync<ProcessLogsRequest>(request, ct);
            if (error is not null)
            {
                return error;
            }

            lines = [.. body!.Lines ?? []];
            if (lines.FindIndex(l => l is null) is var missing and >= 0)
            {
                return Problems.Field($"lines[{missing}]", "must be an object with a message");
            }
        }

        if (lines.Count is 0 or > MaxLinesPerRequest)
        {
            return Problems.Field("lines", $"send 1-{MaxLinesPerRequest} lines");
        }

        var levels = new[] { "Trace", "Debug", "Information", "Warning", "Error", "Critical" };
        var now = time.GetUtcNow();
        var stored = await UpdateAsync(store, runId, run =>
        {
            var logs = lines.Select(l => new RunLogLine(
                StorageContract.NormalizeTime(l.Timestamp ?? now),
                levels.FirstOrDefault(v => string.Equals(v, l.Level, StringComparison.OrdinalIgnoreCase)) ?? "Information",
                l.Message.Length > MaxLineLength ? l.Message[..MaxLineLength] + " [cut]" : l.Message,
                0,
                run.Attempt)).ToList();
            return (run with { LogCount = run.LogCount + logs.Count }, [], logs);
        }, ct);
        return stored is null ? Problems.NotFound($"Run {runId} does not exist.") : Results.Accepted();
    }

    private static async Task<IResult> TaskAsync(string runId, HttpRequest request, IFlowStore store, TimeProvider time, CancellationToken ct)
    {
        var (report, error) = await ProcessBodies.ReadAsync<ProcessTaskReport>(request, ct);
        if (error is not null)
        {
            return error;
        }

        if (string.IsNullOrWhiteSpace(report!.Name) || report.Name.Length > 200)
        {
            return Problems.Field("name", "a task needs a name of 1-200 characters");
        }

        var completed = string.Equals(report.State, "Completed", StringComparison.OrdinalIgnoreCase);
        if (!completed && !string.Equals(report.State, "Failed", StringComparison.OrdinalIgnoreCase))
        {
            return Problems.Field("state", "must be Completed or Failed");
        }

        var now = StorageContract.NormalizeTime(time.GetUtcNow());
        var stored = await UpdateAsync(store, runId, run =>
        {
            var e = new JournalEvent
            {
                Index = run.JournalLength + 1,
                Kind = completed ? JournalEventKind.TaskCompleted : JournalEventKind.TaskFailed,
                CallId = run.JournalLength + 1,
                Name = report.Name,
                Attempt = 1,
                State = completed ? RunState.Completed : RunState.Failed,
                Timestamp = now,
                StartedAt = report.StartedAt is { } s ? StorageContract.NormalizeTime(s) : null,
                Payload = completed ? report.Result?.GetRawText() ?? "null" : null,
                Failure = completed ? null : new FailureInfo("Flow.ProcessTaskFailed", report.Error ?? "failed"),
            };
            return (run with { JournalLength = e.Index }, [e], []);
        }, ct);
        return stored is null ? Problems.NotFound($"Run {runId} does not exist.") : Results.Accepted();
    }

    private static async Task<IResult> ArtifactAsync(string runId, HttpRequest request, IFlowStore store, TimeProvider time, CancellationToken ct)
    {
        var (body, error) = await ProcessBodies.ReadAsync<ProcessArtifactRequest>(request, ct);
        if (error is not null)
        {
            return error;
        }

        if (string.IsNullOrEmpty(body!.Key) || body.Key.Length > 100 || !body.Key.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_'))
        {
            return Problems.Field("key", "1-100 letters, digits, '-' and '_'");
        }

        if (!Enum.TryParse<ArtifactType>(body.Type, ignoreCase: true, out var type) || body.Data is null)
        {
            return Problems.Field("type", "must be Markdown, Table or Link, with data");
        }

        var artifact = new RunArtifact(body.Key, type, body.Data, body.Description, StorageContract.NormalizeTime(time.GetUtcNow()));
        var stored = await UpdateAsync(store, runId, run => (run, [], [], [artifact]), ct);
        return stored is null ? Problems.NotFound($"Run {runId} does not exist.") : Results.Accepted();
    }

    private static Task<StoredRun?> UpdateAsync(IFlowStore store, string runId, Func<FlowRunRecord, (FlowRunRecord, List<JournalEvent>, List<RunLogLine>)?> change, CancellationToken ct) =>
        UpdateAsync(store, runId, run => change(run) is { } c ? (c.Item1, c.Item2, c.Item3, []) : null, ct);

    /// <summary>Read, change, version-checked commit; again on a conflict. Null when the run does not exist.</summary>
    private static async Task<StoredRun?> UpdateAsync(IFlowStore store, string runId, Func<FlowRunRecord, (FlowRunRecord Run, List<JournalEvent> Events, List<RunLogLine> Logs, List<RunArtifact> Artifacts)?> change, CancellationToken ct)
    {
        for (var attempt = 0; ; attempt++)
        {
            var stored = await store.GetRunAsync(runId, ct);
            if (stored is null)
            {
                return null;
            }

            if (change(stored.Record) is not { } c)
            {
                return stored;
            }

            if (c.Events.Count + c.Logs.Count + c.Artifacts.Count > store.MaxItemsPerCommit)
            {
                // Split a large log batch: earlier lines first, each part version-checked.
                var first = c.Logs.Take(store.MaxItemsPerCommit).ToList();
                var rest = c.Logs.Skip(first.Count).ToList();
                var part = await UpdateAsync(store, runId, run => (run with { LogCount = run.LogCount + first.Count }, [], first.Select(l => l with { Attempt = run.Attempt }).ToList(), []), ct);
                return part is null ? null : await UpdateAsync(store, runId, run => (run with { LogCount = run.LogCount + rest.Count }, [], rest.Select(l => l with { Attempt = run.Attempt }).ToList(), []), ct);
            }

            try
            {
                return await store.CommitAsync(new RunCommit { ExpectedVersion = stored.Version, Run = c.Run, Events = c.Events, Logs = c.Logs, Artifacts = c.Artifacts }, ct);
            }
            catch (ConcurrencyException) when (attempt < 50)
            {
                // someone else wrote the run (the worker's log commits, the flow's own): read again
            }
        }
    }
}
