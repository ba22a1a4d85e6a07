using System.Globalization;
using System.Text;
using System.Text.Json;
using Flow.Engine.Runs;
using Flow.Engine.Storage;
using Flow.Sdk;

namespace Flow.Engine.Events;

/// <summary>
/// The events of a run's state transitions (docs/events.md): one <c>flow-run.{State}</c> event per transition, derived by
/// every <see cref="IFlowStore"/> from the transitions of a commit (and from the first transition of a created run) and
/// written in the same commit. Because the store derives them, every path that changes a run's state — the run lifecycle,
/// the episode's committer, the process worker, the process API's commits on behalf of a subprocess — writes its events, and
/// no caller can write a run event of its own. Pure: the same run and transition always give the same event.
/// </summary>
public static class RunEvents
{
    /// <summary>The start of every run event's kind: <c>flow-run.</c>.</summary>
    public const string KindPrefix = "flow-run.";

    /// <summary>The longest state message an event's payload carries, in characters (longer ones are cut, marked with …).</summary>
    public const int MaxMessageLength = 2000;

    private const int FixedRelated = 4; // flow, deployment, work pool, parent

    /// <summary>The id of the event of transition <paramref name="index"/> of run <paramref name="runId"/>: <c>{runId}.t{index}</c>.</summary>
    /// <param name="runId">The run id.</param>
    /// <param name="index">The transition index, from 1.</param>
    /// <returns>The event id.</returns>
    public static string EventId(string runId, int index) => string.Create(CultureInfo.InvariantCulture, $"{runId}.t{index}");

    /// <summary>The resource id of a run: <c>flow-run/{runId}</c>.</summary>
    /// <param name="runId">The run id.</param>
    /// <returns>The resource id.</returns>
    public static string ResourceId(string runId) => "flow-run/" + runId;

    /// <summary>The events of <paramref name="transitions"/>, in order, for the run as it stands after them.</summary>
    /// <param name="run">The run record the commit writes (after the transitions).</param>
    /// <param name="transitions">The commit's transitions.</param>
    /// <returns>One event per transition.</returns>
    public static IReadOnlyList<FlowEvent> For(FlowRunRecord run, IReadOnlyList<StateTransition> transitions)
    {
        ArgumentNullException.ThrowIfNull(run);
        ArgumentNullException.ThrowIfNull(transitions);
        if (transitions.Count == 0)
        {
            return [];
        }

        var events = new FlowEvent[transitions.Count];
        for (var i = 0; i < transitions.Count; i++)
        {
            events[i] = For(run, transitions[i]);
        }

        return events;
    }

    /// <summary>The event of one transition.</summary>
    /// <param name="run">The run record the commit writes.</param>
    /// <param name="transition">The transition.</param>
    /// <returns>The event.</returns>
    public static FlowEvent For(FlowRunRecord run, StateTransition transition)
    {
        ArgumentNullException.ThrowIfNull(run);
        ArgumentNullException.ThrowIfNull(transition);
        var labels = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["flow"] = Label(run.FlowName),
            ["pool"] = Label(run.Pool),
            ["state"] = transition.To.ToString(),
            ["attempt"] = transition.Attempt.ToString(CultureInfo.InvariantCulture),
        };
        if (run.Deployment is { } deployment)
        {
            labels["deployment"] = Label(deployment);
        }

        var related = new List<EventResource> { new("flow/" + Id(run.FlowName), "flow") };
        if (run.Deployment is { } d)
        {
            related.Add(new("deployment/" + Id(d), "deployment"));
        }

        related.Add(new("work-pool/" + Id(run.Pool), "work-pool"));
        if (run.ParentRunId is { } parent)
        {
            related.Add(new(ResourceId(parent), "parent"));
        }

        // Tags after the fixed resources, by key, as many as the event holds.
        foreach (var (key, value) in run.Tags.OrderBy(t => t.Key, StringComparer.Ordinal).Take(FlowEvent.MaxRelated - FixedRelated))
        {
            related.Add(new("tag/" + Id(key), "tag", new Dictionary<string, string>(StringComparer.Ordinal) { ["value"] = Label(value) }));
        }

        return new FlowEvent
        {
            Id = EventId(run.RunId, transition.Index),
            OccurredAt = StorageContract.NormalizeTime(transition.Timestamp),
            Kind = KindPrefix + transition.To,
            Resource = new EventResource(ResourceId(run.RunId), null, labels),
            Related = related,
            Payload = Payload(run, transition),
        };
    }

    private static string Payload(FlowRunRecord run, StateTransition transition)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteNumber("transition", transition.Index);
            if (transition.From is { } from)
            {
                json.WriteString("previousState", from.ToString());
            }

            if (transition.Message is { } message)
            {
                json.WriteString("message", message.Length <= MaxMessageLength ? message : string.Concat(message.AsSpan(0, MaxMessageLength), "…"));
            }

            json.WriteNumber("attempt", transition.Attempt);
            if (transition.To == RunState.Scheduled)
            {
                json.WriteString("scheduledAt", StorageContract.NormalizeTime(run.ScheduledAt));
            }

            if (transition.To == RunState.AwaitingRetry && run.WakeAt is { } next)
            {
                json.WriteString("nextAttemptAt", StorageContract.NormalizeTime(next));
                json.WriteString("retryOf", RunLifecycle.IsTaskRetryWait(run) ? "task" : "flow");
            }

            if (transition.To is RunState.Failed or RunState.Crashed && run.Failure is { } failure)
            {
                json.WriteString("failureType", Cut(failure.Type, 256));
            }

            json.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    /// <summary>A name as a resource id part: control characters dropped, at most 400 characters (ids are at most 512).</summary>
    private static string Id(string value) => Cut(Clean(value), 400);

    /// <summary>A label value: control characters dropped, at most <see cref="EventRules.MaxLabelLength"/> characters.</summary>
    private static string Label(string value) => Cut(value.Any(char.IsControl) ? new string([.. value.Where(c => !char.IsControl(c))]) : value, EventRules.MaxLabelLength);

    private static string Clean(string value)
    {
        if (!value.Any(char.IsControl) && !string.IsNullOrWhiteSpace(value))
        {
            return value;
        }

        var cleaned = new string([.. value.Where(c => !char.IsControl(c))]);
        return string.IsNullOrWhiteSpace(cleaned) ? "_" : cleaned;
    }

    private static string Cut(string value, int max) => value.Length <= max ? value : value[..max];
}
