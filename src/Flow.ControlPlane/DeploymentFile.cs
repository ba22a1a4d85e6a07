using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using System.Text.RegularExpressions;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Flow.ControlPlane;

/// <summary>The content of a deployments file (<c>flow.yaml</c> or <c>flow.json</c>): work pools and deployments kept in git.</summary>
public sealed record DeploymentFileContent
{
    /// <summary>Work pools to create or update (by <see cref="NamedWorkPoolSpec.Name"/>).</summary>
    public List<NamedWorkPoolSpec>? WorkPools { get; init; }

    /// <summary>Deployments to create or update.</summary>
    public List<DeploymentSpec>? Deployments { get; init; }
}

/// <summary>A work pool in a deployments file.</summary>
public sealed record NamedWorkPoolSpec
{
    /// <summary>The pool name.</summary>
    public string? Name { get; init; }

    /// <summary><c>in-app</c> (default) or <c>process</c>.</summary>
    public string? Type { get; init; }

    /// <summary>A description.</summary>
    public string? Description { get; init; }

    /// <summary>The most runs at once.</summary>
    public int? ConcurrencyLimit { get; init; }

    /// <summary>For process pools: the executables deployments may run.</summary>
    public List<string>? AllowedCommands { get; init; }
}

/// <summary>
/// Deployments as code: parses a YAML or JSON deployments file and applies it. Applying is idempotent — a deployment whose
/// definition is unchanged is not written — so the app can apply the file on every start and a team keeps deployments in git.
/// Deployments missing from the file are left alone (delete them through the API).
/// </summary>
public static partial class DeploymentFile
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow };

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
            node = yaml ? YamlToJson(text) : JsonNode.Parse(text);
        }
        catch (YamlException e)
        {
            throw new InvalidRequestException("(file)", $"not valid YAML at line {e.Start.Line}, column {e.Start.Column}: {e.Message}");
        }
        catch (JsonException e)
        {
            throw new InvalidRequestException("(file)", "not valid JSON: " + e.Message);
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
            throw new InvalidRequestException(e.Path is { Length: > 1 } path ? path.TrimStart('$', '.') : "(file)", e.Message);
        }
    }

    /// <summary>Applies a parsed file: pools first, then deployments. Every deployment is validated before any is written.</summary>
    /// <param name="service">The deployment service.</param>
    /// <param name="content">The content.</param>
    /// <param name="source">Where it came from (recorded on each deployment), e.g. <c>file:flow.yaml</c>.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>One result per deployment.</returns>
    public static async Task<IReadOnlyList<ApplyResult>> ApplyAsync(DeploymentService service, DeploymentFileContent content, string source, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(service);
        ArgumentNullException.ThrowIfNull(content);
        var pools = content.WorkPools ?? [];
        var deployments = content.Deployments ?? [];
        var names = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < deployments.Count; i++)
        {
            if (deployments[i] is { Flow: { } f, Name: { } n } && !names.Add(f + "/" + n))
            {
                throw new InvalidRequestException($"deployments[{i}].name", $"'{f}/{n}' appears twice in the file");
            }
        }

        for (var i = 0; i < pools.Count; i++)
        {
            var pool = pools[i];
            try
            {
                await service.PutPoolAsync(pool.Name ?? string.Empty, new WorkPoolSpec { Type = pool.Type, Description = pool.Description, ConcurrencyLimit = pool.ConcurrencyLimit, AllowedCommands = pool.AllowedCommands }, cancellationToken).ConfigureAwait(false);
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

    private static InvalidRequestException Prefix(string prefix, InvalidRequestException e) =>
        new(e.Errors.ToDictionary(x => prefix + "." + x.Key, x => x.Value, StringComparer.Ordinal));

    /// <summary>Converts YAML (the JSON-compatible core schema: plain scalars that look like numbers, booleans or null are typed; quoted ones are strings) to JSON.</summary>
    internal static JsonNode? YamlToJson(string text)
    {
        var stream = new YamlStream();
        using (var reader = new StringReader(text))
        {
            stream.Load(reader);
        }

        return stream.Documents.Count == 0 ? null : Convert(stream.Documents[0].RootNode);
    }

    private static JsonNode? Convert(YamlNode node)
    {
        switch (node)
        {
            case YamlMappingNode mapping:
                var obj = new JsonObject();
                foreach (var (key, value) in mapping.Children)
                {
                    var name = key is YamlScalarNode { Value: { } k } ? k : throw new YamlException(key.Start, key.End, "Mapping keys must be plain strings.");
                    if (obj.ContainsKey(name))
                    {
                        throw new YamlException(key.Start, key.End, $"Duplicate key '{name}'.");
                    }

                    obj[name] = Convert(value);
                }

                return obj;
            case YamlSequenceNode sequence:
                var array = new JsonArray();
                foreach (var child in sequence.Children)
                {
                    array.Add(Convert(child));
                }

                return array;
            case YamlScalarNode scalar:
                var value2 = scalar.Value ?? string.Empty;
                if (scalar.Style is not ScalarStyle.Plain)
                {
                    return JsonValue.Create(value2);
                }

                if (value2 is "" or "~" or "null" or "Null" or "NULL")
                {
                    return null;
                }

                if (value2 is "true" or "True" or "TRUE")
                {
                    return JsonValue.Create(true);
                }

                if (value2 is "false" or "False" or "FALSE")
                {
                    return JsonValue.Create(false);
                }

                if (IntegerPattern().IsMatch(value2) && long.TryParse(value2, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var integer))
                {
                    return JsonValue.Create(integer);
                }

                if (FloatPattern().IsMatch(value2) && double.TryParse(value2, NumberStyles.Float, CultureInfo.InvariantCulture, out var number) && double.IsFinite(number))
                {
                    return JsonValue.Create(number);
                }

                return JsonValue.Create(value2);
            default:
                throw new YamlException(node.Start, node.End, "Aliases and tags are not supported in deployments files.");
        }
    }

    [GeneratedRegex(@"^[-+]?[0-9]+$")]
    private static partial Regex IntegerPattern();

    [GeneratedRegex(@"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$")]
    private static partial Regex FloatPattern();
}
