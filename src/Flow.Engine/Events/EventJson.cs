using System.Text.Json;
using System.Text.Json.Serialization;

namespace Flow.Engine.Events;

/// <summary>How stores keep a <see cref="FlowEvent"/> as text: one JSON object with camelCase names (the API's shape), so a
/// stored event reads the same in Storage Explorer, psql and the API.</summary>
public static class EventJson
{
    private static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    /// <summary>The event as JSON text.</summary>
    /// <param name="flowEvent">The event.</param>
    /// <returns>The text.</returns>
    public static string Serialize(FlowEvent flowEvent)
    {
        ArgumentNullException.ThrowIfNull(flowEvent);
        return JsonSerializer.Serialize(flowEvent, Options);
    }

    /// <summary>An event from text <see cref="Serialize"/> wrote.</summary>
    /// <param name="json">The text.</param>
    /// <returns>The event.</returns>
    /// <exception cref="JsonException">The text is not a stored event.</exception>
    public static FlowEvent Deserialize(string json)
    {
        ArgumentNullException.ThrowIfNull(json);
        return JsonSerializer.Deserialize<FlowEvent>(json, Options) ?? throw new JsonException("A stored event is null.");
    }
}
