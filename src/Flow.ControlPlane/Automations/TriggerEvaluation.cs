using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Flow.Engine.Events;

namespace Flow.ControlPlane.Automations;

/// <summary>
/// The deterministic core of evaluation, with no I/O: given an automation, its state, the events read and the time, the new
/// state and the firings due. Two evaluators given the same state and events compute the same firings with the same ids,
/// which the store then creates once.
/// </summary>
internal static class TriggerEvaluation
{
    /// <summary>Applies <paramref name="events"/> and the deadlines due at <paramref name="now"/>.</summary>
    /// <param name="automation">The automation (enabled).</param>
    /// <param name="state">Its state (not changed; a new one is returned).</param>
    /// <param name="events">Events from the feed, in feed order (some may have been seen before).</param>
    /// <param name="now">The time.</param>
    /// <param name="grace">How long after a deadline to wait for late events.</param>
    /// <returns>The new state, the new firings, and whether the state changed.</returns>
    public static (AutomationState State, List<AutomationFiring> Firings, bool Changed) Apply(
        AutomationRecord automation, AutomationState state, IReadOnlyList<FlowEvent> events, DateTimeOffset now, TimeSpan grace)
    {
        var trigger = automation.Trigger;
        var fingerprint = Fingerprint(trigger);
        var changed = false;
        if (state.Fingerprint != fingerprint)
        {
            state = new AutomationState { Fingerprint = fingerprint, Pending = state.Pending };
            changed = true;
        }

        var next = new AutomationState
        {
            Fingerprint = fingerprint,
            Seen = [.. state.Seen],
            Counts = state.Counts.ToDictionary(c => c.Key, c => c.Value.ToList(), StringComparer.Ordinal),
            Waits = new Dictionary<string, AutomationWait>(state.Waits, StringComparer.Ordinal),
            Pending = [.. state.Pending],
        };
        var seen = new HashSet<string>(next.Seen, StringComparer.Ordinal);
        var firings = new List<AutomationFiring>();
        var proactive = trigger.Posture == AutomationTrigger.Proactive;
        var window = TimeSpan.FromSeconds(trigger.Within ?? 0);
        var enabledAt = automation.EnabledAt ?? automation.CreatedAt;
        if (proactive && trigger.After is null && trigger.ForEach is null && !next.Waits.ContainsKey(string.Empty))
        {
            next.Waits[string.Empty] = new AutomationWait(enabledAt, null);
            changed = true;
        }

        foreach (var e in events)
        {
            // An automation never reacts to its own events (its firings, action outcomes, changes and sent events), so an
            // action that emits an event its own trigger matches cannot make it fire forever.
            if (e.OccurredAt < enabledAt || ControlEvents.IsCausedBy(e, automation.Name) || !EventPatterns.MatchesResources(trigger, e))
            {
                continue;
            }

            var isExpected = EventPatterns.AcceptsAny(trigger.Expect!, e.Kind);
            var isAfter = trigger.After is { } after && EventPatterns.AcceptsAny(after, e.Kind);
            if ((!isExpected && !isAfter) || EventPatterns.ForEachValue(trigger, e) is not { } key)
            {
                continue;
            }

            var hash = Hash(e.Id)[..16];
            if (!seen.Add(hash))
            {
                continue; // read again after a cursor went back: counted already
            }

            next.Seen.Add(hash);
            changed = true;
            if (!proactive)
            {
                var times = next.Counts.TryGetValue(key, out var list) ? list : next.Counts[key] = [];
                times.Add(e.OccurredAt.UtcTicks);
                if (window > TimeSpan.Zero)
                {
                    times.RemoveAll(t => t <= e.OccurredAt.UtcTicks - window.Ticks);
                }

                if (times.Count >= (trigger.Threshold ?? 1))
                {
                    next.Counts.Remove(key);
                    var reason = trigger.Threshold is null or 1
                        ? $"event {e.Kind} matched"
                        : string.Create(CultureInfo.InvariantCulture, $"{trigger.Threshold} matching events within {trigger.Within} s");
                    firings.Add(NewFiring(automation, FiringId(automation.Name, "event", key, e.Id), now, reason, key, [e.Id], e));
                }
            }
            else
            {
                if (isExpected)
                {
                    if (trigger.After is null)
                    {
                        next.Waits[key] = new AutomationWait(e.OccurredAt, null); // the wait starts again from the expected event
                    }
                    else
                    {
                        next.Waits.Remove(key);
                    }
                }

                if (isAfter && !next.Waits.ContainsKey(key))
                {
                    next.Waits[key] = new AutomationWait(e.OccurredAt, e with { Payload = null });
                }
            }
        }

        if (proactive)
        {
            foreach (var (key, wait) in next.Waits.ToList())
            {
                var deadline = wait.Since + window;
                if (now < deadline + grace)
                {
                    continue;
                }

                changed = true;
                var reason = string.Create(CultureInfo.InvariantCulture, $"no {string.Join(" or ", trigger.Expect!)} within {trigger.Within} s of {(wait.After is { } a ? a.Kind + " " + a.Id : wait.Since.ToString("O", CultureInfo.InvariantCulture))}");
                if (wait.After is { } started)
                {
                    next.Waits.Remove(key);
                    firings.Add(NewFiring(automation, FiringId(automation.Name, "after", key, started.Id), now, reason, key, [started.Id], started));
                }
                else
                {
                    // "no B in W": fire once per missed window, then wait another window.
                    next.Waits[key] = new AutomationWait(deadline, null);
                    var mark = deadline.UtcTicks.ToString(CultureInfo.InvariantCulture);
                    firings.Add(NewFiring(automation, FiringId(automation.Name, "absent", key, mark), now, reason, key, [], null));
                }
            }
        }

        if (next.Seen.Count > AutomationState.MaxSeen)
        {
            next.Seen.RemoveRange(0, next.Seen.Count - AutomationState.MaxSeen);
        }

        foreach (var firing in firings.Where(f => !next.Pending.Contains(f.Id)))
        {
            next.Pending.Add(firing.Id);
        }

        return (next, firings, changed);
    }

    /// <summary>A firing id: <c>f-</c> and 32 hex digits of SHA-256 over the automation, the kind of cause, the key and the cause.</summary>
    public static string FiringId(string automation, string cause, string key, string mark) =>
        "f-" + Hash(automation + "\n" + cause + "\n" + key + "\n" + mark)[..32];

    private static AutomationFiring NewFiring(AutomationRecord automation, string id, DateTimeOffset now, string reason, string key, IReadOnlyList<string> eventIds, FlowEvent? e) => new()
    {
        Automation = automation.Name,
        Id = id,
        FiredAt = now,
        Reason = reason.Length > 1000 ? reason[..1000] : reason,
        Key = key.Length == 0 ? null : key,
        EventIds = eventIds,
        Event = e,
        Actions = [.. automation.Actions.Select((a, i) => new FiringAction { Index = i, Type = a.Type!, IdempotencyKey = $"{id}.a{i}" })],
    };

    private static string Fingerprint(AutomationTrigger trigger) => Hash(JsonSerializer.Serialize(trigger))[..16];

    private static string Hash(string text) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));
}
