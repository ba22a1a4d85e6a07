using System.Collections.Concurrent;
using System.ComponentModel;
using System.Reflection;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Schema;
using System.Xml.Linq;
using Flow.Sdk;

namespace Flow.Functions.Api;

/// <summary>
/// The JSON Schema of a flow's parameters, from its C# input type (System.Text.Json's schema exporter with the engine's JSON
/// options): required fields (constructor parameters without defaults, <c>required</c> members), enums, numbers, dates, nested
/// records, and descriptions from <see cref="DescriptionAttribute"/> or the input assembly's XML documentation file.
/// </summary>
internal static class ParameterSchema
{
    private static readonly ConcurrentDictionary<Type, JsonObject> Cache = new();

    public static JsonObject For(FlowDefinition flow, JsonSerializerOptions engineJson)
    {
        var schema = (JsonObject)Cache.GetOrAdd(flow.InputType, type => Build(type, engineJson)).DeepClone();
        schema["title"] = flow.Name;
        if (flow.Options.Description is { Length: > 0 } description)
        {
            schema["description"] = description;
        }

        return schema;
    }

    private static JsonObject Build(Type type, JsonSerializerOptions engineJson)
    {
        if (type == typeof(Unit))
        {
            return new JsonObject { ["type"] = "object", ["properties"] = new JsonObject(), ["additionalProperties"] = false };
        }

        var options = new JsonSerializerOptions(engineJson)
        {
            RespectRequiredConstructorParameters = true,
            RespectNullableAnnotations = true,

            // Numbers as numbers: the engine also reads them from strings, but a form should offer a number field.
            NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.Strict,
        };
        options.MakeReadOnly(populateMissingResolver: true);
        var docs = new XmlDocs();
        var exporter = new JsonSchemaExporterOptions
        {
            TreatNullObliviousAsNonNullable = true,
            TransformSchemaNode = (context, node) =>
            {
                if (node is not JsonObject obj)
                {
                    return node;
                }

                var description = DescriptionOf(context, docs);
                if (description is not null && !obj.ContainsKey("description"))
                {
                    obj.Insert(0, "description", description);
                }

                var underlying = Nullable.GetUnderlyingType(context.TypeInfo.Type) ?? context.TypeInfo.Type;
                if (underlying.IsEnum && !obj.ContainsKey("enum"))
                {
                    // Enums serialized as numbers: list the values, and name them in the description.
                    var values = Enum.GetValues(underlying).Cast<object>().Select(v => Convert.ToInt64(v, System.Globalization.CultureInfo.InvariantCulture)).ToList();
                    obj["enum"] = new JsonArray([.. values.Select(v => (JsonNode)v)]);
                    var names = string.Join(", ", Enum.GetNames(underlying).Zip(values, (n, v) => $"{v} = {n}"));
                    obj["description"] = obj["description"] is { } d ? $"{d} ({names})" : names;
                }

                if (underlying == typeof(DateOnly))
                {
                    obj["format"] = "date";
                }

                return obj;
            },
        };
        var root = options.GetJsonSchemaAsNode(type, exporter) as JsonObject ?? new JsonObject();
        root.Insert(0, "$schema", "https://json-schema.org/draft/2020-12/schema");
        return root;
    }

    private static string? DescriptionOf(JsonSchemaExporterContext context, XmlDocs docs)
    {
        if (context.PropertyInfo is { } property)
        {
            if (property.AttributeProvider?.GetCustomAttributes(typeof(DescriptionAttribute), true).FirstOrDefault() is DescriptionAttribute attribute)
            {
                return attribute.Description;
            }

            if (property.AssociatedParameter?.Name is { } parameter && property.DeclaringType is { } declaring)
            {
                return docs.Parameter(declaring, parameter) ?? docs.Property(declaring, property.AttributeProvider as PropertyInfo);
            }

            return property.DeclaringType is { } owner ? docs.Property(owner, property.AttributeProvider as PropertyInfo) : null;
        }

        return null;
    }

    /// <summary>Reads summaries from the XML documentation file beside an assembly, when it was shipped.</summary>
    private sealed class XmlDocs
    {
        private readonly Dictionary<Assembly, Dictionary<string, XElement>?> _files = [];

        public string? Parameter(Type type, string name) =>
            Text(Member(type.Assembly, "T:" + Name(type))?.Elements("param").FirstOrDefault(p => (string?)p.Attribute("name") == name));

        public string? Property(Type type, PropertyInfo? property) =>
            property is null ? null : Text(Member(type.Assembly, "P:" + Name(type) + "." + property.Name)?.Element("summary"));

        /// <summary>The element's text, with <c>see cref</c> and <c>paramref</c> references as the names they point at.</summary>
        private static string? Text(XElement? element)
        {
            if (element is null)
            {
                return null;
            }

            var parts = element.Nodes().Select(n => n switch
            {
                XText t => t.Value,
                XElement e when e.Attribute("cref") is { } cref => cref.Value[(cref.Value.LastIndexOfAny([':', '.']) + 1)..],
                XElement e when e.Attribute("name") is { } name => name.Value,
                XElement e when e.Attribute("langword") is { } word => word.Value,
                XElement e => e.Value,
                _ => string.Empty,
            });
            var text = Normalize(string.Concat(parts));
            return text.Length > 0 ? text : null;
        }

        private static string Name(Type type) => (type.FullName ?? type.Name).Replace('+', '.');

        private static string Normalize(string text) => string.Join(' ', text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries));

        private XElement? Member(Assembly assembly, string id)
        {
            if (!_files.TryGetValue(assembly, out var members))
            {
                members = null;
                var path = string.IsNullOrEmpty(assembly.Location) ? null : Path.ChangeExtension(assembly.Location, ".xml");
                if (path is not null && File.Exists(path))
                {
                    try
                    {
                        members = XDocument.Load(path).Descendants("member")
                            .Where(m => m.Attribute("name") is not null)
                            .GroupBy(m => (string)m.Attribute("name")!, StringComparer.Ordinal)
                            .ToDictionary(g => g.Key, g => g.First(), StringComparer.Ordinal);
                    }
                    catch (System.Xml.XmlException)
                    {
                        members = null;
                    }
                }

                _files[assembly] = members;
            }

            return members is not null && members.TryGetValue(id, out var element) ? element : null;
        }
    }
}
