using System.Text.Json;
using System.Text.RegularExpressions;

namespace Flow.Engine;

/// <summary>
/// Strict reading of JSON that people and other systems send (HTTP bodies, deployments files, run requests), and its errors in
/// the sender's terms: what was expected (a whole number, a date and time, a JSON object), never a .NET type name.
/// </summary>
public static partial class JsonInputErrors
{
    /// <summary>The deepest nesting accepted in input documents (JSON and YAML): 64 levels.</summary>
    public const int MaxDepth = 64;

    /// <summary>Options for parsing input documents: duplicate keys refused, at most <see cref="MaxDepth"/> levels, no comments or trailing commas.</summary>
    public static JsonDocumentOptions DocumentOptions { get; } = new() { AllowDuplicateProperties = false, MaxDepth = MaxDepth };

    /// <summary>
    /// Makes serializer options strict for input: unknown fields, duplicate keys and numbers written as strings
    /// (<c>"5"</c> where a number is required) are refused; nesting is capped at <see cref="MaxDepth"/>.
    /// </summary>
    /// <param name="options">Options not yet used.</param>
    /// <returns>The same options.</returns>
    public static JsonSerializerOptions MakeStrict(JsonSerializerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.UnmappedMemberHandling = System.Text.Json.Serialization.JsonUnmappedMemberHandling.Disallow;
        options.AllowDuplicateProperties = false;
        options.NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.Strict;
        options.AllowTrailingCommas = false;
        options.MaxDepth = MaxDepth;
        return options;
    }

    /// <summary>The field a JSON error is about, as a path without the leading <c>$.</c> (<c>schedules[0].cron</c>), or null for the whole document.</summary>
    /// <param name="exception">The error.</param>
    /// <returns>The field, or null.</returns>
    public static string? Field(JsonException exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        var path = exception.Path?.TrimStart('$').TrimStart('.');
        return string.IsNullOrEmpty(path) ? null : path;
    }

    /// <summary>A JSON error in the sender's terms: .NET type names become what was expected, positions become 1-based lines.</summary>
    /// <param name="exception">The error.</param>
    /// <returns>The message.</returns>
    public static string Describe(JsonException exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        return Describe(exception.Message, exception.LineNumber, exception.BytePositionInLine);
    }

    /// <summary>An error message of System.Text.Json in the sender's terms.</summary>
    /// <param name="message">The message.</param>
    /// <param name="line">The 0-based line, when known.</param>
    /// <param name="position">The byte position in the line, when known.</param>
    /// <returns>The message.</returns>
    public static string Describe(string message, long? line = null, long? position = null)
    {
        ArgumentNullException.ThrowIfNull(message);

        // System.Text.Json appends " Path: $.x | LineNumber: 0 | BytePositionInLine: 5." — the field is named separately.
        var text = message;
        var cut = text.IndexOf(" Path: ", StringComparison.Ordinal);
        if (cut < 0)
        {
            cut = text.IndexOf(" LineNumber: ", StringComparison.Ordinal);
        }

        if (cut > 0)
        {
            text = text[..cut];
        }

        if (ConvertedTo().Match(text) is { Success: true } converted)
        {
            text = "expected " + Expected(converted.Groups["type"].Value);
        }
        else if (Unmapped().Match(text) is { Success: true } unmapped)
        {
            text = $"unknown field '{unmapped.Groups["name"].Value}'";
        }
        else if (Duplicate().Match(text) is { Success: true } duplicate)
        {
            text = $"the key '{duplicate.Groups["name"].Value}' appears twice";
        }
        else if (text.Contains("maximum configured depth", StringComparison.Ordinal) || text.Contains("maximum allowed depth", StringComparison.Ordinal))
        {
            text = $"nested deeper than {MaxDepth} levels";
        }
        else if (text.Contains("duplicate", StringComparison.OrdinalIgnoreCase))
        {
            text = "a key appears twice in one object";
        }
        else
        {
            text = TypeName().Replace(text, m => Expected(m.Value)).TrimEnd('.');
        }

        if (line is { } l && position is { } p && !text.StartsWith("expected", StringComparison.Ordinal) && !text.StartsWith("unknown field", StringComparison.Ordinal))
        {
            text += $" (line {l + 1}, byte {p + 1})";
        }

        return text;
    }

    /// <summary>What a .NET type is, as a sender of JSON thinks of it.</summary>
    /// <param name="typeName">The type's full name as System.Text.Json writes it.</param>
    /// <returns>For example <c>a whole number</c>, <c>a date and time (ISO 8601)</c>, <c>a JSON object</c>.</returns>
    internal static string Expected(string typeName)
    {
        var name = typeName.Trim();
        if (NullableOf().Match(name) is { Success: true } nullable)
        {
            return Expected(nullable.Groups["inner"].Value) + " or null";
        }

        if (name.EndsWith("[]", StringComparison.Ordinal) || name.Contains("List`", StringComparison.Ordinal) || name.Contains("Enumerable`", StringComparison.Ordinal)
            || name.Contains("Collection`", StringComparison.Ordinal) || name.Contains("Set`", StringComparison.Ordinal) || name.Contains("Array`", StringComparison.Ordinal))
        {
            return "a JSON array";
        }

        if (name.Contains("Dictionary`", StringComparison.Ordinal))
        {
            return "a JSON object";
        }

        var simple = name[(name.LastIndexOf('.') + 1)..];
        return simple switch
        {
            "Int16" or "Int32" or "Int64" or "UInt16" or "UInt32" or "UInt64" or "Byte" or "SByte" => "a whole number",
            "Double" or "Single" or "Decimal" or "Half" => "a number",
            "String" or "Char" => "a string",
            "Boolean" => "true or false",
            "DateTimeOffset" or "DateTime" => "a date and time (ISO 8601, e.g. 2026-01-31T09:00:00Z)",
            "DateOnly" => "a date (ISO 8601, e.g. 2026-01-31)",
            "TimeSpan" => "a duration (e.g. 00:15:00)",
            "Guid" => "a GUID",
            "JsonElement" or "JsonNode" => "a JSON value",
            _ => "a JSON object",
        };
    }

    [GeneratedRegex(@"^The JSON value could not be converted to (?<type>.+?)\.?$")]
    private static partial Regex ConvertedTo();

    [GeneratedRegex(@"The JSON property '(?<name>[^']*)' could not be mapped")]
    private static partial Regex Unmapped();

    [GeneratedRegex(@"[Dd]uplicate propert(y|ies)[^']*'(?<name>[^']*)'")]
    private static partial Regex Duplicate();

    [GeneratedRegex(@"^System\.Nullable`1\[(?<inner>.+)\]$")]
    private static partial Regex NullableOf();

    [GeneratedRegex(@"\b(System|Flow|Microsoft)(\.[A-Za-z_][A-Za-z0-9_]*)+(`\d+\[[^\s]*\])?")]
    private static partial Regex TypeName();
}
