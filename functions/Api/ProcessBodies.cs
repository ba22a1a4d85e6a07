using System.Text.Json;
using Flow.Process;
using Microsoft.Extensions.Options;

namespace Flow.Functions.Api;

/// <summary>
/// Reads the JSON bodies of the process API (<see cref="ProcessEndpoints"/>): anything that is not the expected JSON object
/// (invalid or empty JSON, an array, a number, wrong types, null where a value is required, missing required fields) is a 400
/// problem naming the field, never an exception.
/// </summary>
internal static class ProcessBodies
{
    /// <summary>The wire format, with an explicit null refused where the type has none (omitted members stay as the clients send them: nulls are not written).</summary>
    private static readonly JsonSerializerOptions Strict = new(ProcessWire.Json)
    {
        RespectNullableAnnotations = true,
    };

    /// <summary>Reads a body of type <typeparamref name="T"/>; exactly one of the two results is set.</summary>
    /// <typeparam name="T">The body type.</typeparam>
    /// <param name="request">The request.</param>
    /// <param name="cancellationToken">Cancels reading.</param>
    /// <returns>The value, or the problem to answer.</returns>
    public static async Task<(T? Value, IResult? Error)> ReadAsync<T>(HttpRequest request, CancellationToken cancellationToken)
        where T : class
    {
        var limit = request.HttpContext.RequestServices.GetRequiredService<IOptions<FlowAppOptions>>().Value.MaxRequestBodyBytes;
        var (text, error) = await Problems.ReadTextAsync(request, limit, cancellationToken).ConfigureAwait(false);
        if (error is not null)
        {
            return (null, error);
        }

        if (string.IsNullOrWhiteSpace(text))
        {
            return (null, Problems.Field("(body)", "a JSON object is required"));
        }

        JsonValueKind kind;
        try
        {
            using var document = JsonDocument.Parse(text, new JsonDocumentOptions { MaxDepth = 64 });
            kind = document.RootElement.ValueKind;
        }
        catch (JsonException e)
        {
            return (null, Problems.Field("(body)", $"is not valid JSON (line {e.LineNumber + 1}, byte {e.BytePositionInLine + 1})"));
        }

        if (kind != JsonValueKind.Object)
        {
            return (null, Problems.Field("(body)", $"expected a JSON object, not {Describe(kind)}"));
        }

        try
        {
            return (JsonSerializer.Deserialize<T>(text, Strict), null);
        }
        catch (JsonException e)
        {
            var (field, message) = Explain(e);
            return (null, Problems.Field(field, message));
        }
    }

    private static (string Field, string Message) Explain(JsonException e)
    {
        var field = e.Path is { Length: > 1 } path ? path.TrimStart('$').TrimStart('.') : string.Empty;
        var text = e.Message;
        var including = text.IndexOf("including: ", StringComparison.Ordinal);
        if (including >= 0)
        {
            var names = text[(including + "including: ".Length)..].Split(['\'', ',', '.', ' '], StringSplitOptions.RemoveEmptyEntries);
            var first = names.FirstOrDefault() ?? "(body)";
            return (field.Length == 0 ? first : field + "." + first, "is required");
        }

        if (text.Contains("null", StringComparison.OrdinalIgnoreCase) && (text.Contains("nullab", StringComparison.OrdinalIgnoreCase) || text.Contains("allow", StringComparison.OrdinalIgnoreCase)))
        {
            return (field.Length == 0 ? "(body)" : field, "must not be null");
        }

        return (field.Length == 0 ? "(body)" : field, "has the wrong JSON type or format for this field");
    }

    private static string Describe(JsonValueKind kind) => kind switch
    {
        JsonValueKind.Array => "an array",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        _ => "null",
    };
}
