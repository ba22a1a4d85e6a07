using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using Flow.Engine.Events;
using Flow.Engine.Storage;

namespace Flow.ControlPlane;

/// <summary>
/// The events of control-plane changes (docs/events.md, "Control-plane events"): <c>deployment.*</c>, <c>work-pool.*</c>,
/// <c>run-request.refused</c>, <c>automation.*</c>. Every <see cref="IControlStore"/> derives them from the record before and
/// after a write and stores them in the same commit as the write, so every path that changes a deployment, a pool or an
/// automation writes its event and no caller can forget or forge one. Pure: the same change always gives the same event, with
/// a deterministic id (<c>{resource}.{verb}.{hash of the change}</c>), so a retried write keeps one event. A write that
/// changes nothing but <c>updatedAt</c> has no event.
/// </summary>
public static partial class ControlEvents
{
    /// <summary>The longest text (a reason, a body excerpt) an event's payload carries, in characters.</summary>
    public const int MaxTextLength = 512;

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        Converters = { new JsonStringEnumConverter() },
    };

    /// <summary>The kinds' prefixes of the events control stores write (<c>deployment.</c>, <c>work-pool.</c>, <c>run-request.</c>,
    /// <c>automation.</c>): the API refuses events of these kinds from other systems, so none can be forged.</summary>
    public static IReadOnlyList<string> ReservedPrefixes { get; } = ["deployment.", "work-pool.", "run-request.", "automation."];

    /// <summary>The reserved prefix <paramref name="kind"/> starts with, or null.</summary>
    /// <param name="kind">An event kind.</param>
    /// <returns>The prefix, or null when the kind is free.</returns>
    public static string? ReservedPrefix(string kind) =>
        ReservedPrefixes.FirstOrDefault(p => kind.StartsWith(p, StringComparison.Ordinal));

    /// <summary>The resource id of a deployment: <c>deployment/{flow}/{name}</c>.</summary>
    /// <param name="name">The deployment's full name.</param>
    /// <returns>The resource id.</returns>
    public static string DeploymentResource(string name) => "deployment/" + name;

    /// <summary>The resource id of a work pool: <c>work-pool/{name}</c>.</summary>
    /// <param name="name">The pool name.</param>
    /// <returns>The resource id.</returns>
    public static string WorkPoolResource(string name) => "work-pool/" + name;

    /// <summary>The resource id of a refused run request: <c>run-request/{id}</c>.</summary>
    /// <param name="id">The request id.</param>
    /// <returns>The resource id.</returns>
    public static string RunRequestResource(string id) => "run-request/" + id;

    /// <summary>The resource id of an automation: <c>automation/{name}</c>.</summary>
    /// <param name="name">The automation's name.</param>
    /// <returns>The resource id.</returns>
    public static string AutomationResource(string name) => "automation/" + name;

    /// <summary>
    /// The event of a deployment write: <c>deployment.created</c>, <c>.deleted</c>, <c>.paused</c>/<c>.resumed</c> (the paused
    /// flag changed) or <c>.updated</c>; null when nothing but the update time changed. The payload names the changed fields
    /// and carries the version label and the paused flag, never parameters, environment or command values.
    /// </summary>
    /// <param name="before">The stored deployment before the write (normalized), or null.</param>
    /// <param name="after">The deployment written (normalized), or null for a deletion.</param>
    /// <param name="now">The store's time, for a deletion (and a record without an update time).</param>
    /// <returns>The event, or null.</returns>
    public static FlowEvent? ForDeployment(DeploymentRecord? before, DeploymentRecord? after, DateTimeOffset now)
    {
        var current = after ?? before;
        if (current is null)
        {
            return null;
        }

        var change = Diff(before, after, "paused");
        if (change is null)
        {
            return null;
        }

        var labels = Labels(("flow", current.FlowName), ("deployment", current.Name), ("pool", current.Pool), ("paused", current.Paused ? "true" : "false"));
        var payload = Payload(change.Value.Changed, w =>
        {
            w.WriteString("deployment", current.Name);
            if (current.Version is { } version)
            {
                w.WriteString("version", Cut(version));
            }

            w.WriteBoolean("paused", current.Paused);
            w.WriteString("pool", current.Pool);
        });
        return Make(
            DeploymentResource(current.Name), "deployment", change.Value.Verb(current.Paused, "paused", "resumed"), change.Value.Hash, Time(after?.UpdatedAt, now), labels,
            [new("flow/" + current.FlowName, "flow"), new(WorkPoolResource(current.Pool), "work-pool")],
            payload);
    }

    /// <summary>The event of a work pool write: <c>work-pool.created</c>, <c>.deleted</c>, <c>.paused</c>/<c>.resumed</c> or
    /// <c>.updated</c>; null when nothing but the update time changed.</summary>
    /// <param name="before">The stored pool before the write (normalized), or null.</param>
    /// <param name="after">The pool written (normalized), or null for a deletion.</param>
    /// <param name="now">The store's time, for a deletion.</param>
    /// <returns>The event, or null.</returns>
    public static FlowEvent? ForWorkPool(WorkPoolRecord? before, WorkPoolRecord? after, DateTimeOffset now)
    {
        var current = after ?? before;
        if (current is null || Diff(before, after, "paused") is not { } change)
        {
            return null;
        }

        var labels = Labels(("pool", current.Name), ("type", current.Type), ("paused", current.Paused ? "true" : "false"));
        var payload = Payload(change.Changed, w =>
        {
            w.WriteString("pool", current.Name);
            w.WriteString("type", current.Type);
            w.WriteBoolean("paused", current.Paused);
            if (current.ConcurrencyLimit is { } limit)
            {
                w.WriteNumber("concurrencyLimit", limit);
            }
        });
        return Make(WorkPoolResource(current.Name), "work-pool", change.Verb(current.Paused, "paused", "resumed"), change.Hash, Time(after?.UpdatedAt, now), labels, [], payload);
    }

    /// <summary>
    /// The event of a refused run request: <c>run-request.refused</c>, id <c>run-request/{id}.refused</c> (a request recorded
    /// twice has one event). The payload carries the source, the reason, the field at fault and the first
    /// <see cref="MaxTextLength"/> characters of the body as received (a run request names secrets, never holds them).
    /// </summary>
    /// <param name="request">The request (normalized).</param>
    /// <returns>The event.</returns>
    public static FlowEvent ForRefusedRequest(RejectedRunRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var labels = Labels(("source", request.Source), ("field", request.Field));
        var payload = Payload(null, w =>
        {
            w.WriteString("source", request.Source);
            w.WriteString("reason", Cut(request.Reason));
            if (request.Field is { } field)
            {
                w.WriteString("field", Cut(field));
            }

            if (request.Body is { } body)
            {
                w.WriteString("body", Cut(body));
                w.WriteNumber("bodyLength", body.Length);
            }
        });
        var resource = RunRequestResource(request.Id);
        return new FlowEvent
        {
            Id = EventId(resource, "refused", string.Empty),
            OccurredAt = StorageContract.NormalizeTime(request.RejectedAt),
            Kind = "run-request.refused",
            Resource = new EventResource(resource, null, labels),
            Payload = payload,
        };
    }

    /// <summary>Whether an event was caused by the automation <paramref name="automation"/>: it is about the automation
    /// (<c>automation/{name}</c>: its changes, firings, action outcomes, default send-event resource) or relates to it
    /// (events its send-event actions emit). An automation's trigger never matches these, so it cannot fire on its own events.</summary>
    /// <param name="flowEvent">The event.</param>
    /// <param name="automation">The automation's name.</param>
    /// <returns>True when the event is the automation's own.</returns>
    public static bool IsCausedBy(FlowEvent flowEvent, string automation)
    {
        ArgumentNullException.ThrowIfNull(flowEvent);
        var id = AutomationResource(automation);
        return flowEvent.Resource.Id == id || flowEvent.Related.Any(r => r.Id == id);
    }

    private static FlowEvent Make(
        string resource, string family, string verb, string hash, DateTimeOffset at, Dictionary<string, string> labels, IReadOnlyList<EventResource> related, string payload) => new()
    {
        Id = EventId(resource, verb, hash),
        OccurredAt = StorageContract.NormalizeTime(at),
        Kind = family + "." + verb,
        Resource = new EventResource(resource, null, labels),
        Related = related,
        Payload = payload,
    };

    /// <summary><c>{resource}.{verb}.{hash}</c>, or <c>{verb}.{hash of all of it}</c> when that is longer than an event id may be.</summary>
    private static string EventId(string resource, string verb, string hash)
    {
        var id = hash.Length == 0 ? $"{resource}.{verb}" : $"{resource}.{verb}.{hash}";
        return id.Length <= FlowEvent.MaxIdLength ? id : $"{verb}.{Hash(id)[..40]}";
    }

    private static DateTimeOffset Time(DateTimeOffset? updatedAt, DateTimeOffset now) => updatedAt is { } at && at != default ? at : now;

    /// <summary>What a write changed: the verb, the changed fields (camelCase) and a hash of both records; null when only
    /// <c>updatedAt</c> (or nothing) changed.</summary>
    private static Change? Diff<T>(T? before, T? after, string flag)
        where T : class
    {
        var old = before is null ? null : JsonSerializer.SerializeToNode(before, Json)!.AsObject();
        var next = after is null ? null : JsonSerializer.SerializeToNode(after, Json)!.AsObject();
        var hash = Hash((old?.ToJsonString() ?? "-") + "\n" + (next?.ToJsonString() ?? "-"))[..16];
        if (old is null || next is null)
        {
            return new Change(old is null ? "created" : "deleted", [], hash, false);
        }

        var changed = old.Select(p => p.Key).Union(next.Select(p => p.Key), StringComparer.Ordinal)
            .Where(k => k != "updatedAt" && !JsonNode.DeepEquals(old[k], next[k]))
            .Order(StringComparer.Ordinal)
            .ToList();
        return changed.Count == 0 ? null : new Change("updated", changed, hash, changed.Contains(flag));
    }

    private static string Payload(IReadOnlyList<string>? changed, Action<Utf8JsonWriter> write)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            write(json);
            if (changed is { Count: > 0 })
            {
                json.WriteStartArray("changed");
                foreach (var field in changed)
                {
                    json.WriteStringValue(field);
                }

                json.WriteEndArray();
            }

            json.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    private static Dictionary<string, string> Labels(params (string Name, string? Value)[] labels)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (name, value) in labels)
        {
            if (value is not null)
            {
                result[name] = Label(value);
            }
        }

        return result;
    }

    private static string Label(string value)
    {
        var clean = value.Any(char.IsControl) ? new string([.. value.Where(c => !char.IsControl(c))]) : value;
        return clean.Length <= EventRules.MaxLabelLength ? clean : clean[..EventRules.MaxLabelLength];
    }

    private static string Cut(string value) => value.Length <= MaxTextLength ? value : string.Concat(value.AsSpan(0, MaxTextLength), "…");

    private static string Hash(string text) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));

    /// <summary>A write's change.</summary>
    /// <param name="Kind">created, deleted or updated.</param>
    /// <param name="Changed">The changed fields of an update.</param>
    /// <param name="Hash">A hash of both records.</param>
    /// <param name="FlagChanged">Whether the pause/enable flag changed.</param>
    private readonly record struct Change(string Kind, IReadOnlyList<string> Changed, string Hash, bool FlagChanged)
    {
        public string Verb(bool flag, string on, string off) => FlagChanged ? (flag ? on : off) : Kind;
    }
}
