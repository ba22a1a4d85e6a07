using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Xml;
using Flow.Engine;
using Flow.Engine.Execution;
using Flow.ControlPlane.Scheduling;
using Flow.Engine.Storage;

namespace Flow.ControlPlane;

/// <summary>
/// Checks deployments and work pools as written (specs) and builds the records to store: names, entrypoints, pools,
/// schedules (cron, time zones, intervals), parameters against the flow's input type, tags. Every error is collected and
/// named by its field, so a request is refused whole before anything is written.
/// </summary>
/// <param name="engine">The engine whose registry knows the flows' input types.</param>
internal sealed class DeploymentValidator(FlowEngine engine)
{
    private const int MaxTags = 50;
    private const string IntervalTooLong = "must be at most 3650 days (ten years)";
    private static readonly TimeSpan MaxInterval = TimeSpan.FromDays(3650);

    /// <summary>Checks a pool's name and spec (not its type against a stored pool); returns its type.</summary>
    internal static string ValidatePool(string name, WorkPoolSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var errors = new ErrorList();
        if (!ControlNames.IsValidPoolName(name))
        {
            errors.Add("name", "must be 1-40 lowercase letters, digits and '-', starting with a letter or digit");
        }

        var type = spec.Type ?? WorkPoolRecord.InAppType;
        if (type is not WorkPoolRecord.InAppType and not WorkPoolRecord.ProcessType)
        {
            errors.Add("type", $"must be '{WorkPoolRecord.InAppType}' or '{WorkPoolRecord.ProcessType}', not '{type}'");
        }

        if (spec.ConcurrencyLimit is < 1 or > 10_000)
        {
            errors.Add("concurrencyLimit", "must be 1-10000, or null for no limit");
        }

        if (spec.Description is { Length: > 2000 })
        {
            errors.Add("description", "must be at most 2000 characters");
        }

        if (spec.AllowedCommands is { } allowed && allowed.Any(string.IsNullOrWhiteSpace))
        {
            errors.Add("allowedCommands", "must not contain empty entries");
        }

        errors.ThrowIfAny();
        return type;
    }

    internal static void ValidatePoolName(string name)
    {
        if (!ControlNames.IsValidPoolName(name))
        {
            throw new InvalidRequestException("name", "must be 1-40 lowercase letters, digits and '-', starting with a letter or digit");
        }
    }

    internal static void ValidateDeploymentName(string name)
    {
        var slash = name?.IndexOf('/', StringComparison.Ordinal) ?? -1;
        if (name is null || slash < 0 || !ControlNames.IsValidNamePart(name[..slash]) || !ControlNames.IsValidNamePart(name[(slash + 1)..]))
        {
            throw new InvalidRequestException("name", $"'{name}' is not a deployment name: expected flow-name/deployment-name, each 1-100 letters, digits, '-', '_' and '.'");
        }
    }

    internal DeploymentRecord Build(DeploymentSpec spec, string source, DeploymentRecord? existing, IReadOnlyList<WorkPoolRecord> pools, DateTimeOffset now)
    {
        var errors = new ErrorList();
        if (!ControlNames.IsValidNamePart(spec.Flow))
        {
            errors.Add("flow", spec.Flow is null ? "is required" : "must be 1-100 letters, digits, '-', '_' and '.'");
        }

        if (!ControlNames.IsValidNamePart(spec.Name))
        {
            errors.Add("name", spec.Name is null ? "is required" : "must be 1-100 letters, digits, '-', '_' and '.'");
        }

        var entry = spec.Entrypoint ?? new EntrypointSpec();
        var kind = entry.Kind ?? DeploymentEntrypoint.FlowKind;
        Type? inputType = null;
        if (kind == DeploymentEntrypoint.FlowKind)
        {
            if (entry.Command is not null || entry.WorkingDirectory is not null || entry.Environment is not null || entry.Retries is not null || entry.RetryDelaySeconds is not null || entry.TimeoutSeconds is not null)
            {
                errors.Add("entrypoint", "command, workingDirectory, environment, retries, retryDelaySeconds and timeoutSeconds belong to a process entrypoint (kind: process)");
            }

            if (spec.Flow is { } flowName && ControlNames.IsValidNamePart(flowName))
            {
                if (engine.Registry.TryGetFlow(flowName, out var flow))
                {
                    inputType = flow.InputType;
                }
                else
                {
                    errors.Add("flow", $"no flow named '{flowName}' is registered in this app (registered: {string.Join(", ", engine.Registry.Flows.Select(f => f.Name).Order(StringComparer.Ordinal))})");
                }
            }
        }
        else if (kind == DeploymentEntrypoint.ProcessKind)
        {
            if (entry.Command is not { Count: > 0 } || string.IsNullOrWhiteSpace(entry.Command[0]))
            {
                errors.Add("entrypoint.command", "a process entrypoint needs a command: an argv array whose first element is the executable");
            }
            else if (entry.Command.Any(a => a is null || a.Contains('\0', StringComparison.Ordinal)))
            {
                errors.Add("entrypoint.command", "arguments must not be null or contain NUL characters");
            }

            if (entry.Environment is { } env && env.Keys.Any(k => k.Length == 0 || k.Contains('=', StringComparison.Ordinal) || k.Contains('\0', StringComparison.Ordinal)))
            {
                errors.Add("entrypoint.environment", "variable names must be non-empty and contain no '=' or NUL");
            }

            foreach (var variable in entry.Environment?.Keys ?? Enumerable.Empty<string>())
            {
                if (ProcessEnvironmentPolicy.RefusalForDeployment(variable) is { } refused)
                {
                    errors.Add("entrypoint.environment." + variable, refused);
                }
            }

            if (entry.Retries is < 0 or > 100)
            {
                errors.Add("entrypoint.retries", "must be 0-100");
            }

            if (entry.RetryDelaySeconds is < 0 or > 86_400)
            {
                errors.Add("entrypoint.retryDelaySeconds", "must be 0-86400");
            }

            if (entry.TimeoutSeconds is < 1 or > 604_800)
            {
                errors.Add("entrypoint.timeoutSeconds", "must be 1-604800, or null for no limit");
            }
        }
        else
        {
            errors.Add("entrypoint.kind", $"must be '{DeploymentEntrypoint.FlowKind}' or '{DeploymentEntrypoint.ProcessKind}', not '{kind}'");
        }

        var poolName = spec.Pool ?? ControlNames.DefaultPool;
        var pool = pools.FirstOrDefault(p => p.Name == poolName);
        if (pool is null)
        {
            errors.Add("pool", $"work pool '{poolName}' does not exist (pools: {string.Join(", ", pools.Select(p => p.Name))})");
        }
        else if (kind == DeploymentEntrypoint.FlowKind && pool.Type != WorkPoolRecord.InAppType)
        {
            errors.Add("pool", $"an in-app flow needs an in-app pool; '{poolName}' is a {pool.Type} pool");
        }
        else if (kind == DeploymentEntrypoint.ProcessKind && pool.Type != WorkPoolRecord.ProcessType)
        {
            errors.Add("pool", $"a process entrypoint needs a process pool; '{poolName}' is a {pool.Type} pool");
        }
        else if (kind == DeploymentEntrypoint.ProcessKind && pool.AllowedCommands is { } allowed && entry.Command is [var exe, ..] && !allowed.Contains(exe, StringComparer.Ordinal))
        {
            errors.Add("entrypoint.command", $"'{exe}' is not among the executables pool '{poolName}' allows ({string.Join(", ", allowed)})");
        }

        var parameters = MergeObjects(errors, "parameters", null, spec.Parameters);
        var tags = MergeTags(errors, FlowRunRecord.EmptyTags, spec.Tags);
        if (spec.ConcurrencyLimit is < 1 or > 10_000)
        {
            errors.Add("concurrencyLimit", "must be 1-10000, or null for no limit");
        }

        var collision = spec.CollisionStrategy switch
        {
            null or "enqueue" => CollisionStrategy.Enqueue,
            "cancel-new" => CollisionStrategy.CancelNew,
            var other => Invalid(errors, "collisionStrategy", $"must be 'enqueue' or 'cancel-new', not '{other}'"),
        };
        if (spec.Description is { Length: > 2000 })
        {
            errors.Add("description", "must be at most 2000 characters");
        }

        if (spec.Version is { Length: > 200 })
        {
            errors.Add("version", "must be at most 200 characters");
        }

        var schedules = new List<DeploymentSchedule>();
        var specs = spec.Schedules ?? [];
        if (specs.Count > 20)
        {
            errors.Add("schedules", "at most 20 schedules per deployment");
        }

        for (var i = 0; i < specs.Count; i++)
        {
            var schedule = specs[i] is { } scheduleSpec ? BuildSchedule(errors, $"schedules[{i}]", scheduleSpec, i, now) : Invalid(errors, $"schedules[{i}]", "must be a schedule, not null", (DeploymentSchedule?)null);
            if (schedule is null)
            {
                continue;
            }

            if (schedules.Any(s => s.Id == schedule.Id))
            {
                errors.Add($"schedules[{i}].id", $"'{schedule.Id}' is used by another schedule of this deployment");
            }

            // The parameters each schedule's runs will get must fit the flow.
            var merged = MergeObjects(errors, $"schedules[{i}].parameters", parameters, specs[i].Parameters);
            if (inputType is not null && !errors.Any)
            {
                CheckParameters(errors, $"schedules[{i}].parameters", merged, inputType);
            }

            schedules.Add(schedule with { Parameters = specs[i].Parameters is { ValueKind: JsonValueKind.Object } p ? p.GetRawText() : null });
        }

        // Parameters given must fit the flow, required fields included (parameters.name: required). A deployment without
        // parameters and schedules may leave required fields to each trigger, which must then give them.
        if (inputType is not null && !errors.Any && specs.Count == 0 && parameters is not null)
        {
            CheckParameters(errors, "parameters", parameters, inputType);
        }

        errors.ThrowIfAny();
        return new DeploymentRecord
        {
            Name = ControlNames.Deployment(spec.Flow!, spec.Name!),
            FlowName = spec.Flow!,
            Entrypoint = new DeploymentEntrypoint
            {
                Kind = kind,
                Command = entry.Command,
                WorkingDirectory = entry.WorkingDirectory,
                Environment = entry.Environment,
                Retries = entry.Retries ?? 0,
                RetryDelaySeconds = entry.RetryDelaySeconds,
                TimeoutSeconds = entry.TimeoutSeconds,
            },
            Pool = poolName,
            Parameters = parameters,
            Tags = tags,
            Version = spec.Version,
            Description = spec.Description,
            Paused = spec.Paused ?? existing?.Paused ?? false,
            ConcurrencyLimit = spec.ConcurrencyLimit,
            CollisionStrategy = collision,
            Schedules = schedules,
            Source = source,
            CreatedAt = existing?.CreatedAt ?? now,
            UpdatedAt = now,
        };
    }

    private static CollisionStrategy Invalid(ErrorList errors, string field, string message) => Invalid(errors, field, message, CollisionStrategy.Enqueue);

    private static T Invalid<T>(ErrorList errors, string field, string message, T fallback)
    {
        errors.Add(field, message);
        return fallback;
    }

    private static DeploymentSchedule? BuildSchedule(ErrorList errors, string path, ScheduleSpec spec, int index, DateTimeOffset now)
    {
        var id = spec.Id ?? "s" + index.ToString(CultureInfo.InvariantCulture);
        var ok = true;
        if (!ControlNames.IsValidScheduleId(id))
        {
            errors.Add(path + ".id", "must be 1-40 letters, digits, '-' and '_'");
            ok = false;
        }

        if ((spec.Cron is null) == (spec.Interval is null))
        {
            errors.Add(path, "give exactly one of cron and interval");
            return null;
        }

        TimeSpan? interval = null;
        if (spec.Interval is { } value)
        {
            interval = ParseInterval(value, out var error);
            if (error is not null)
            {
                errors.Add(path + ".interval", error);
                ok = false;
            }
        }

        if (spec.Cron is not null && spec.Anchor is not null)
        {
            errors.Add(path + ".anchor", "an anchor belongs to an interval schedule");
            ok = false;
        }

        if (spec.Parameters is { } p && p.ValueKind is not JsonValueKind.Object and not JsonValueKind.Null)
        {
            errors.Add(path + ".parameters", $"must be a JSON object, not {p.ValueKind}");
            ok = false;
        }

        var schedule = new DeploymentSchedule
        {
            Id = id,
            Cron = spec.Cron,
            TimeZone = spec.Timezone,
            Interval = interval,
            Anchor = spec.Anchor is { } anchor ? StorageContract.NormalizeTime(anchor) : null,
            Active = spec.Active ?? true,
        };
        if (spec.Timezone is { } zone && !TimeZones.TryFind(zone, out _, out var zoneError))
        {
            errors.Add(path + ".timezone", zoneError ?? $"unknown time zone '{zone}'");
            return null;
        }

        if (!ok)
        {
            return null;
        }

        try
        {
            // A rule that never fires (0 0 30 2 *) is a mistake, not a schedule: refuse it, naming the field.
            var rule = ScheduleRules.Build(schedule);
            if (spec.Cron is not null && rule.GetNextOccurrence(now) is null)
            {
                errors.Add(path + ".cron", $"'{spec.Cron}' never fires: it has no occurrence in the next {(int)(ScheduleRule.NextOccurrenceHorizon.TotalDays / 365)} years");
                return null;
            }
        }
        catch (Exception e) when (e is FormatException or ArgumentException)
        {
            errors.Add(path + (spec.Cron is not null ? ".cron" : ".interval"), e.Message);
            return null;
        }

        return schedule;
    }

    private static TimeSpan? ParseInterval(JsonElement value, out string? error)
    {
        error = null;
        TimeSpan? span = null;
        if (value.ValueKind == JsonValueKind.Number && value.TryGetDouble(out var seconds) && double.IsFinite(seconds))
        {
            if (seconds > MaxInterval.TotalSeconds)
            {
                error = IntervalTooLong;
                return null;
            }

            span = TimeSpan.FromSeconds(seconds);
        }
        else if (value.ValueKind == JsonValueKind.String && value.GetString() is { Length: > 0 } text)
        {
            if (text.StartsWith('P'))
            {
                try
                {
                    span = XmlConvert.ToTimeSpan(text);
                }
                catch (FormatException)
                {
                }
                catch (OverflowException)
                {
                    error = IntervalTooLong;
                    return null;
                }
            }
            else if (TimeSpan.TryParse(text, CultureInfo.InvariantCulture, out var parsed))
            {
                span = parsed;
            }
        }

        if (span is null)
        {
            error = "must be seconds (a number) or a duration such as \"PT15M\" or \"00:15:00\"";
        }
        else if (span < TimeSpan.FromSeconds(1))
        {
            error = "must be at least 1 second";
            span = null;
        }
        else if (span > MaxInterval)
        {
            error = IntervalTooLong;
            span = null;
        }

        return span;
    }

    private void CheckParameters(ErrorList errors, string path, string? parameters, Type inputType)
    {
        try
        {
            engine.CheckParameters(parameters, inputType);
        }
        catch (FlowParameterException e)
        {
            foreach (var (field, messages) in ParameterErrors(path, e).Errors)
            {
                foreach (var message in messages)
                {
                    errors.Add(field, message);
                }
            }
        }
    }

    internal static InvalidRequestException ParameterErrors(string path, FlowParameterException e)
    {
        var errors = new ErrorList();
        foreach (var error in e.Errors.Count > 0 ? e.Errors : [e.Message])
        {
            var colon = error.IndexOf(": ", StringComparison.Ordinal);
            var field = colon > 0 ? error[..colon] : "(root)";
            errors.Add(field == "(root)" ? path : path + "." + field, colon > 0 ? error[(colon + 2)..] : error);
        }

        return new InvalidRequestException(errors.ToDictionary());
    }

    internal static string? MergeObjects(ErrorList errors, string path, string? baseObject, JsonElement? overlay)
    {
        if (overlay is not { } value || value.ValueKind == JsonValueKind.Null || value.ValueKind == JsonValueKind.Undefined)
        {
            return baseObject;
        }

        if (value.ValueKind != JsonValueKind.Object)
        {
            errors.Add(path, $"must be a JSON object, not {value.ValueKind}");
            return baseObject;
        }

        var merged = baseObject is null ? new JsonObject() : JsonNode.Parse(baseObject)!.AsObject();
        foreach (var property in value.EnumerateObject())
        {
            merged[property.Name] = JsonNode.Parse(property.Value.GetRawText());
        }

        return merged.ToJsonString();
    }

    internal static IReadOnlyDictionary<string, string> MergeTags(ErrorList errors, IReadOnlyDictionary<string, string> baseTags, IReadOnlyDictionary<string, string>? overlay)
    {
        var tags = new Dictionary<string, string>(baseTags, StringComparer.Ordinal);
        foreach (var (k, v) in overlay ?? new Dictionary<string, string>())
        {
            if (k.Length is 0 or > 100 || k.Any(char.IsControl) || v is null || v.Length > 1000 || v.Any(char.IsControl))
            {
                errors.Add("tags", $"tag '{k}': keys must be 1-100 and values at most 1000 characters, without control characters");
                continue;
            }

            tags[k] = v;
        }

        if (tags.Count > MaxTags)
        {
            errors.Add("tags", $"at most {MaxTags} tags");
        }

        return tags;
    }
}
