using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Flow.Engine.Events;

namespace Flow.ControlPlane.Templates;

/// <summary>
/// JSON templates filled from an event (docs/automations.md): an automation's run parameters, a webhook's body, an incoming
/// webhook's event fields. A template is any JSON value; every string in it may hold placeholders <c>{{ path }}</c>, where the
/// path walks the context by names and indexes (<c>event.resource.labels.flow</c>, <c>body.commits[0].id</c>). A string
/// that is exactly one placeholder becomes the value found, keeping its JSON type (a number stays a number, an object an
/// object); inside longer text a placeholder becomes the value's text (strings as they are, other values as JSON). A path
/// that finds nothing gives null (whole string) or empty text. There is no code in a template: no loops, no conditions, no
/// calls, so a template cannot run away; sizes and depth are bounded.
/// </summary>
public static class EventTemplate
{
    /// <summary>The deepest template or context nesting rendered.</summary>
    public const int MaxDepth = 32;

    /// <summary>The longest rendered string, in characters.</summary>
    public const int MaxTextLength = 64 * 1024;

    /// <summary>The most placeholders in one string.</summary>
    public const int MaxPlaceholdersPerString = 64;

    /// <summary>Throws unless every string in <paramref name="template"/> has well-formed placeholders.</summary>
    /// <param name="template">The template.</param>
    /// <param name="field">The template's field name for messages (e.g. <c>actions[0].parameters</c>).</param>
    /// <exception cref="ArgumentException">A placeholder is malformed; <see cref="ArgumentException.ParamName"/> names the field.</exception>
    public static void Validate(JsonNode? template, string field) => Walk(template, field, 0, (text, name) => Parse(text, name));

    /// <summary>Throws unless <paramref name="template"/>'s placeholders are well-formed.</summary>
    /// <param name="template">The template text.</param>
    /// <param name="field">The field name for messages.</param>
    /// <exception cref="ArgumentException">A placeholder is malformed.</exception>
    public static void ValidateText(string template, string field)
    {
        ArgumentNullException.ThrowIfNull(template);
        Parse(template, field);
    }

    /// <summary>Renders <paramref name="template"/> against <paramref name="context"/>; the template is not changed.</summary>
    /// <param name="template">The template.</param>
    /// <param name="context">The values placeholders read (e.g. <see cref="ContextFor(FlowEvent)"/>).</param>
    /// <returns>A new JSON value.</returns>
    /// <exception cref="ArgumentException">The template is malformed, too deep, or renders text that is too long.</exception>
    public static JsonNode? Render(JsonNode? template, JsonObject context)
    {
        ArgumentNullException.ThrowIfNull(context);
        return RenderNode(template, context, "template", 0);
    }

    /// <summary>Renders a text template: every placeholder becomes its value's text.</summary>
    /// <param name="template">The template text.</param>
    /// <param name="context">The values placeholders read.</param>
    /// <returns>The text.</returns>
    /// <exception cref="ArgumentException">The template is malformed or renders text that is too long.</exception>
    public static string RenderText(string template, JsonObject context)
    {
        ArgumentNullException.ThrowIfNull(template);
        ArgumentNullException.ThrowIfNull(context);
        return Interpolate(Parse(template, "template"), context, "template");
    }

    /// <summary>
    /// The context of an event: <c>event.id</c>, <c>event.kind</c>, <c>event.occurredAt</c>, <c>event.resource</c>
    /// (<c>id</c>, <c>labels</c>), <c>event.related</c> (a list of <c>id</c>, <c>role</c>, <c>labels</c>),
    /// <c>event.roles</c> (role → the id of the first related resource with that role) and <c>event.payload</c> (the parsed
    /// payload object, or null).
    /// </summary>
    /// <param name="flowEvent">The event.</param>
    /// <returns>A new context object with one property, <c>event</c>.</returns>
    public static JsonObject ContextFor(FlowEvent flowEvent)
    {
        ArgumentNullException.ThrowIfNull(flowEvent);
        var roles = new JsonObject();
        var related = new JsonArray();
        foreach (var resource in flowEvent.Related)
        {
            related.Add(Resource(resource));
            if (resource.Role is { } role && !roles.ContainsKey(role))
            {
                roles[role] = resource.Id;
            }
        }

        return new JsonObject
        {
            ["event"] = new JsonObject
            {
                ["id"] = flowEvent.Id,
                ["kind"] = flowEvent.Kind,
                ["occurredAt"] = flowEvent.OccurredAt.ToString("O", System.Globalization.CultureInfo.InvariantCulture),
                ["resource"] = Resource(flowEvent.Resource),
                ["related"] = related,
                ["roles"] = roles,
                ["payload"] = flowEvent.Payload is { } payload ? JsonNode.Parse(payload, documentOptions: new JsonDocumentOptions { MaxDepth = MaxDepth }) : null,
            },
        };
    }

    private static JsonObject Resource(EventResource resource)
    {
        var labels = new JsonObject();
        foreach (var (name, value) in resource.Labels ?? new Dictionary<string, string>())
        {
            labels[name] = value;
        }

        var node = new JsonObject { ["id"] = resource.Id, ["labels"] = labels };
        if (resource.Role is { } role)
        {
            node["role"] = role;
        }

        return node;
    }

    private static JsonNode? RenderNode(JsonNode? node, JsonObject context, string field, int depth)
    {
        if (depth > MaxDepth)
        {
            throw new ArgumentException($"is nested deeper than {MaxDepth} levels", field);
        }

        switch (node)
        {
            case null:
                return null;
            case JsonObject obj:
                var renderedObject = new JsonObject();
                foreach (var (name, value) in obj)
                {
                    renderedObject[name] = RenderNode(value, context, $"{field}.{name}", depth + 1);
                }

                return renderedObject;
            case JsonArray array:
                var renderedArray = new JsonArray();
                for (var i = 0; i < array.Count; i++)
                {
                    renderedArray.Add(RenderNode(array[i], context, $"{field}[{i}]", depth + 1));
                }

                return renderedArray;
            case JsonValue value when value.GetValueKind() == JsonValueKind.String:
                var parts = Parse(value.GetValue<string>(), field);
                if (parts is [Placeholder whole])
                {
                    return Lookup(context, whole.Path)?.DeepClone();
                }

                return JsonValue.Create(Interpolate(parts, context, field));
            default:
                return node.DeepClone();
        }
    }

    private static string Interpolate(IReadOnlyList<Part> parts, JsonObject context, string field)
    {
        var text = new StringBuilder();
        foreach (var part in parts)
        {
            switch (part)
            {
                case Literal literal:
                    text.Append(literal.Text);
                    break;
                case Placeholder placeholder:
                    var value = Lookup(context, placeholder.Path);
                    if (value is JsonValue v && v.GetValueKind() == JsonValueKind.String)
                    {
                        text.Append(v.GetValue<string>());
                    }
                    else if (value is not null)
                    {
                        text.Append(value.ToJsonString());
                    }

                    break;
            }

            if (text.Length > MaxTextLength)
            {
                throw new ArgumentException($"renders text longer than {MaxTextLength} characters", field);
            }
        }

        return text.ToString();
    }

    private static JsonNode? Lookup(JsonObject context, IReadOnlyList<Step> path)
    {
        JsonNode? current = context;
        foreach (var step in path)
        {
            current = step.Index is { } index
                ? current is JsonArray array && index < array.Count ? array[index] : null
                : current is JsonObject obj && obj.TryGetPropertyValue(step.Name!, out var next) ? next : null;
            if (current is null)
            {
                return null;
            }
        }

        return current;
    }

    private static void Walk(JsonNode? node, string field, int depth, Action<string, string> onString)
    {
        if (depth > MaxDepth)
        {
            throw new ArgumentException($"is nested deeper than {MaxDepth} levels", field);
        }

        switch (node)
        {
            case JsonObject obj:
                foreach (var (name, value) in obj)
                {
                    Walk(value, $"{field}.{name}", depth + 1, onString);
                }

                break;
            case JsonArray array:
                for (var i = 0; i < array.Count; i++)
                {
                    Walk(array[i], $"{field}[{i}]", depth + 1, onString);
                }

                break;
            case JsonValue value when value.GetValueKind() == JsonValueKind.String:
                onString(value.GetValue<string>(), field);
                break;
        }
    }

    private static List<Part> Parse(string text, string field)
    {
        var parts = new List<Part>();
        var position = 0;
        var placeholders = 0;
        while (position < text.Length)
        {
            var open = text.IndexOf("{{", position, StringComparison.Ordinal);
            if (open < 0)
            {
                parts.Add(new Literal(text[position..]));
                break;
            }

            var close = text.IndexOf("}}", open + 2, StringComparison.Ordinal);
            if (close < 0)
            {
                throw new ArgumentException($"has '{{{{' at {open} without a closing '}}}}'", field);
            }

            if (++placeholders > MaxPlaceholdersPerString)
            {
                throw new ArgumentException($"has more than {MaxPlaceholdersPerString} placeholders", field);
            }

            if (open > position)
            {
                parts.Add(new Literal(text[position..open]));
            }

            parts.Add(new Placeholder(ParsePath(text[(open + 2)..close].Trim(), field)));
            position = close + 2;
        }

        return parts;
    }

    private static List<Step> ParsePath(string path, string field)
    {
        if (path.Length == 0)
        {
            throw new ArgumentException("has an empty placeholder '{{ }}'", field);
        }

        var steps = new List<Step>();
        var i = 0;
        while (i < path.Length)
        {
            if (path[i] == '[')
            {
                var end = path.IndexOf(']', i);
                if (end < 0 || !int.TryParse(path.AsSpan(i + 1, end - i - 1), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var index))
                {
                    throw new ArgumentException($"has a placeholder '{path}' with a malformed index (use [0], [1], ...)", field);
                }

                steps.Add(new Step(null, index));
                i = end + 1;
            }
            else
            {
                if (path[i] == '.')
                {
                    if (steps.Count == 0 || i + 1 >= path.Length || path[i + 1] == '.')
                    {
                        throw new ArgumentException($"has a placeholder '{path}' with a misplaced '.'", field);
                    }

                    i++;
                }

                var start = i;
                while (i < path.Length && (char.IsAsciiLetterOrDigit(path[i]) || path[i] is '_' or '-'))
                {
                    i++;
                }

                if (i == start)
                {
                    throw new ArgumentException($"has a placeholder '{path}' with a character other than letters, digits, '_', '-', '.' and [index]", field);
                }

                steps.Add(new Step(path[start..i], null));
            }
        }

        return steps;
    }

    private abstract record Part;

    private sealed record Literal(string Text) : Part;

    private sealed record Placeholder(IReadOnlyList<Step> Path) : Part;

    private sealed record Step(string? Name, int? Index);
}
