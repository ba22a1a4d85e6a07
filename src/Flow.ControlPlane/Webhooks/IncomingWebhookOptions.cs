using System.Text.Json.Nodes;
using Flow.ControlPlane.Secrets;
using Flow.ControlPlane.Templates;

namespace Flow.ControlPlane.Webhooks;

/// <summary>The incoming webhooks (section <c>Flow:Webhooks</c>): name → definition. Checked when the app starts; a bad setting
/// stops the start and names the setting.</summary>
public sealed class IncomingWebhookOptions
{
    /// <summary>The configuration section.</summary>
    public const string SectionName = "Flow:Webhooks";

    /// <summary>The most webhooks.</summary>
    public const int MaxWebhooks = 100;

    /// <summary>The webhooks by name (1-64 letters, digits, <c>-</c>, <c>_</c>).</summary>
    public Dictionary<string, IncomingWebhookDefinition> Webhooks { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Throws unless every definition is usable; the message names the setting.</summary>
    /// <exception cref="InvalidOperationException">A setting is missing or malformed.</exception>
    public void Validate()
    {
        if (Webhooks.Count > MaxWebhooks)
        {
            throw new InvalidOperationException($"{SectionName} has more than {MaxWebhooks} webhooks.");
        }

        foreach (var (name, webhook) in Webhooks)
        {
            var prefix = $"{SectionName}:{name}";
            if (!SecretNames.IsValid(name))
            {
                throw new InvalidOperationException($"{prefix}: a webhook name is 1-{SecretNames.MaxLength} letters, digits, '-' and '_'.");
            }

            Check(prefix, () =>
            {
                if (string.IsNullOrWhiteSpace(webhook.Kind))
                {
                    throw new ArgumentException("is required", "Kind");
                }

                EventTemplate.ValidateText(webhook.Kind, "Kind");
                if (webhook.Resource is not null)
                {
                    EventTemplate.ValidateText(webhook.Resource, "Resource");
                }

                foreach (var (label, template) in webhook.Labels)
                {
                    EventTemplate.ValidateText(template ?? string.Empty, $"Labels:{label}");
                }

                if (webhook.Payload is { } payload)
                {
                    JsonNode? node;
                    try
                    {
                        node = JsonNode.Parse(payload);
                    }
                    catch (System.Text.Json.JsonException ex)
                    {
                        throw new ArgumentException($"is not JSON: {ex.Message}", "Payload");
                    }

                    if (node is not JsonObject)
                    {
                        throw new ArgumentException("must be a JSON object template", "Payload");
                    }

                    EventTemplate.Validate(node, "Payload");
                }

                if (webhook.Secret is not null && !SecretNames.IsValid(webhook.Secret))
                {
                    throw new ArgumentException($"must name a secret: 1-{SecretNames.MaxLength} letters, digits, '-' and '_'", "Secret");
                }

                if (string.IsNullOrWhiteSpace(webhook.SignatureHeader) || string.IsNullOrWhiteSpace(webhook.TimestampHeader) || string.IsNullOrWhiteSpace(webhook.DeliveryIdHeader))
                {
                    throw new ArgumentException("must not be empty", "SignatureHeader/TimestampHeader/DeliveryIdHeader");
                }

                if (webhook.TimestampTolerance <= TimeSpan.Zero || webhook.TimestampTolerance > TimeSpan.FromHours(1))
                {
                    throw new ArgumentException("must be more than 0 and at most 1 hour", "TimestampTolerance");
                }
            });
        }
    }

    private static void Check(string prefix, Action check)
    {
        try
        {
            check();
        }
        catch (ArgumentException ex)
        {
            throw new InvalidOperationException($"{prefix}:{ex.ParamName} {ex.Message.Split(" (Parameter", 2)[0]}.", ex);
        }
    }
}
