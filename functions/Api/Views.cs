using System.Text.Json;
using System.Xml;
using Flow.Client;
using Flow.ControlPlane;
using Flow.Engine.Storage;
using Flow.Sdk;

namespace Flow.Functions.Api;

/// <summary>Maps the engine's and control plane's records to the API's response types (<see cref="Flow.Client"/>).</summary>
internal static class Views
{
    /// <summary>A run as the API shows it.</summary>
    public static RunView Run(FlowRunRecord run, DateTimeOffset now, TimeSpan lateAfter, IReadOnlyList<StateTransition>? history = null, IReadOnlyList<TaskRunView>? tasks = null) => new()
    {
        Id = run.RunId,
        Flow = run.FlowName,
        Deployment = run.Deployment,
        Pool = run.Pool,
        State = run.State,
        StateName = StateName(run, now, lateAfter),
        StateMessage = run.StateMessage,
        StateTime = run.StateTime,
        Attempt = run.Attempt,
        Parameters = Parse(run.Parameters),
        Result = Parse(run.Result),
        Failure = run.Failure,
        Tags = run.Tags.Count == 0 ? null : run.Tags,
        ParentRunId = run.ParentRunId,
        CreatedAt = run.CreatedAt,
        ScheduledAt = run.ScheduledAt,
        StartedAt = run.StartedAt,
        EndedAt = run.EndedAt,
        FlowVersion = run.FlowVersion,
        CancelRequested = run.CancelRequested,
        Links = RunLinks.For(run.RunId),
        History = history?.Select(h => new StateTransitionView
        {
            Index = h.Index,
            From = h.From,
            To = h.To,
            Timestamp = h.Timestamp,
            Message = h.Message,
            Attempt = h.Attempt,
        }).ToList(),
        TaskRuns = tasks,
    };

    /// <summary>The state's display name: the state, or <c>Late</c> for a run not started within the grace period after its scheduled time.</summary>
    public static string StateName(FlowRunRecord run, DateTimeOffset now, TimeSpan lateAfter) => Engine.Runs.LateRuns.StateName(run, now, lateAfter);

    /// <summary>Stored JSON as a JSON value; text that is not JSON becomes a JSON string.</summary>
    public static JsonElement? Parse(string? json)
    {
        if (json is null)
        {
            return null;
        }

        try
        {
            using var document = JsonDocument.Parse(json);
            return document.RootElement.Clone();
        }
        catch (JsonException)
        {
            return JsonSerializer.SerializeToElement(json);
        }
    }

    /// <summary>Folds the journal's task events into task runs, in call order.</summary>
    public static IReadOnlyList<TaskRunView> TaskRuns(IReadOnlyList<JournalEvent> events)
    {
        var calls = new SortedDictionary<int, List<JournalEvent>>();
        foreach (var e in events)
        {
            if (e.CallId > 0 && e.Kind is JournalEventKind.TaskStarted or JournalEventKind.TaskAttemptFailed or JournalEventKind.TaskCompleted or JournalEventKind.TaskFailed or JournalEventKind.TaskDispatched)
            {
                if (!calls.TryGetValue(e.CallId, out var list))
                {
                    calls[e.CallId] = list = [];
                }

                list.Add(e);
            }
        }

        var result = new List<TaskRunView>(calls.Count);
        foreach (var (callId, list) in calls)
        {
            var last = list[^1];
            var attempts = list.Where(e => e.Kind is JournalEventKind.TaskAttemptFailed or JournalEventKind.TaskCompleted or JournalEventKind.TaskFailed)
                .Select(e => new TaskAttemptView(e.Attempt, e.State?.ToString() ?? e.Kind.ToString(), e.StartedAt, e.Timestamp, e.Failure))
                .ToList();
            var started = list.Select(e => e.StartedAt ?? (e.Kind is JournalEventKind.TaskStarted or JournalEventKind.TaskDispatched ? e.Timestamp : null)).FirstOrDefault(t => t is not null);
            var final = last.Kind is JournalEventKind.TaskCompleted or JournalEventKind.TaskFailed;
            result.Add(new TaskRunView
            {
                CallId = callId,
                Name = last.Name ?? list.First(e => e.Name is not null).Name ?? "task",
                State = final ? last.State?.ToString() ?? (last.Kind == JournalEventKind.TaskCompleted ? "Completed" : "Failed") : last.Kind == JournalEventKind.TaskAttemptFailed ? "AwaitingRetry" : "Running",
                Attempts = Math.Max(1, list.Max(e => e.Attempt)),
                StartedAt = started,
                EndedAt = final ? last.Timestamp : null,
                DurationMs = final && started is { } s ? (last.Timestamp - s).TotalMilliseconds : null,
                Cached = last.State == RunState.Cached,
                Failure = last.Kind == JournalEventKind.TaskFailed ? last.Failure : null,
                AttemptHistory = attempts,
            });
        }

        return result;
    }

    /// <summary>A deployment as the API shows it, with when its schedules next fire.</summary>
    public static DeploymentView Deployment(DeploymentRecord d, DeploymentService service) => new()
    {
        NextRunAt = service.NextRunAt(d),
        FullName = d.Name,
        Name = d.Name[(d.Name.IndexOf('/', StringComparison.Ordinal) + 1)..],
        Flow = d.FlowName,
        Entrypoint = d.Entrypoint.Kind == DeploymentEntrypoint.FlowKind
            ? new DeploymentEntrypointView { Kind = d.Entrypoint.Kind }
            : new DeploymentEntrypointView
            {
                Kind = d.Entrypoint.Kind,
                Command = d.Entrypoint.Command,
                WorkingDirectory = d.Entrypoint.WorkingDirectory,
                Environment = d.Entrypoint.Environment?.ToDictionary(e => e.Key, e => e.Value.StartsWith("secret:", StringComparison.Ordinal) ? e.Value : "***"),
            },
        Pool = d.Pool,
        Parameters = Parse(d.Parameters),
        Tags = d.Tags.Count == 0 ? null : d.Tags,
        Version = d.Version,
        Description = d.Description,
        Paused = d.Paused,
        ConcurrencyLimit = d.ConcurrencyLimit,
        CollisionStrategy = d.CollisionStrategy == ControlPlane.CollisionStrategy.CancelNew ? "cancel-new" : "enqueue",
        Schedules = [.. d.Schedules.Select(s => new DeploymentScheduleView
        {
            Id = s.Id,
            Cron = s.Cron,
            Timezone = s.TimeZone,
            Interval = s.Interval is { } i ? XmlConvert.ToString(i) : null,
            Anchor = s.Anchor,
            Parameters = Parse(s.Parameters),
            Active = s.Active,
        })],
        Source = d.Source,
        CreatedAt = d.CreatedAt,
        UpdatedAt = d.UpdatedAt,
    };

    /// <summary>What applying one deployment did.</summary>
    public static ApplyResultView Applied(ApplyResult result, DeploymentService service) =>
        new() { Name = result.Name, Outcome = result.Outcome, Deployment = Deployment(result.Deployment, service) };

    /// <summary>A work pool as the API shows it.</summary>
    public static WorkPoolView Pool(WorkPoolRecord p) => new()
    {
        Name = p.Name,
        Type = p.Type,
        Description = p.Description,
        ConcurrencyLimit = p.ConcurrencyLimit,
        Paused = p.Paused,
        AllowedCommands = p.AllowedCommands,
        CreatedAt = p.CreatedAt,
        UpdatedAt = p.UpdatedAt,
    };

    /// <summary>A refused run request as the API shows it.</summary>
    public static RejectedRunRequestView Rejected(RejectedRunRequest r) => new()
    {
        Id = r.Id,
        Source = r.Source,
        RejectedAt = r.RejectedAt,
        Reason = r.Reason,
        Field = r.Field,
        Body = r.Body,
    };

    /// <summary>A log line as the API shows it.</summary>
    public static LogLineView LogLine(RunLogLine line) =>
        new() { Timestamp = line.Timestamp, Level = line.Level, Message = line.Message, CallId = line.CallId, Attempt = line.Attempt };

    /// <summary>An artifact as the API shows it: a table's data as JSON, other data as a string.</summary>
    public static ArtifactView Artifact(RunArtifact a) => new()
    {
        Key = a.Key,
        Type = a.Type.ToString(),
        Description = a.Description,
        CreatedAt = a.CreatedAt,
        Data = a.Type == ArtifactType.Table ? Parse(a.Data) : JsonSerializer.SerializeToElement(a.Data),
    };
}
