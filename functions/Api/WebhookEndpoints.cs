using Flow.Client;
using Flow.ControlPlane.Webhooks;

namespace Flow.Functions.Api;

/// <summary>
/// <c>POST /api/webhooks/{name}</c>: a call from another system becomes an event (docs/webhooks.md). A webhook with a secret
/// authenticates by its HMAC signature (standalone the API key is not asked for; under Functions its route is anonymous); one
/// without a secret needs the API key standalone and is refused under Functions.
/// </summary>
internal static class WebhookEndpoints
{
    public const string Prefix = "/api/webhooks";

    public static void Map(WebApplication app, bool functionsMode)
    {
        app.MapPost(Prefix + "/{name}", async (string name, HttpRequest request, IncomingWebhookReceiver receiver, CancellationToken cancellationToken) =>
        {
            var body = await ReadBodyAsync(request, cancellationToken).ConfigureAwait(false);
            if (body is null)
            {
                return Problems.Problem(413, "Payload too large", $"The body is larger than {IncomingWebhookReceiver.MaxBodyBytes} bytes.", new Dictionary<string, string[]> { ["body"] = ["too large"] });
            }

            // Standalone, a call reaching here for a webhook without a secret passed the API-key check (ApiKeyAuth exempts only
            // signed webhooks); under Functions the route is anonymous, so nothing vouches for it.
            var receipt = await receiver.ReceiveAsync(name, header => request.Headers.TryGetValue(header, out var v) ? v.ToString() : null, body, !functionsMode, cancellationToken).ConfigureAwait(false);
            return receipt switch
            {
                { Accepted: true } => Results.Json(new WebhookReceiptView { EventId = receipt.EventId! }, ApiJson.Options, statusCode: 202),
                { StatusCode: 404 } => Problems.NotFound(receipt.Error!),
                { StatusCode: 401 } => Problems.Problem(401, "Unauthorized", receipt.Error!),
                { Field: { } field } => Problems.Problem(receipt.StatusCode, "Invalid webhook call", receipt.Error!, new Dictionary<string, string[]> { [field] = [receipt.Error!] }),
                _ => Problems.Problem(receipt.StatusCode, "Webhook unavailable", receipt.Error!),
            };
        })
        .Produces<WebhookReceiptView>(202)
        .ProducesProblem(400).ProducesProblem(401).ProducesProblem(404).ProducesProblem(413)
        .WithTags("Events")
        .WithSummary("Turns a call from another system into an event, per the webhook's definition (Flow:Webhooks:{name}); signed webhooks need no API key.");
    }

    /// <summary>Whether a request is for a webhook that authenticates by signature (so the API-key check lets it through).</summary>
    public static bool IsSignedWebhookCall(HttpContext context) =>
        HttpMethods.IsPost(context.Request.Method)
        && context.Request.Path.StartsWithSegments(Prefix, StringComparison.OrdinalIgnoreCase, out var rest)
        && rest.Value is { Length: > 1 } name && name.IndexOf('/', 1) < 0
        && context.RequestServices.GetRequiredService<IncomingWebhookReceiver>().IsSigned(name[1..]);

    private static async Task<byte[]?> ReadBodyAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        if (request.ContentLength > IncomingWebhookReceiver.MaxBodyBytes)
        {
            return null;
        }

        using var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int read;
        while ((read = await request.Body.ReadAsync(chunk, cancellationToken).ConfigureAwait(false)) > 0)
        {
            if (buffer.Length + read > IncomingWebhookReceiver.MaxBodyBytes)
            {
                return null;
            }

            buffer.Write(chunk, 0, read);
        }

        return buffer.ToArray();
    }
}
