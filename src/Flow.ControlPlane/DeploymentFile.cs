using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Flow.Engine;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;

namespace Flow.ControlPlane;

/// <summary>
/// Deployments as code: parses a YAML or JSON deployments file and applies it. Applying is idempotent — a deployment whose
/// definition is unchanged is not written — so the app can apply the file on every start and a team keeps deployments in git.
/// Deployments missing from the file are left alone (delete them through the API). Applying is all or nothing for invalid
/// files: the whole file is validated before the first write. YAML anchors and aliases are refused (no "billion laughs"),
/// and documents are capped at <see cref="MaxNodes"/> nodes and <see cref="JsonInputErrors.MaxDepth"/> levels.
/// </summary>
public static partial class DeploymentFile
{
    /// <summary>The most nodes (mappings, sequences and scalars) a deployments file may have: 100,000.</summary>
    public const int MaxNodes = 100_000;

    private static readonly JsonSerializerOptions Json = JsonInputErrors.MakeStrict(new(JsonSerializerDefaults.Web));

    /// <summary>Parses a deployments file.</summary>
    /// <param name="text">The file's text.</param>
    /// <param name="yaml">True for YAML (JSON is YAML too, so YAML always works); false to require JSON.</param>
    /// <returns>The content.</returns>
    /// <exception cref="InvalidRequestException">The text is not a valid deployments file; the message names the line or field.</exception>
    public static DeploymentFileContent Parse(string text, bool yaml = true)
    {
        ArgumentNullException.ThrowIfNull(text);
        JsonNode? node;
        try
        {
            node = yaml ? YamlToJson(text) : JsonNode.Parse(text, documentOptions: JsonInputErrors.DocumentOptions);
        }
        catch (YamlException e)
        {
            throw new InvalidRequestException("(file)", $"not valid YAML at line {e.Start.Line}, column {e.Start.Column}: {e.Message}");
        }
        catch (JsonException e)
        {
            throw new InvalidRequestException(JsonInputErrors.Field(e) ?? "(file)", "not valid JSON: " + JsonInputErrors.Describe(e));
        }

        if (node is not JsonObject)
        {
            throw new InvalidRequestException("(file)", "expected a mapping with 'deployments' (and optionally 'workPools')");
        }

        try
        {
            return node.Deserialize<DeploymentFileContent>(Json) ?? new DeploymentFileContent();
        }
        catch (JsonException e)
        {
            throw new InvalidRequestException(JsonInputErrors.Field(e) ?? "(file)", JsonInputErrors.Describe(e));
        }
    }

    /// <summary>
    /// Applies a parsed file: pools first, then deployments. The whole file is validated first — every deployment against the
    /// pools as they will be — so an invalid file writes nothing.
    /// </summary>
    /// <param name="service">The deployment service.</param>
    /// <param name="content">The content.</param>
    /// <param name="source">Where it came from (recorded on each deployment), e.g. <c>file:flow.yaml</c>.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>One result per deployment.</returns>
    /// <exception cref="InvalidRequestException">Something in the file is invalid (every offending field is named); nothing was written.</exception>
    public static async Task<IReadOnlyList<ApplyResult>> ApplyAsync(DeploymentService service, DeploymentFileContent content, string source, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(service);
        ArgumentNullException.ThrowIfNull(content);
        var pools = (content.WorkPools ?? []).Select(p => (p?.Name ?? string.Empty, p is null ? new WorkPoolSpec() : new WorkPoolSpec { Type = p.Type, Description = p.Description, ConcurrencyLimit = p.ConcurrencyLimit, AllowedCommands = p.AllowedCommands })).ToList();
        var deployments = content.Deployments ?? [];
        await service.ValidateAllAsync(pools, deployments, source, cancellationToken).ConfigureAwait(false);

        for (var i = 0; i < pools.Count; i++)
        {
            try
            {
                await service.PutPoolAsync(pools[i].Item1, pools[i].Item2, cancellationToken).ConfigureAwait(false);
            }
            catch (InvalidRequestException e)
            {
                throw Prefix($"workPools[{i}]", e);
            }
        }

        var results = new List<ApplyResult>();
        for (var i = 0; i < deployments.Count; i++)
        {
            try
            {
                results.Add(await service.ApplyAsync(deployments[i], source, cancellationToken).ConfigureAwait(false));
            }
            catch (InvalidRequestException e)
            {
                throw Prefix($"deployments[{i}]", e);
            }
        }

        return results;
    }

    internal static InvalidRequestException Prefix(string prefix, InvalidRequestException e) =>
        new(e.Errors.ToDictionary(x => prefix + "." + x.Key, x => x.Value, StringComparer.Ordinal));

    /// <summary>
    /// Converts YAML (the JSON-compatible core schema: plain scalars that look like numbers, booleans or null are typed; quoted
    /// ones are strings) to JSON, reading parser events so nothing is expanded: anchors and aliases are refused where they
    /// appear, and the node count and nesting are capped while reading.
    /// </summary>
    internal static JsonNode? YamlToJson(string text)
    {
        using var reader = new StringReader(text);
        return new YamlJsonReader(new Parser(reader)).ReadFirstDocument();
    }

    /// <summary>The scalar's JSON value (core schema).</summary>
    private static JsonNode? ConvertScalar(Scalar scalar)
    {
        var value = scalar.Value ?? string.Empty;
        if (scalar.Style is not ScalarStyle.Plain)
        {
            return JsonValue.Create(value);
        }

        if (value is "" or "~" or "null" or "Null" or "NULL")
        {
            return null;
        }

        if (value is "true" or "True" or "TRUE")
        {
            return JsonValue.Create(true);
        }

        if (value is "false" or "False" or "FALSE")
        {
            return JsonValue.Create(false);
        }

        if (IntegerPattern().IsMatch(value) && long.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var integer))
        {
            return JsonValue.Create(integer);
        }

        if (FloatPattern().IsMatch(value) && double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var number) && double.IsFinite(number))
        {
            return JsonValue.Create(number);
        }

        return JsonValue.Create(value);
    }

    [GeneratedRegex(@"^[-+]?[0-9]+$")]
    private static partial Regex IntegerPattern();

    [GeneratedRegex(@"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$")]
    private static partial Regex FloatPattern();

    /// <summary>Builds JSON from the events of one YAML document, refusing anchors and aliases and capping size and depth.</summary>
    private sealed class YamlJsonReader(IParser parser)
    {
        // deployments[0].parameters.x: deeper levels are named by the field that holds them
        private const int FieldDepth = 3;
        private int _nodes;

        public JsonNode? ReadFirstDocument()
        {
            parser.Consume<StreamStart>();
            if (parser.Accept<StreamEnd>(out _))
            {
                return null;
            }

            parser.Consume<DocumentStart>();
            return ReadNode(string.Empty, 0);
        }

        /// <summary>Reads one node; <paramref name="path"/> names the field it belongs to, down to <see cref="FieldDepth"/> levels (deeper, the field holding it).</summary>
        private JsonNode? ReadNode(string path, int depth)
        {
            var current = parser.Current ?? throw new YamlException("The document ends too early.");
            if (current is AnchorAlias alias)
            {
                throw new YamlException(alias.Start, alias.End, $"Aliases (*{alias.Value}) are not supported in deployments files; write the value out.");
            }

            if (current is NodeEvent { Anchor.IsEmpty: false } anchored)
            {
                throw new YamlException(anchored.Start, anchored.End, $"Anchors (&{anchored.Anchor}) are not supported in deployments files; write the value out.");
            }

            if (++_nodes > MaxNodes)
            {
                throw new YamlException(current.Start, current.End, $"The document has more than {MaxNodes:N0} nodes.");
            }

            if (current is MappingStart or SequenceStart && depth >= JsonInputErrors.MaxDepth)
            {
                throw new InvalidRequestException(path.Length is 0 ? "(file)" : path, $"nested deeper than {JsonInputErrors.MaxDepth} levels (line {current.Start.Line})");
            }

            switch (current)
            {
                case MappingStart:
                    parser.MoveNext();
                    var obj = new JsonObject();
                    while (!parser.TryConsume<MappingEnd>(out _))
                    {
                        if (parser.Current is not Scalar { Anchor.IsEmpty: true } key)
                        {
                            var at = parser.Current!;
                            throw new YamlException(at.Start, at.End, at is NodeEvent { Anchor.IsEmpty: false } ? "Anchors are not supported in deployments files." : "Mapping keys must be plain strings.");
                        }

                        var name = key.Value ?? string.Empty;
                        if (obj.ContainsKey(name))
                        {
                            throw new YamlException(key.Start, key.End, $"Duplicate key '{name}'.");
                        }

                        parser.MoveNext();
                        obj[name] = ReadNode(depth >= FieldDepth ? path : path.Length == 0 ? name : path + "." + name, depth + 1);
                    }

                    return obj;
                case SequenceStart:
                    parser.MoveNext();
                    var array = new JsonArray();
                    while (!parser.TryConsume<SequenceEnd>(out _))
                    {
                        array.Add(ReadNode(depth >= FieldDepth ? path : path + "[" + array.Count.ToString(CultureInfo.InvariantCulture) + "]", depth + 1));
                    }

                    return array;
                case Scalar scalar:
                    parser.MoveNext();
                    return ConvertScalar(scalar);
                default:
                    throw new YamlException(current.Start, current.End, $"Unexpected {current.GetType().Name}.");
            }
        }
    }
}
