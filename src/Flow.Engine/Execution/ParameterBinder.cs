using System.Reflection;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using Flow.Sdk;

namespace Flow.Engine.Execution;

/// <summary>Binds run parameters (JSON) to a flow's input type, listing every offending field instead of stopping at the first.</summary>
internal static class ParameterBinder
{
    public static object? Bind(string? json, Type type, JsonSerializerOptions options)
    {
        if (type == typeof(Unit))
        {
            return Unit.Value;
        }

        if (string.IsNullOrWhiteSpace(json))
        {
            if (IsComplex(type))
            {
                // No parameters is an empty object: fields with defaults get them, fields without are reported as required.
                json = "{}";
            }
            else if (!type.IsValueType || Nullable.GetUnderlyingType(type) is not null)
            {
                json = "null";
            }
            else
            {
                throw new FlowParameterException([$"(root): parameters are required: expected {Describe(type)}"]);
            }
        }

        JsonNode? root;
        try
        {
            root = JsonNode.Parse(json);
        }
        catch (JsonException e)
        {
            throw new FlowParameterException([$"(root): not valid JSON: {e.Message}"]);
        }

        var errors = new List<string>();
        if (root is JsonObject obj && IsComplex(type))
        {
            var properties = type.GetProperties(BindingFlags.Public | BindingFlags.Instance)
                .Where(p => p.GetIndexParameters().Length == 0 && p.GetCustomAttribute<JsonIgnoreAttribute>() is null)
                .ToList();
            foreach (var (name, value) in obj)
            {
                var property = properties.FirstOrDefault(p => Matches(p, name, options));
                if (property is null)
                {
                    errors.Add($"{name}: unknown field; {type.Name} has: {string.Join(", ", properties.Select(p => JsonName(p, options)))}");
                    continue;
                }

                try
                {
                    var bound = value is null ? null : value.Deserialize(property.PropertyType, options);
                    if (bound is null && value is null && IsNonNullable(property))
                    {
                        errors.Add($"{name}: must not be null; expected {Describe(property.PropertyType)}");
                    }
                }
                catch (Exception e) when (e is JsonException or InvalidOperationException or NotSupportedException or FormatException)
                {
                    errors.Add($"{name}: expected {Describe(property.PropertyType)} but got {Truncate(value?.ToJsonString() ?? "null")}");
                }
            }

            var constructorRequired = RequiredConstructorParameters(type);
            foreach (var property in properties.Where(p => IsRequired(p) || constructorRequired.Contains(p.Name)))
            {
                if (!obj.Any(kv => Matches(property, kv.Key, options)))
                {
                    errors.Add($"{JsonName(property, options)}: required");
                }
            }
        }

        if (errors.Count > 0)
        {
            throw new FlowParameterException(errors);
        }

        try
        {
            return JsonSerializer.Deserialize(json, type, options);
        }
        catch (JsonException e)
        {
            throw new FlowParameterException([$"{(string.IsNullOrEmpty(e.Path) || e.Path == "$" ? "(root)" : e.Path.TrimStart('$', '.'))}: {e.Message}"]);
        }
    }

    private static bool IsComplex(Type type) =>
        type.IsClass && type != typeof(string) && !typeof(System.Collections.IEnumerable).IsAssignableFrom(type) && type != typeof(JsonElement) && !typeof(JsonNode).IsAssignableFrom(type);

    private static bool Matches(PropertyInfo property, string name, JsonSerializerOptions options) =>
        string.Equals(JsonName(property, options), name, options.PropertyNameCaseInsensitive ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal);

    private static string JsonName(PropertyInfo property, JsonSerializerOptions options) =>
        property.GetCustomAttribute<JsonPropertyNameAttribute>()?.Name ?? options.PropertyNamingPolicy?.ConvertName(property.Name) ?? property.Name;

    private static bool IsRequired(PropertyInfo property) =>
        property.GetCustomAttribute<JsonRequiredAttribute>() is not null
        || property.GetCustomAttribute<System.Runtime.CompilerServices.RequiredMemberAttribute>() is not null;

    /// <summary>
    /// The properties set by constructor parameters without a default value (a record's <c>HelloInput(string Name)</c>): the
    /// serializer would pass null or 0 for a missing one, so they are required. The constructor is the one the serializer uses:
    /// marked [JsonConstructor], or the only public one with parameters when there is no parameterless one.
    /// </summary>
    private static HashSet<string> RequiredConstructorParameters(Type type)
    {
        var constructors = type.GetConstructors(BindingFlags.Public | BindingFlags.Instance);
        var chosen = constructors.FirstOrDefault(c => c.GetCustomAttribute<JsonConstructorAttribute>() is not null)
            ?? (constructors.Any(c => c.GetParameters().Length == 0) ? null : constructors.Where(c => c.GetParameters().Length > 0).Take(2).ToList() is [var only] ? only : null);
        return chosen is null
            ? []
            : chosen.GetParameters().Where(p => !p.HasDefaultValue && !p.IsOptional && p.Name is not null)
                .Select(p => type.GetProperty(p.Name!, BindingFlags.Public | BindingFlags.Instance | BindingFlags.IgnoreCase)?.Name)
                .OfType<string>()
                .ToHashSet(StringComparer.Ordinal);
    }

    private static bool IsNonNullable(PropertyInfo property)
    {
        if (property.PropertyType.IsValueType)
        {
            return Nullable.GetUnderlyingType(property.PropertyType) is null;
        }

        return new NullabilityInfoContext().Create(property).WriteState == NullabilityState.NotNull;
    }

    private static string Describe(Type type)
    {
        var underlying = Nullable.GetUnderlyingType(type);
        return underlying is not null ? Describe(underlying) + " or null" : type.IsGenericType ? type.Name[..type.Name.IndexOf('`', StringComparison.Ordinal)] + "<" + string.Join(", ", type.GetGenericArguments().Select(Describe)) + ">" : type.Name;
    }

    private static string Truncate(string s) => s.Length <= 60 ? s : s[..57] + "...";
}

/// <summary>Run parameters that do not bind to the flow's input type; <see cref="Errors"/> lists every offending field.</summary>
public sealed class FlowParameterException : FlowException
{
    /// <summary>Creates the exception.</summary>
    public FlowParameterException()
        : this(["(root): invalid parameters"])
    {
    }

    /// <summary>Creates the exception.</summary>
    /// <param name="message">What went wrong.</param>
    public FlowParameterException(string message)
        : this([message])
    {
    }

    /// <summary>Creates the exception.</summary>
    /// <param name="message">What went wrong.</param>
    /// <param name="innerException">The cause.</param>
    public FlowParameterException(string message, Exception innerException)
        : base(message, innerException) => Errors = [message];

    /// <summary>Creates the exception from field errors.</summary>
    /// <param name="errors">One entry per offending field: <c>field: problem</c>.</param>
    public FlowParameterException(IReadOnlyList<string> errors)
        : base("The parameters do not bind to the flow's input: " + string.Join("; ", errors ?? [])) => Errors = errors ?? [];

    /// <summary>The offending fields, one <c>field: problem</c> entry each.</summary>
    public IReadOnlyList<string> Errors { get; }
}
