using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Flow.ControlPlane.Secrets;
using Flow.ControlPlane.Templates;
using Flow.Engine.Events;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Flow.ControlPlane.Webhooks;

/// <summary>
/// Turns an incoming webhook call into an event (docs/webhooks.md): finds the definition, checks the signature in constant
/// time, fills the definition's templates from the body and headers, and appends the event. A refused call (unknown webhook,
/// missing or wrong signature, stale timestamp, unusable body) stores no event of its own kind; unsigned and badly signed
/// calls are recorded as a <c>webhook.refused</c> event with the reason, never with the secret or the signature.
/// </summary>
public sealed partial class IncomingWebhookReceiver
{
    /// <summary>The largest body accepted, in bytes (1 MiB).</summary>
    public const int MaxBodyBytes = 1024 * 1024;

    /// <summary>The kind of the event that records a refused call.</summary>
    public const string RefusedKind = "webhook.refused";

    private readonly IEventStore _events;
    private readonly INamedSecrets _secrets;
    private readonly IOptions<IncomingWebhookOptions> _options;
    private readonly TimeProvider _time;
    private readonly ILogger<IncomingWebhookReceiver> _logger;

    /// <summary>Creates the receiver.</summary>
    /// <param name="events">Where events go.</param>
    /// <param name="secrets">The named secrets.</param>
    /// <param name="options">The webhook definitions.</param>
    /// <param name="time">The clock.</param>
    /// <param name="logger">The logger.</param>
    public IncomingWebhookReceiver(IEventStore events, INamedSecrets secrets, IOptions<IncomingWebhookOptions> options, TimeProvider time, ILogger<IncomingWebhookReceiver> logger)
    {
        _events = events;
        _secrets = secrets;
        _options = options;
        _time = time;
        _logger = logger;
    }

    /// <summary>Whether <paramref name="name"/> is a webhook with a secret (its calls authenticate by signature, not API key).</summary>
    /// <param name="name">The webhook name.</param>
    /// <returns>True when defined with a secret.</returns>
    public bool IsSigned(string name) => _options.Value.Webhooks.TryGetValue(name, out var webhook) && webhook.Secret is not null;

    /// <summary>Receives one call.</summary>
    /// <param name="name">The webhook name from the route.</param>
    /// <param name="headers">The request headers by name (case-insensitive lookup).</param>
    /// <param name="body">The request body.</param>
    /// <param name="authenticatedByApiKey">Whether the caller sent the API key (required for a webhook without a secret).</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The receipt.</returns>
    public async Task<WebhookReceipt> ReceiveAsync(
        string name, Func<string, string?> headers, ReadOnlyMemory<byte> body, bool authenticatedByApiKey, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(headers);
        if (!_options.Value.Webhooks.TryGetValue(name, out var webhook))
        {
            return new WebhookReceipt(404, null, $"No webhook is named '{name}' (settings Flow:Webhooks:{{name}}).");
        }

        var now = _time.GetUtcNow();
        if (await CheckSignatureAsync(name, webhook, headers, body, authenticatedByApiKey, now, cancellationToken).ConfigureAwait(false) is { } refused)
        {
            return refused;
        }

        if (body.Length > MaxBodyBytes)
        {
            return new WebhookReceipt(413, null, $"The body is larger than {MaxBodyBytes} bytes.", "body");
        }

        JsonNode? parsed;
        try
        {
            parsed = body.Length == 0 ? null : JsonNode.Parse(body.Span, documentOptions: new JsonDocumentOptions { MaxDepth = EventTemplate.MaxDepth });
        }
        catch (JsonException ex)
        {
            return new WebhookReceipt(400, null, $"The body is not JSON: {ex.Message}", "body");
        }

        FlowEvent flowEvent;
        try
        {
            flowEvent = ToEvent(name, webhook, parsed, headers, now);
            EventRules.Validate(flowEvent);
        }
        catch (ArgumentException ex)
        {
            return new WebhookReceipt(400, null, ex.Message.Split(" (Parameter", 2)[0], ex.ParamName);
        }

        await _events.AppendAsync([flowEvent], cancellationToken).ConfigureAwait(false);
        LogAccepted(_logger, name, flowEvent.Kind, flowEvent.Id);
        return new WebhookReceipt(202, flowEvent.Id, null);
    }

    private async Task<WebhookReceipt?> CheckSignatureAsync(
        string name, IncomingWebhookDefinition webhook, Func<string, string?> headers, ReadOnlyMemory<byte> body, bool byApiKey, DateTimeOffset now, CancellationToken cancellationToken)
    {
        string? reason;
        if (webhook.Secret is null)
        {
            reason = byApiKey ? null : "This webhook has no secret, so it needs the API key; configure Flow:Webhooks:" + name + ":Secret to accept signed calls.";
        }
        else if (!_secrets.TryGet(webhook.Secret, out var secret))
        {
            LogSecretMissing(_logger, name, webhook.Secret);
            return new WebhookReceipt(503, null, $"The webhook's secret '{webhook.Secret}' is not configured (Flow:Secrets:{webhook.Secret}).");
        }
        else
        {
            reason = Verify(webhook, secret, headers, body.Span, now);
        }

        if (reason is null)
        {
            return null;
        }

        LogRefused(_logger, name, reason);
        var refused = new FlowEvent
        {
            Id = "webhook.refused." + Guid.NewGuid().ToString("N"),
            OccurredAt = now,
            Kind = RefusedKind,
            Resource = new EventResource($"webhook/{name}", Labels: new Dictionary<string, string> { ["webhook"] = name }),
            Payload = new JsonObject { ["reason"] = reason, ["bodyBytes"] = body.Length }.ToJsonString(),
        };
        await _events.AppendAsync([refused], cancellationToken).ConfigureAwait(false);
        return new WebhookReceipt(401, null, reason);
    }

    private static string? Verify(IncomingWebhookDefinition webhook, byte[] secret, Func<string, string?> headers, ReadOnlySpan<byte> body, DateTimeOffset now)
    {
        var signature = headers(webhook.SignatureHeader);
        if (string.IsNullOrEmpty(signature))
        {
            return $"The call is not signed: the {webhook.SignatureHeader} header is missing.";
        }

        if (webhook.Scheme == WebhookSignatureScheme.Body)
        {
            return WebhookSignature.VerifyBody(secret, body, signature) ? null : $"The {webhook.SignatureHeader} signature does not match the body.";
        }

        if (!long.TryParse(headers(webhook.TimestampHeader), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var seconds))
        {
            return $"The {webhook.TimestampHeader} header is missing or not Unix seconds.";
        }

        if (Math.Abs(now.ToUnixTimeSeconds() - seconds) > webhook.TimestampTolerance.TotalSeconds)
        {
            return $"The {webhook.TimestampHeader} timestamp is more than {webhook.TimestampTolerance.TotalSeconds:0} s from now.";
        }

        return WebhookSignature.VerifyTimestamped(secret, seconds, body, signature) ? null : $"The {webhook.SignatureHeader} signature does not match the timestamp and body.";
    }

    private static FlowEvent ToEvent(string name, IncomingWebhookDefinition webhook, JsonNode? body, Func<string, string?> headers, DateTimeOffset now)
    {
        var headerValues = new JsonObject();
        foreach (var header in HeadersTemplatesRead(webhook))
        {
            if (headers(header) is { } value)
            {
                headerValues[header] = value;
            }
        }

        var context = new JsonObject { ["body"] = body?.DeepClone(), ["headers"] = headerValues, ["webhook"] = new JsonObject { ["name"] = name } };
        var labels = new Dictionary<string, string>(StringComparer.Ordinal) { ["webhook"] = name };
        foreach (var (label, template) in webhook.Labels)
        {
            labels[label] = EventTemplate.RenderText(template, context);
        }

        string? payload;
        if (webhook.Payload is { } payloadTemplate)
        {
            payload = EventTemplate.Render(JsonNode.Parse(payloadTemplate), context)?.ToJsonString();
        }
        else if (body is JsonObject)
        {
            payload = body.ToJsonString();
            if (Encoding.UTF8.GetByteCount(payload) > FlowEvent.MaxPayloadBytes)
            {
                throw new ArgumentException($"is larger than an event payload ({FlowEvent.MaxPayloadBytes} bytes); give the webhook a Payload template that picks the fields", "body");
            }
        }
        else
        {
            payload = body is null ? null : new JsonObject { ["body"] = body.DeepClone() }.ToJsonString();
        }

        var deliveryId = headers(webhook.DeliveryIdHeader);
        return new FlowEvent
        {
            Id = deliveryId is { Length: > 0 and <= 100 } && deliveryId.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.')
                ? $"webhook.{name}.{deliveryId}"
                : $"webhook.{name}.{Guid.NewGuid():N}",
            OccurredAt = now,
            Kind = EventTemplate.RenderText(webhook.Kind!, context).Trim(),
            Resource = new EventResource(webhook.Resource is { } resource ? EventTemplate.RenderText(resource, context).Trim() : $"webhook/{name}", Labels: labels),
            Payload = payload,
        };
    }

    /// <summary>The headers a definition's templates may read: those named in <c>headers.*</c> placeholders, found by a scan of
    /// the templates (so no other header, such as an Authorization header, is copied into an event).</summary>
    private static IEnumerable<string> HeadersTemplatesRead(IncomingWebhookDefinition webhook)
    {
        var texts = new List<string?> { webhook.Kind, webhook.Resource, webhook.Payload };
        texts.AddRange(webhook.Labels.Values);
        var names = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var text in texts)
        {
            var position = 0;
            while (text is not null && (position = text.IndexOf("headers.", position, StringComparison.Ordinal)) >= 0)
            {
                position += "headers.".Length;
                var end = position;
                while (end < text.Length && (char.IsAsciiLetterOrDigit(text[end]) || text[end] is '-' or '_'))
                {
                    end++;
                }

                if (end > position)
                {
                    names.Add(text[position..end]);
                }
            }
        }

        return names;
    }

    [LoggerMessage(EventId = 4001, Level = LogLevel.Information, Message = "Webhook {Webhook} stored event {EventKind} ({EventId})")]
    private static partial void LogAccepted(ILogger logger, string webhook, string eventKind, string eventId);

    [LoggerMessage(EventId = 4002, Level = LogLevel.Warning, Message = "Webhook {Webhook} refused a call: {Reason}")]
    private static partial void LogRefused(ILogger logger, string webhook, string reason);

    [LoggerMessage(EventId = 4003, Level = LogLevel.Error, Message = "Webhook {Webhook} names secret {Secret}, which is not configured")]
    private static partial void LogSecretMissing(ILogger logger, string webhook, string secret);
}
