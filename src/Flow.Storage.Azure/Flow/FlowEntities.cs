using System.Collections.Frozen;
using System.Globalization;
using System.Text.Json;
using Flow.Engine.Storage;
using Flow.Sdk;
using SdkTableEntity = Azure.Data.Tables.TableEntity;

namespace Flow.Storage.Azure;

/// <summary>
/// Maps the storage contract's records to table rows and back. Property names are the records' own; states and
/// kinds are stored as words, times as DateTime (ISO-8601 in Storage Explorer), tags as a JSON object.
/// </summary>
internal static class FlowEntities
{
    private static readonly DateTimeOffset MinTableTime = new(1601, 1, 1, 0, 0, 0, TimeSpan.Zero);

    public static SdkTableEntity Run(FlowRunRecord run, TextPlan plan)
    {
        var e = new SdkTableEntity(run.RunId, FlowKeys.RunRow);
        plan.Operation(32);
        plan.Text(e, "FlowName", run.FlowName);
        plan.Text(e, "Pool", run.Pool);
        plan.Text(e, "Deployment", run.Deployment);
        e["State"] = run.State.ToString();
        plan.Text(e, "StateMessage", run.StateMessage, contentAddressed: true);
        SetTime(e, "StateTime", run.StateTime);
        e["Attempt"] = run.Attempt;
        e["JournalLength"] = run.JournalLength;
        e["TransitionCount"] = run.TransitionCount;
        e["LogCount"] = run.LogCount;
        plan.Text(e, "Parameters", run.Parameters, contentAddressed: true);
        plan.Text(e, "Result", run.Result, contentAddressed: true);
        Failure(e, run.Failure, plan, contentAddressed: true);
        if (run.Tags.Count > 0)
        {
            plan.Text(e, "Tags", JsonSerializer.Serialize(run.Tags), contentAddressed: true);
        }

        plan.Text(e, "ParentRunId", run.ParentRunId);
        e["ParentAttempt"] = run.ParentAttempt;
        e["ParentCallId"] = run.ParentCallId;
        SetTime(e, "CreatedAt", run.CreatedAt);
        SetTime(e, "ScheduledAt", run.ScheduledAt);
        SetTime(e, "StartedAt", run.StartedAt);
        SetTime(e, "EndedAt", run.EndedAt);
        plan.Text(e, "LeaseOwner", run.LeaseOwner);
        SetTime(e, "LeaseUntil", run.LeaseUntil);
        e["WakeRequested"] = run.WakeRequested;
        e["CancelRequested"] = run.CancelRequested;
        SetTime(e, "WakeAt", run.WakeAt);
        SetTime(e, "HeartbeatAt", run.HeartbeatAt);
        plan.Text(e, "FlowVersion", run.FlowVersion);
        e["HookPending"] = run.HookPending;
        return e;
    }

    public static FlowRunRecord Run(SdkTableEntity e) => new()
    {
        RunId = e.PartitionKey,
        FlowName = e.GetString("FlowName") ?? string.Empty,
        Pool = e.GetString("Pool") ?? "default",
        Deployment = e.GetString("Deployment"),
        State = Enum.Parse<RunState>(e.GetString("State") ?? nameof(RunState.Pending)),
        StateMessage = e.GetString("StateMessage"),
        StateTime = GetTime(e, "StateTime") ?? default,
        Attempt = e.GetInt32("Attempt") ?? 1,
        JournalLength = e.GetInt32("JournalLength") ?? 0,
        TransitionCount = e.GetInt32("TransitionCount") ?? 0,
        LogCount = e.GetInt32("LogCount") ?? 0,
        Parameters = e.GetString("Parameters"),
        Result = e.GetString("Result"),
        Failure = Failure(e),
        Tags = e.GetString("Tags") is { } tags ? (JsonSerializer.Deserialize<Dictionary<string, string>>(tags) ?? []).ToFrozenDictionary(StringComparer.Ordinal) : FlowRunRecord.EmptyTags,
        ParentRunId = e.GetString("ParentRunId"),
        ParentAttempt = e.GetInt32("ParentAttempt") ?? 0,
        ParentCallId = e.GetInt32("ParentCallId") ?? 0,
        CreatedAt = GetTime(e, "CreatedAt") ?? default,
        ScheduledAt = GetTime(e, "ScheduledAt") ?? default,
        StartedAt = GetTime(e, "StartedAt"),
        EndedAt = GetTime(e, "EndedAt"),
        LeaseOwner = e.GetString("LeaseOwner"),
        LeaseUntil = GetTime(e, "LeaseUntil"),
        WakeRequested = e.GetBoolean("WakeRequested") ?? false,
        CancelRequested = e.GetBoolean("CancelRequested") ?? false,
        WakeAt = GetTime(e, "WakeAt"),
        HeartbeatAt = GetTime(e, "HeartbeatAt"),
        FlowVersion = e.GetString("FlowVersion"),
        HookPending = e.GetBoolean("HookPending") ?? false,
    };

    public static SdkTableEntity Transition(string runId, StateTransition t, TextPlan plan)
    {
        var e = new SdkTableEntity(runId, FlowKeys.Transition(t.Index));
        plan.Operation(6);
        e["Index"] = t.Index;
        e["From"] = t.From?.ToString();
        e["To"] = t.To.ToString();
        SetTime(e, "Time", t.Timestamp);
        plan.Text(e, "Message", t.Message);
        e["Attempt"] = t.Attempt;
        return e;
    }

    public static StateTransition Transition(SdkTableEntity e) => new(
        e.GetInt32("Index") ?? 0,
        e.GetString("From") is { } from ? Enum.Parse<RunState>(from) : null,
        Enum.Parse<RunState>(e.GetString("To") ?? nameof(RunState.Pending)),
        GetTime(e, "Time") ?? default,
        e.GetString("Message"),
        e.GetInt32("Attempt") ?? 1);

    public static SdkTableEntity Event(string runId, int runAttempt, JournalEvent ev, TextPlan plan)
    {
        var e = new SdkTableEntity(runId, FlowKeys.Journal(runAttempt, ev.Index));
        plan.Operation(16);
        e["RunAttempt"] = runAttempt;
        e["Index"] = ev.Index;
        e["Kind"] = ev.Kind.ToString();
        e["CallId"] = ev.CallId;
        plan.Text(e, "Name", ev.Name);
        e["Attempt"] = ev.Attempt;
        e["State"] = ev.State?.ToString();
        SetTime(e, "Time", ev.Timestamp);
        SetTime(e, "StartedAt", ev.StartedAt);
        SetTime(e, "DueAt", ev.DueAt);
        plan.Text(e, "Payload", ev.Payload);
        Failure(e, ev.Failure, plan, contentAddressed: false);
        plan.Text(e, "Detail", ev.Detail);
        return e;
    }

    public static JournalEvent Event(SdkTableEntity e) => new()
    {
        Index = e.GetInt32("Index") ?? 0,
        Kind = Enum.Parse<JournalEventKind>(e.GetString("Kind") ?? nameof(JournalEventKind.Marker)),
        CallId = e.GetInt32("CallId") ?? 0,
        Name = e.GetString("Name"),
        Attempt = e.GetInt32("Attempt") ?? 0,
        State = e.GetString("State") is { } state ? Enum.Parse<RunState>(state) : null,
        Timestamp = GetTime(e, "Time") ?? default,
        StartedAt = GetTime(e, "StartedAt"),
        DueAt = GetTime(e, "DueAt"),
        Payload = e.GetString("Payload"),
        Failure = Failure(e),
        Detail = e.GetString("Detail"),
    };

    public static SdkTableEntity Inbox(string runId, InboxItem item, TextPlan plan)
    {
        var e = new SdkTableEntity(runId, FlowKeys.Inbox(item.Id));
        plan.Operation(14);
        e["Id"] = item.Id;
        e["Kind"] = item.Kind.ToString();
        e["RunAttempt"] = item.RunAttempt;
        e["CallId"] = item.CallId;
        e["Attempt"] = item.Attempt;
        plan.Text(e, "Name", item.Name);
        plan.Text(e, "Payload", item.Payload);
        Failure(e, item.Failure, plan, contentAddressed: false);
        SetTime(e, "StartedAt", item.StartedAt);
        SetTime(e, "Time", item.Timestamp);
        plan.Text(e, "Detail", item.Detail);
        return e;
    }

    public static InboxItem Inbox(SdkTableEntity e) => new()
    {
        Id = e.GetString("Id") ?? e.RowKey[FlowKeys.InboxPrefix.Length..],
        Kind = Enum.Parse<InboxItemKind>(e.GetString("Kind") ?? nameof(InboxItemKind.Event)),
        RunAttempt = e.GetInt32("RunAttempt") ?? 0,
        CallId = e.GetInt32("CallId") ?? 0,
        Attempt = e.GetInt32("Attempt") ?? 0,
        Name = e.GetString("Name"),
        Payload = e.GetString("Payload"),
        Failure = Failure(e),
        StartedAt = GetTime(e, "StartedAt"),
        Timestamp = GetTime(e, "Time") ?? default,
        Detail = e.GetString("Detail"),
    };

    public static SdkTableEntity Log(string runId, int number, RunLogLine line, TextPlan plan)
    {
        var e = new SdkTableEntity(runId, FlowKeys.Log(number));
        plan.Operation(6);
        e["Number"] = number;
        SetTime(e, "Time", line.Timestamp);
        e["Level"] = line.Level;
        plan.Text(e, "Message", line.Message);
        e["CallId"] = line.CallId;
        e["Attempt"] = line.Attempt;
        return e;
    }

    public static RunLogLine Log(SdkTableEntity e) => new(
        GetTime(e, "Time") ?? default,
        e.GetString("Level") ?? "Information",
        e.GetString("Message") ?? string.Empty,
        e.GetInt32("CallId") ?? 0,
        e.GetInt32("Attempt") ?? 1);

    public static SdkTableEntity Artifact(string runId, RunArtifact artifact, TextPlan plan)
    {
        var e = new SdkTableEntity(runId, FlowKeys.Artifact(artifact.Key));
        plan.Operation(6);
        plan.Text(e, "Key", artifact.Key);
        e["Type"] = artifact.Type.ToString();
        plan.Text(e, "Data", artifact.Data);
        plan.Text(e, "Description", artifact.Description);
        SetTime(e, "CreatedAt", artifact.CreatedAt);
        e["CallId"] = artifact.CallId;
        return e;
    }

    public static RunArtifact Artifact(SdkTableEntity e) => new(
        e.GetString("Key") ?? string.Empty,
        Enum.Parse<ArtifactType>(e.GetString("Type") ?? nameof(ArtifactType.Markdown)),
        e.GetString("Data") ?? string.Empty,
        e.GetString("Description"),
        GetTime(e, "CreatedAt") ?? default,
        e.GetInt32("CallId") ?? 0);

    public static SdkTableEntity Cache(string partitionKey, string rowKey, CacheEntry entry, TextPlan plan)
    {
        var e = new SdkTableEntity(partitionKey, rowKey);
        plan.Operation(6);
        plan.Text(e, "Key", entry.Key);
        plan.Text(e, "Value", entry.Value, contentAddressed: true);
        plan.Text(e, "TaskName", entry.TaskName);
        plan.Text(e, "RunId", entry.RunId);
        SetTime(e, "CreatedAt", entry.CreatedAt);
        SetTime(e, "ExpiresAt", entry.ExpiresAt);
        return e;
    }

    public static CacheEntry Cache(SdkTableEntity e) => new(
        e.GetString("Key") ?? string.Empty,
        e.GetString("Value") ?? string.Empty,
        e.GetString("TaskName") ?? string.Empty,
        e.GetString("RunId") ?? string.Empty,
        GetTime(e, "CreatedAt") ?? default,
        GetTime(e, "ExpiresAt"));

    /// <summary>
    /// Stores a time as a table DateTime, normalized as the contract says (UTC, whole microseconds); the default value
    /// is left out and a time before 1601 (which tables cannot hold) is kept as ISO-8601 text.
    /// </summary>
    public static void SetTime(SdkTableEntity e, string name, DateTimeOffset? value)
    {
        if (value is not { } given || given == default)
        {
            return;
        }

        var time = StorageContract.NormalizeTime(given);

        e[name] = time < MinTableTime ? time.ToString("O", CultureInfo.InvariantCulture) : time;
    }

    public static DateTimeOffset? GetTime(SdkTableEntity e, string name) => (e.TryGetValue(name, out var value) ? value : null) switch
    {
        DateTimeOffset time => time,
        DateTime time => new DateTimeOffset(DateTime.SpecifyKind(time, DateTimeKind.Utc)),
        string text => DateTimeOffset.Parse(text, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind),
        _ => null,
    };

    private static void Failure(SdkTableEntity e, FailureInfo? failure, TextPlan plan, bool contentAddressed)
    {
        if (failure is null)
        {
            return;
        }

        plan.Text(e, "FailureType", failure.Type, contentAddressed);
        plan.Text(e, "FailureMessage", failure.Message, contentAddressed);
        plan.Text(e, "FailureStackTrace", failure.StackTrace, contentAddressed);
    }

    private static FailureInfo? Failure(SdkTableEntity e) =>
        e.GetString("FailureType") is { } type ? new FailureInfo(type, e.GetString("FailureMessage") ?? string.Empty, e.GetString("FailureStackTrace")) : null;

}
