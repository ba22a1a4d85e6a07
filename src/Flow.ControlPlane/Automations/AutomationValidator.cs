using System.Text.Json;
using System.Text.Json.Nodes;
using Flow.ControlPlane.Secrets;
using Flow.ControlPlane.Templates;

namespace Flow.ControlPlane.Automations;

/// <summary>
/// Checks an <see cref="AutomationSpec"/> completely and names every wrong field JSON-path style (<c>trigger.within</c>,
/// <c>actions[1].url</c>), so one answer lists all that must change.
/// </summary>
public static class AutomationValidator
{
    /// <summary>The most actions of an automation.</summary>
    public const int MaxActions = 10;

    /// <summary>The longest window: 30 days.</summary>
    public const double MaxWithinSeconds = 30 * 24 * 3600;

    /// <summary>The highest threshold.</summary>
    public const int MaxThreshold = 1000;

    /// <summary>The most patterns in a list, and the most match entries.</summary>
    public const int MaxPatterns = 20;

    /// <summary>The run states change-run-state can set.</summary>
    public static IReadOnlyList<string> SettableStates { get; } = ["Crashed", "Cancelled"];

    /// <summary>Checks <paramref name="spec"/> and returns the trigger and actions as stored.</summary>
    /// <param name="name">The automation's name (from the URL or the file).</param>
    /// <param name="spec">The automation.</param>
    /// <param name="queuesAvailable">Whether this backend has Azure queues (queue-message is refused otherwise).</param>
    /// <returns>The validated trigger (posture and threshold filled in) and actions.</returns>
    /// <exception cref="InvalidRequestException">Something is wrong; every wrong field is named.</exception>
    public static (AutomationTrigger Trigger, IReadOnlyList<AutomationAction> Actions) Validate(string? name, AutomationSpec spec, bool queuesAvailable)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var errors = new ErrorList();
        if (name is null || name.Length is 0 or > ControlStoreContract.MaxAutomationNameLength || !name.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.'))
        {
            errors.Add("name", name is null ? "is required" : $"must be 1-{ControlStoreContract.MaxAutomationNameLength} ASCII letters, digits, '-', '_' and '.'");
        }

        if (spec.Description is { Length: > 2000 })
        {
            errors.Add("description", "must be at most 2000 characters");
        }

        var trigger = ValidateTrigger(errors, spec.Trigger);
        var actions = spec.Actions ?? [];
        if (spec.Actions is null || actions.Count == 0)
        {
            errors.Add("actions", "must list 1-" + MaxActions + " actions");
        }
        else if (actions.Count > MaxActions)
        {
            errors.Add("actions", $"has {actions.Count} actions; at most {MaxActions} are allowed");
        }

        for (var i = 0; i < actions.Count; i++)
        {
            ValidateAction(errors, $"actions[{i}]", actions[i], queuesAvailable);
        }

        errors.ThrowIfAny();
        return (trigger!, [.. actions]);
    }

    private static AutomationTrigger? ValidateTrigger(ErrorList errors, AutomationTrigger? trigger)
    {
        if (trigger is null)
        {
            errors.Add("trigger", "is required");
            return null;
        }

        var posture = trigger.Posture ?? AutomationTrigger.Reactive;
        if (posture is not (AutomationTrigger.Reactive or AutomationTrigger.Proactive))
        {
            errors.Add("trigger.posture", $"must be '{AutomationTrigger.Reactive}' or '{AutomationTrigger.Proactive}', not '{posture}'");
        }

        Patterns(errors, "trigger.expect", trigger.Expect, required: true);
        if (trigger.After is not null)
        {
            if (posture != AutomationTrigger.Proactive)
            {
                errors.Add("trigger.after", "belongs to a proactive trigger (posture: proactive)");
            }

            Patterns(errors, "trigger.after", trigger.After, required: true);
        }

        if (trigger.Match is { } match)
        {
            if (match.Count > MaxPatterns)
            {
                errors.Add("trigger.match", $"must have at most {MaxPatterns} entries");
            }

            foreach (var (key, pattern) in match)
            {
                if (string.IsNullOrWhiteSpace(key) || key.Length > 256)
                {
                    errors.Add("trigger.match", "has an empty or too long label name");
                }

                Pattern(errors, $"trigger.match.{key}", pattern);
            }
        }

        if (trigger.MatchRelated is { } related)
        {
            if (related.Count > MaxPatterns)
            {
                errors.Add("trigger.matchRelated", $"must have at most {MaxPatterns} entries");
            }

            for (var i = 0; i < related.Count; i++)
            {
                if (related[i] is null)
                {
                    errors.Add($"trigger.matchRelated[{i}]", "is null");
                    continue;
                }

                if (related[i].Role is { } role)
                {
                    Pattern(errors, $"trigger.matchRelated[{i}].role", role);
                }

                if (related[i].Id is { } id)
                {
                    Pattern(errors, $"trigger.matchRelated[{i}].id", id);
                }
                else if (related[i].Role is null)
                {
                    errors.Add($"trigger.matchRelated[{i}]", "needs a role, an id pattern or both");
                }
            }
        }

        if (trigger.ForEach is { } forEach && (string.IsNullOrWhiteSpace(forEach) || forEach.Length > 256))
        {
            errors.Add("trigger.forEach", "must be a label name of 1-256 characters");
        }

        var threshold = trigger.Threshold ?? 1;
        if (threshold is < 1 or > MaxThreshold)
        {
            errors.Add("trigger.threshold", $"must be 1-{MaxThreshold}");
        }
        else if (posture == AutomationTrigger.Proactive && threshold != 1)
        {
            errors.Add("trigger.threshold", "belongs to a reactive trigger; a proactive one waits for one expected event");
        }

        if (trigger.Within is { } within && (!double.IsFinite(within) || within < 1 || within > MaxWithinSeconds))
        {
            errors.Add("trigger.within", $"must be 1-{MaxWithinSeconds:0} seconds");
        }
        else if (trigger.Within is null && (posture == AutomationTrigger.Proactive || threshold > 1))
        {
            errors.Add("trigger.within", posture == AutomationTrigger.Proactive ? "is required: how long to wait for the expected event, in seconds" : "is required with a threshold above 1: the window in seconds");
        }

        return trigger with { Posture = posture, Threshold = threshold };
    }

    private static void ValidateAction(ErrorList errors, string path, AutomationAction? action, bool queuesAvailable)
    {
        if (action is null)
        {
            errors.Add(path, "is null");
            return;
        }

        var type = action.Type;
        if (type is null || !AutomationActionTypes.All.Contains(type))
        {
            errors.Add(path + ".type", type is null ? "is required" : $"'{type}' is not an action; use one of {string.Join(", ", AutomationActionTypes.All)}");
            return;
        }

        var allowed = type switch
        {
            AutomationActionTypes.RunDeployment => new[] { "deployment", "parameters" },
            AutomationActionTypes.PauseDeployment or AutomationActionTypes.ResumeDeployment => ["deployment"],
            AutomationActionTypes.PausePool or AutomationActionTypes.ResumePool => ["pool"],
            AutomationActionTypes.CancelRun => ["runId", "message"],
            AutomationActionTypes.ChangeRunState => ["runId", "state", "message"],
            AutomationActionTypes.SendEvent => ["kind", "resource", "body"],
            AutomationActionTypes.CallWebhook => ["url", "body", "secret", "maxAttempts"],
            _ => ["queue", "body"],
        };
        foreach (var (field, present) in Fields(action))
        {
            if (present && !allowed.Contains(field))
            {
                errors.Add($"{path}.{field}", $"does not belong to a {type} action (it takes {string.Join(", ", allowed)})");
            }
        }

        Template(errors, path + ".parameters", action.Parameters);
        Template(errors, path + ".body", action.Body);
        switch (type)
        {
            case AutomationActionTypes.RunDeployment or AutomationActionTypes.PauseDeployment or AutomationActionTypes.ResumeDeployment:
                Text(errors, $"{path}.deployment", action.Deployment, required: true);
                if (action.Deployment is { } d && !d.Contains("{{", StringComparison.Ordinal) && !IsDeploymentName(d))
                {
                    errors.Add($"{path}.deployment", "must be flow/name (or a template)");
                }

                if (action.Parameters is { } parameters && parameters.ValueKind != JsonValueKind.Object)
                {
                    errors.Add($"{path}.parameters", "must be a JSON object");
                }

                break;
            case AutomationActionTypes.PausePool or AutomationActionTypes.ResumePool:
                Text(errors, $"{path}.pool", action.Pool, required: true);
                break;
            case AutomationActionTypes.CancelRun:
                Text(errors, $"{path}.runId", action.RunId, required: false);
                Text(errors, $"{path}.message", action.Message, required: false);
                break;
            case AutomationActionTypes.ChangeRunState:
                Text(errors, $"{path}.runId", action.RunId, required: false);
                Text(errors, $"{path}.message", action.Message, required: false);
                if (action.State is null || !SettableStates.Contains(action.State))
                {
                    errors.Add($"{path}.state", $"must be one of {string.Join(", ", SettableStates)}");
                }

                break;
            case AutomationActionTypes.SendEvent:
                Text(errors, $"{path}.kind", action.Kind, required: true);
                Text(errors, $"{path}.resource", action.Resource, required: false);
                if (action.Body is { } payload && payload.ValueKind != JsonValueKind.Object)
                {
                    errors.Add($"{path}.body", "must be a JSON object (the event's payload)");
                }

                break;
            case AutomationActionTypes.CallWebhook:
                if (action.Url is null || !Uri.TryCreate(action.Url, UriKind.Absolute, out var url) || url.Scheme is not ("http" or "https"))
                {
                    errors.Add($"{path}.url", action.Url is null ? "is required" : "must be an absolute http or https URL");
                }

                if (action.Secret is { } secret && !SecretNames.IsValid(secret))
                {
                    errors.Add($"{path}.secret", $"must be a secret name (1-{SecretNames.MaxLength} ASCII letters, digits, '-' and '_'), configured as Flow:Secrets:{{name}}");
                }

                if (action.MaxAttempts is < 1 or > 20)
                {
                    errors.Add($"{path}.maxAttempts", "must be 1-20");
                }

                break;
            case AutomationActionTypes.QueueMessage:
                if (!queuesAvailable)
                {
                    errors.Add($"{path}.type", "queue-message needs Azure Storage queues; this app's storage backend (Flow:Storage:Backend) has none — use call-webhook or send-event");
                }

                if (action.Queue is not { } queue || queue.Length is < 3 or > 63 || !queue.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '-')
                    || queue[0] == '-' || queue[^1] == '-' || queue.Contains("--", StringComparison.Ordinal))
                {
                    errors.Add($"{path}.queue", "must be an Azure queue name: 3-63 lowercase letters, digits and single '-', not at either end");
                }

                break;
        }
    }

    private static IEnumerable<(string Field, bool Present)> Fields(AutomationAction a) =>
    [
        ("deployment", a.Deployment is not null), ("parameters", a.Parameters is not null), ("pool", a.Pool is not null),
        ("runId", a.RunId is not null), ("state", a.State is not null), ("message", a.Message is not null), ("url", a.Url is not null),
        ("body", a.Body is not null), ("secret", a.Secret is not null), ("maxAttempts", a.MaxAttempts is not null),
        ("queue", a.Queue is not null), ("kind", a.Kind is not null), ("resource", a.Resource is not null),
    ];

    private static bool IsDeploymentName(string name)
    {
        try
        {
            ControlStoreContract.ValidateDeploymentName(name);
            return true;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    private static void Patterns(ErrorList errors, string path, IReadOnlyList<string>? patterns, bool required)
    {
        if (patterns is null || patterns.Count == 0)
        {
            if (required)
            {
                errors.Add(path, "must list 1-" + MaxPatterns + " event kind patterns (e.g. flow-run.Failed, flow-run.*)");
            }

            return;
        }

        if (patterns.Count > MaxPatterns)
        {
            errors.Add(path, $"must list at most {MaxPatterns} patterns");
        }

        for (var i = 0; i < patterns.Count; i++)
        {
            Pattern(errors, $"{path}[{i}]", patterns[i]);
        }

        if (patterns.All(p => p?.StartsWith('!') == true))
        {
            errors.Add(path, "needs at least one pattern without '!' (what to expect, not only what to leave out)");
        }
    }

    private static void Pattern(ErrorList errors, string path, string? pattern)
    {
        if (string.IsNullOrEmpty(pattern) || pattern == "!" || pattern.Length > 256 || pattern.Any(char.IsControl))
        {
            errors.Add(path, "must be a pattern of 1-256 characters ('*' matches anything, a leading '!' negates)");
        }
    }

    private static void Text(ErrorList errors, string path, string? value, bool required)
    {
        if (value is null)
        {
            if (required)
            {
                errors.Add(path, "is required");
            }
        }
        else if (value.Length is 0 or > 1000 || value.Any(char.IsControl))
        {
            errors.Add(path, "must be 1-1000 characters without control characters");
        }
        else
        {
            try
            {
                EventTemplate.ValidateText(value, path);
            }
            catch (ArgumentException e)
            {
                errors.Add(path, Message(e));
            }
        }
    }

    private static void Template(ErrorList errors, string path, JsonElement? template)
    {
        if (template is not { } value)
        {
            return;
        }

        try
        {
            EventTemplate.Validate(JsonNode.Parse(value.GetRawText()), path);
        }
        catch (ArgumentException e)
        {
            errors.Add(e.ParamName ?? path, Message(e));
        }
    }

    private static string Message(ArgumentException e) =>
        e.ParamName is { } name && e.Message.EndsWith($" (Parameter '{name}')", StringComparison.Ordinal) ? e.Message[..^($" (Parameter '{name}')".Length)] : e.Message;
}
