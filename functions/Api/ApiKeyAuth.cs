using System.Net;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;

namespace Flow.Functions.Api;

/// <summary>
/// Standalone authentication: every <c>/api</c> request but <c>GET /api/health</c> and the OpenAPI document needs the API key
/// (<c>X-Flow-Api-Key: KEY</c> or <c>Authorization: Bearer KEY</c>), compared in constant time. Without a configured key, only
/// loopback requests are accepted, and only when <see cref="FlowAppOptions.AllowAnonymousLoopback"/> is set (local development).
/// The process API (<c>/api/process/runs/…</c>) checks run tokens instead (<see cref="ProcessEndpoints"/>), and a webhook with a secret its signature (<see cref="WebhookEndpoints"/>). Under the Functions host, the host checks function keys before it forwards a request, so this check is off.
/// </summary>
internal static class ApiKeyAuth
{
    public const string Header = "X-Flow-Api-Key";

    public static async Task InvokeAsync(HttpContext context, RequestDelegate next)
    {
        var path = context.Request.Path;
        if (!path.StartsWithSegments("/api", StringComparison.OrdinalIgnoreCase)
            || path.Equals("/api/health", StringComparison.OrdinalIgnoreCase)
            || path.Equals("/api/openapi.json", StringComparison.OrdinalIgnoreCase)
            || path.StartsWithSegments("/api/samples", StringComparison.OrdinalIgnoreCase)
            || path.StartsWithSegments(Flow.Process.ProcessWire.RunsPath, StringComparison.OrdinalIgnoreCase)
            || WebhookEndpoints.IsSignedWebhookCall(context))
        {
            await next(context).ConfigureAwait(false);
            return;
        }

        var options = context.RequestServices.GetRequiredService<IOptions<FlowAppOptions>>().Value;
        if (options.ApiKey is { Length: > 0 } key)
        {
            var given = context.Request.Headers[Header].ToString();
            if (given.Length == 0 && context.Request.Headers.Authorization.ToString() is { } auth && auth.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
            {
                given = auth["Bearer ".Length..].Trim();
            }

            if (given.Length > 0 && CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(given), Encoding.UTF8.GetBytes(key)))
            {
                await next(context).ConfigureAwait(false);
                return;
            }

            context.Response.Headers.WWWAuthenticate = "Bearer";
            await Problems.Problem(401, "Unauthorized", given.Length == 0
                ? $"Send the API key in the {Header} header (or Authorization: Bearer)."
                : "The API key is wrong.").ExecuteAsync(context).ConfigureAwait(false);
            return;
        }

        if (options.AllowAnonymousLoopback && context.Connection.RemoteIpAddress is { } remote && IPAddress.IsLoopback(remote))
        {
            await next(context).ConfigureAwait(false);
            return;
        }

        await Problems.Problem(401, "Unauthorized", "No API key is configured (Flow:App:ApiKey), and anonymous access is allowed only from loopback with Flow:App:AllowAnonymousLoopback=true.")
            .ExecuteAsync(context).ConfigureAwait(false);
    }
}
