using Flow.Engine.Events;

namespace Flow.ControlPlane.Automations;

/// <summary>
/// How triggers match events: patterns with <c>*</c> (any run of characters, also none) and a leading <c>!</c> (negation),
/// compared ordinally and case-sensitively.
/// </summary>
public static class EventPatterns
{
    /// <summary>Whether <paramref name="value"/> matches <paramref name="pattern"/> (without its <c>!</c>, if any).</summary>
    /// <param name="pattern">The pattern.</param>
    /// <param name="value">The value.</param>
    /// <returns>True when it matches.</returns>
    public static bool Glob(ReadOnlySpan<char> pattern, ReadOnlySpan<char> value)
    {
        // Iterative wildcard match with backtracking to the last '*': linear in practice, no recursion.
        int p = 0, v = 0, star = -1, mark = 0;
        while (v < value.Length)
        {
            if (p < pattern.Length && pattern[p] == '*')
            {
                star = p++;
                mark = v;
            }
            else if (p < pattern.Length && pattern[p] == value[v])
            {
                p++;
                v++;
            }
            else if (star >= 0)
            {
                p = star + 1;
                v = ++mark;
            }
            else
            {
                return false;
            }
        }

        while (p < pattern.Length && pattern[p] == '*')
        {
            p++;
        }

        return p == pattern.Length;
    }

    /// <summary>Whether a single pattern (perhaps negated) accepts <paramref name="value"/>; a missing value is accepted only by a negated pattern.</summary>
    /// <param name="pattern">The pattern.</param>
    /// <param name="value">The value, or null when missing.</param>
    /// <returns>True when accepted.</returns>
    public static bool Accepts(string pattern, string? value)
    {
        ArgumentNullException.ThrowIfNull(pattern);
        return pattern.StartsWith('!') ? value is null || !Glob(pattern.AsSpan(1), value) : value is not null && Glob(pattern, value);
    }

    /// <summary>Whether a list of patterns accepts <paramref name="value"/>: it matches one positive pattern (or there is none) and no negated one.</summary>
    /// <param name="patterns">The patterns.</param>
    /// <param name="value">The value.</param>
    /// <returns>True when accepted.</returns>
    public static bool AcceptsAny(IReadOnlyList<string> patterns, string value)
    {
        ArgumentNullException.ThrowIfNull(patterns);
        var anyPositive = false;
        var positiveMatched = false;
        foreach (var pattern in patterns)
        {
            if (pattern.StartsWith('!'))
            {
                if (Glob(pattern.AsSpan(1), value))
                {
                    return false;
                }
            }
            else
            {
                anyPositive = true;
                positiveMatched |= Glob(pattern, value);
            }
        }

        return !anyPositive || positiveMatched;
    }

    /// <summary>Whether an event's resource and related resources satisfy a trigger's <see cref="AutomationTrigger.Match"/> and
    /// <see cref="AutomationTrigger.MatchRelated"/> (the kind is checked apart).</summary>
    /// <param name="trigger">The trigger.</param>
    /// <param name="flowEvent">The event.</param>
    /// <returns>True when they do.</returns>
    public static bool MatchesResources(AutomationTrigger trigger, FlowEvent flowEvent)
    {
        ArgumentNullException.ThrowIfNull(trigger);
        ArgumentNullException.ThrowIfNull(flowEvent);
        foreach (var (key, pattern) in trigger.Match ?? new Dictionary<string, string>())
        {
            var value = key == "id" ? flowEvent.Resource.Id : flowEvent.Resource.Labels?.GetValueOrDefault(key);
            if (!Accepts(pattern, value))
            {
                return false;
            }
        }

        foreach (var related in trigger.MatchRelated ?? [])
        {
            var candidates = flowEvent.Related.Where(r => related.Role is null || Glob(related.Role, r.Role ?? string.Empty));
            var id = related.Id ?? "*";
            var ok = id.StartsWith('!')
                ? candidates.All(r => !Glob(id.AsSpan(1), r.Id))
                : candidates.Any(r => Glob(id, r.Id));
            if (!ok)
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>The value an event has for a trigger's <see cref="AutomationTrigger.ForEach"/>: the resource's id for <c>id</c>, the resource's label of that name,
    /// else the id of the first related resource with that role; empty when the trigger has no <c>forEach</c>; null when the
    /// event has no such value (it is then not counted).</summary>
    /// <param name="trigger">The trigger.</param>
    /// <param name="flowEvent">The event.</param>
    /// <returns>The value.</returns>
    public static string? ForEachValue(AutomationTrigger trigger, FlowEvent flowEvent)
    {
        ArgumentNullException.ThrowIfNull(trigger);
        ArgumentNullException.ThrowIfNull(flowEvent);
        if (trigger.ForEach is not { } label)
        {
            return string.Empty;
        }

        return label == "id" ? flowEvent.Resource.Id : flowEvent.Resource.Labels?.GetValueOrDefault(label) ?? flowEvent.Related.FirstOrDefault(r => r.Role == label)?.Id;
    }
}
