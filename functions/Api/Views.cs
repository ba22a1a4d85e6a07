using System.Text.Json;
using Flow.ControlPlane;
using Flow.Engine.Storage;
using Flow.Sdk;

namespace Flow.Functions.Api;

/// <summary>A run as the API shows it.</summary>
internal sealed record RunView
{
    public required string Id { get; init; }
    public required string Flow { get; init; }
    public string? Deployment { get; init; }
    public required string Pool { get; init; }
    public required RunState State { get; init; }

    /// <summary>The state's display name: the state, or <c>Late</c> for a run not started within the grace period after its scheduled time.</summary>
    public required string StateName { get; init; }
    public string? StateMessage { get; init; }
    public DateTimeOffset StateTime { get; init; }
    public int Attempt { get; init; }
    public JsonElement? Parameters { get; init; }
    public JsonElement? Result { get; init; }
    public FailureInfo? Failure { get; init; }
    public IReadOnlyDictionary<string, string>? Tags { get; init; }
    public string? ParentRunId { get; init; }
    public DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset ScheduledAt { get; init; }
    public DateTimeOffset? StartedAt { get; init; }
    public DateTimeOffset? EndedAt { get; init; }
    public string? FlowVersion { get; init; }
    public bool CancelRequested { get; init; }
    public required RunLinks Links { get; init; }
    public IReadOnlyList<StateTransition>? History { get; init; }
    public IReadOnlyList<TaskRunView>? TaskRuns { get; init; }

    public static RunView From(FlowRunRecord run, DateTimeOffset now, TimeSpan lateAfter, IReadOnlyList<StateTransition>? history = null, IReadOnlyList<TaskRunView>? tasks = null) => new()
    {
        Id = run.RunId,
        Flow = run.FlowName,
        Deployment = run.Deployment,
        Pool = run.Pool,
        State = run.State,
        StateName = run.State is RunState.Scheduled or RunState.Pending && run.StartedAt is null && now - run.ScheduledAt > lateAfter ? "Late" : run.State.ToString(),
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
        Links = new RunLinks(run.RunId),
        History = history,
        TaskRuns = tasks,
    };

    internal static JsonElement? Parse(string? json)
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
}

/// <summary>Where to look at and act on a run.</summary>
internal sealed record RunLinks
{
    public RunLinks(string runId)
    {
        var id = Uri.EscapeDataString(runId);
        Self = $"/api/runs/{id}";
        Cancel = $"/api/runs/{id}/cancel";
        Logs = $"/api/runs/{id}/logs";
        Artifacts = $"/api/runs/{id}/artifacts";
    }

    public string Self { get; }
    public string Cancel { get; }
    public string Logs { get; }
    public string Artifacts { get; }
}

/// <summary>One task call of a run, with its attempts, from the current attempt's journal.</summary>
internal sealed record TaskRunView
{
    public int CallId { get; init; }
    public required string Name { get; init; }
    public required string State { get; init; }
    public int Attempts { get; init; }
    public DateTimeOffset? StartedAt { get; init; }
    public DateTimeOffset? EndedAt { get; init; }
    public double? DurationMs { get; init; }
    public bool Cached { get; init; }
    public FailureInfo? Failure { get; init; }
    public required IReadOnlyList<TaskAttemptView> AttemptHistory { get; init; }

    /// <summary>Folds the journal's task events into task runs, in call order.</summary>
    public static IReadOnlyList<TaskRunView> FromJournal(IReadOnlyList<JournalEvent> events)
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
}

/// <summary>One attempt of a task call.</summary>
internal sealed record TaskAttemptView(int Attempt, string Outcome, DateTimeOffset? StartedAt, DateTimeOffset EndedAt, FailureInfo? Failure);

/// <summary>A deployment as the API shows it; the same shape a PUT takes, so what you GET you can PUT back.</summary>
internal sealed record DeploymentView
{
    public required string FullName { get; init; }
    public required string Name { get; init; }
    public required string Flow { get; init; }
    public required object Entrypoint { get; init; }
    public required string Pool { get; init; }
    public JsonElement? Parameters { get; init; }
    public IReadOnlyDictionary<string, string>? Tags { get; init; }
    public string? Version { get; init; }
    public string? Description { get; init; }
    public bool Paused { get; init; }
    public int? ConcurrencyLimit { get; init; }
    public required string CollisionStrategy { get; init; }
    public required IReadOnlyList<object> Schedules { get; init; }
    public string? Source { get; init; }
    public DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset UpdatedAt { get; init; }

    public static DeploymentView From(DeploymentRecord d) => new()
    {
        FullName = d.Name,
        Name = d.Name[(d.Name.IndexOf('/', StringComparison.Ordinal) + 1)..],
        Flow = d.FlowName,
        Entrypoint = d.Entrypoint.Kind == DeploymentEntrypoint.FlowKind
            ? new { kind = d.Entrypoint.Kind }
            : new { kind = d.Entrypoint.Kind, command = d.Entrypoint.Command, workingDirectory = d.Entrypoint.WorkingDirectory, environment = d.Entrypoint.Environment?.ToDictionary(e => e.Key, e => e.Value.StartsWith("secret:", StringComparison.Ordinal) ? e.Value : "***") },
        Pool = d.Pool,
        Parameters = RunView.Parse(d.Parameters),
        Tags = d.Tags.Count == 0 ? null : d.Tags,
        Version = d.Version,
        Description = d.Description,
        Paused = d.Paused,
        ConcurrencyLimit = d.ConcurrencyLimit,
        CollisionStrategy = d.CollisionStrategy == ControlPlane.CollisionStrategy.CancelNew ? "cancel-new" : "enqueue",
        Schedules = [.. d.Schedules.Select(s => (object)new
        {
            id = s.Id,
            cron = s.Cron,
            timezone = s.TimeZone,
            interval = s.Interval is { } i ? System.Xml.XmlConvert.ToString(i) : null,
            anchor = s.Anchor,
            parameters = RunView.Parse(s.Parameters),
            active = s.Active,
        })],
        Source = d.Source,
        CreatedAt = d.CreatedAt,
        UpdatedAt = d.UpdatedAt,
    };
}
