using System.Text;
using System.Text.Json;

namespace Flow.Engine.Events;

/// <summary>The rules every stored event follows, checked by every <see cref="IEventStore"/> and by the API before a store sees
/// an event, so a bad event is refused with the field named instead of half-written.</summary>
public static class EventRules
{
    /// <summary>The most labels a resource may carry.</summary>
    public const int MaxLabels = 32;

    /// <summary>The longest label name or value, in characters.</summary>
    public const int MaxLabelLength = 256;

    /// <summary>Checks the size of a retention batch (<see cref="IEventRetention.DeleteEventsBeforeAsync"/>): 1 to <see cref="IEventRetention.MaxBatchSize"/>.</summary>
    /// <param name="batchSize">The batch size.</param>
    /// <exception cref="ArgumentOutOfRangeException">Out of range.</exception>
    public static void ValidateRetentionBatch(int batchSize)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(batchSize, IEventRetention.MaxBatchSize);
    }

    /// <summary>Throws unless <paramref name="flowEvent"/> follows the rules.</summary>
    /// <param name="flowEvent">The event.</param>
    /// <param name="field">The name of the event in messages (e.g. <c>events[3]</c>).</param>
    /// <exception cref="ArgumentException">A rule is broken; <see cref="ArgumentException.ParamName"/> names the field.</exception>
    public static void Validate(FlowEvent flowEvent, string field = "event")
    {
        ArgumentNullException.ThrowIfNull(flowEvent);
        RequireText(flowEvent.Id, FlowEvent.MaxIdLength, $"{field}.id");
        RequireText(flowEvent.Kind, FlowEvent.MaxKindLength, $"{field}.kind");
        if (flowEvent.OccurredAt.Offset != TimeSpan.Zero)
        {
            throw new ArgumentException("must be UTC (offset +00:00)", $"{field}.occurredAt");
        }

        ValidateResource(flowEvent.Resource, $"{field}.resource");
        if (flowEvent.Related is null || flowEvent.Related.Count > FlowEvent.MaxRelated)
        {
            throw new ArgumentException($"must be a list of at most {FlowEvent.MaxRelated} resources", $"{field}.related");
        }

        for (var i = 0; i < flowEvent.Related.Count; i++)
        {
            ValidateResource(flowEvent.Related[i], $"{field}.related[{i}]");
            RequireText(flowEvent.Related[i].Role, 64, $"{field}.related[{i}].role");
        }

        if (flowEvent.Payload is { } payload)
        {
            if (Encoding.UTF8.GetByteCount(payload) > FlowEvent.MaxPayloadBytes)
            {
                throw new ArgumentException($"is larger than {FlowEvent.MaxPayloadBytes} bytes", $"{field}.payload");
            }

            try
            {
                using var document = JsonDocument.Parse(payload, new JsonDocumentOptions { MaxDepth = 32 });
                if (document.RootElement.ValueKind != JsonValueKind.Object)
                {
                    throw new ArgumentException("must be a JSON object", $"{field}.payload");
                }
            }
            catch (JsonException ex)
            {
                throw new ArgumentException($"is not JSON: {ex.Message}", $"{field}.payload");
            }
        }
    }

    private static void ValidateResource(EventResource? resource, string field)
    {
        if (resource is null)
        {
            throw new ArgumentException("is required", field);
        }

        RequireText(resource.Id, EventResource.MaxIdLength, $"{field}.id");
        if (resource.Labels is { } labels)
        {
            if (labels.Count > MaxLabels)
            {
                throw new ArgumentException($"has more than {MaxLabels} labels", $"{field}.labels");
            }

            foreach (var (name, value) in labels)
            {
                RequireText(name, MaxLabelLength, $"{field}.labels");
                if (value is null || value.Length > MaxLabelLength)
                {
                    throw new ArgumentException($"label '{name}' must have a value of at most {MaxLabelLength} characters", $"{field}.labels");
                }
            }
        }
    }

    private static void RequireText(string? value, int maxLength, string field)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            throw new ArgumentException("is required", field);
        }

        if (value.Length > maxLength)
        {
            throw new ArgumentException($"is longer than {maxLength} characters", field);
        }

        foreach (var c in value)
        {
            if (char.IsControl(c))
            {
                throw new ArgumentException("must not contain control characters", field);
            }
        }
    }
}
