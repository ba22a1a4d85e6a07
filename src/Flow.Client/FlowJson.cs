using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Flow.Client;

/// <summary>The JSON conventions of Flow's HTTP API: camelCase names, enums as strings, nulls left out, readable text.</summary>
public static class FlowJson
{
    /// <summary>The options the API writes its responses with and <see cref="FlowClient"/> reads and writes with.</summary>
    public static JsonSerializerOptions Options { get; } = Create();

    /// <summary>A new, mutable copy of <see cref="Options"/>.</summary>
    /// <returns>The options.</returns>
    public static JsonSerializerOptions Create()
    {
        var options = new JsonSerializerOptions(JsonSerializerDefaults.Web)
        {
            DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,

            // Numbers are numbers: the API neither writes nor expects them as strings.
            NumberHandling = JsonNumberHandling.Strict,

            // Readable JSON: '+' in times and apostrophes in messages stay as they are (not \u002B, \u0027). Responses are
            // application/json, never HTML, so the HTML-sensitive characters need no escaping.
            Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        };
        options.Converters.Add(new JsonStringEnumConverter());
        return options;
    }
}
