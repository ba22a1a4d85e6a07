using System.Globalization;
using Flow.ControlPlane.Automations;
using Flow.Engine.Events;
using Flow.Engine.Storage;

namespace Flow.ControlPlane;

/// <summary>The events of automations and their firings.</summary>
public static partial class ControlEvents
{
    private const int MaxTriggerEvents = 20;

    /// <summary>The event of an automation write: <c>automation.created</c>, <c>.deleted</c>, <c>.enabled</c>/<c>.disabled</c>
    /// (the enabled flag changed) or <c>.updated</c>; null when nothing but the update time changed.</summary>
    /// <param name="before">The stored automation before the write (normalized), or null.</param>
    /// <param name="after">The automation written (normalized), or null for a deletion.</param>
    /// <param name="now">The store's time, for a deletion.</param>
    /// <returns>The event, or null.</returns>
    public static FlowEvent? ForAutomation(AutomationRecord? before, AutomationRecord? after, DateTimeOffset now)
    {
        var current = after ?? before;
        if (current is null || Diff(before, after, "enabled") is not { } change)
        {
            return null;
        }

        var labels = Labels(("automation", current.Name), ("enabled", current.Enabled ? "true" : "false"));
        var payload = Payload(change.Changed, w =>
        {
            w.WriteString("automation", current.Name);
            w.WriteBoolean("enabled", current.Enabled);
        });
        return Make(AutomationResource(current.Name), "automation", change.Verb(current.Enabled, "enabled", "disabled"), change.Hash, Time(after?.UpdatedAt, now), labels, [], payload);
    }

    /// <summary>
    /// The events of a firing write: <c>automation.triggered</c> when the firing is created (id <c>{firing id}.triggered</c>,
    /// related: the triggering event's resource), and one <c>automation.action.succeeded</c> or <c>automation.action.failed</c>
    /// per action whose outcome the write settles (id <c>{firing id}.a{index}.{outcome}</c>, related: the triggering resource
    /// and, for a run it started or acted on, <c>flow-run/{id}</c>). Every event is about <c>automation/{name}</c>, so the
    /// automation's own trigger never matches it (<see cref="IsCausedBy"/>).
    /// </summary>
    /// <param name="before">The stored firing before the write, or null.</param>
    /// <param name="after">The firing written (normalized).</param>
    /// <returns>The events, possibly none.</returns>
    public static IReadOnlyList<FlowEvent> ForFiring(AutomationFiring? before, AutomationFiring after)
    {
        ArgumentNullException.ThrowIfNull(after);
        var resource = AutomationResource(after.Automation);
        var labels = Labels(("automation", after.Automation), ("firing", after.Id));
        var related = new List<EventResource>();
        if (after.Event is { } trigger)
        {
            related.Add(new EventResource(trigger.Resource.Id, "trigger"));
        }

        var events = new List<FlowEvent>();
        if (before is null)
        {
            events.Add(new FlowEvent
            {
                Id = after.Id + ".triggered",
                OccurredAt = StorageContract.NormalizeTime(after.FiredAt),
                Kind = "automation.triggered",
                Resource = new EventResource(resource, null, labels),
                Related = related,
                Payload = Payload(null, w =>
                {
                    w.WriteString("firing", after.Id);
                    w.WriteString("reason", Cut(after.Reason));
                    if (after.Key is { } key)
                    {
                        w.WriteString("key", Cut(key));
                    }

                    w.WriteStartArray("eventIds");
                    foreach (var id in after.EventIds.Take(MaxTriggerEvents))
                    {
                        w.WriteStringValue(id);
                    }

                    w.WriteEndArray();
                }),
            });
        }

        foreach (var action in after.Actions)
        {
            var was = before?.Actions.FirstOrDefault(a => a.Index == action.Index)?.Status ?? AutomationFiring.Pending;
            if (action.Status == was || action.Status == AutomationFiring.Pending)
            {
                continue;
            }

            var outcome = action.Status == AutomationFiring.Succeeded ? "succeeded" : "failed";
            var acted = new List<EventResource>(related);
            if (action.Result is { } result && action.Type == AutomationActionTypes.RunDeployment && result.Length <= 200)
            {
                acted.Add(new EventResource("flow-run/" + result, "run"));
            }

            var last = action.Attempts.Count > 0 ? action.Attempts[^1] : null;
            events.Add(new FlowEvent
            {
                Id = string.Create(CultureInfo.InvariantCulture, $"{after.Id}.a{action.Index}.{outcome}"),
                OccurredAt = StorageContract.NormalizeTime(last?.At ?? after.FiredAt),
                Kind = "automation.action." + outcome,
                Resource = new EventResource(resource, null, labels),
                Related = acted,
                Payload = Payload(null, w =>
                {
                    w.WriteString("firing", after.Id);
                    w.WriteNumber("action", action.Index);
                    w.WriteString("type", action.Type);
                    if (action.Result is { } r)
                    {
                        w.WriteString("result", Cut(r));
                    }

                    if (last?.Detail is { } detail)
                    {
                        w.WriteString("detail", Cut(detail));
                    }

                    if (last?.StatusCode is { } status)
                    {
                        w.WriteNumber("statusCode", status);
                    }

                    w.WriteNumber("attempts", action.Attempts.Count);
                }),
            });
        }

        return events;
    }
}
