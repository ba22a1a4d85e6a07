using Flow.Functions.Hosting;

namespace Flow.Functions.Api;

/// <summary>
/// API calls while the storage is down (<see cref="StorageHealth"/>): answered at once with 503 and <c>Retry-After</c>; a call
/// already waiting on the storage is cancelled when the outage is noticed and answers the same; a call that fails because the
/// storage could not be reached is a 503 too, never a 500. /api/health and the OpenAPI document are not affected.
/// </summary>
internal static class StorageOutage
{
    private const int RetryAfterSeconds = 5;
    private static readonly TimeSpan SlowCall = TimeSpan.FromMilliseconds(500);

    public static async Task InvokeAsync(HttpContext context, RequestDelegate next)
    {
        var path = context.Request.Path;
        if (!path.StartsWithSegments("/api") || path.StartsWithSegments("/api/health") || path.StartsWithSegments("/api/openapi.json"))
        {
            await next(context).ConfigureAwait(false);
            return;
        }

        var health = context.RequestServices.GetRequiredService<StorageHealth>();
        if (health.Failure is { } down)
        {
            await UnavailableAsync(context, down).ConfigureAwait(false);
            return;
        }

        var original = context.RequestAborted;
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(original, health.OutageToken);
        using var slow = new CancellationTokenSource(SlowCall);
        using var probe = slow.Token.Register(health.Suspect);
        context.RequestAborted = linked.Token;
        try
        {
            await next(context).ConfigureAwait(false);
        }
        catch (Exception e) when (!context.Response.HasStarted && !original.IsCancellationRequested && (linked.IsCancellationRequested || StorageFailure.IsUnreachable(e)))
        {
            health.Suspect();
            await UnavailableAsync(context, health.Failure ?? e.Message).ConfigureAwait(false);
        }
        finally
        {
            context.RequestAborted = original;
        }
    }

    private static Task UnavailableAsync(HttpContext context, string failure)
    {
        context.Response.Headers.RetryAfter = RetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return Problems.Problem(503, "Storage unavailable", $"The storage is not answering ({failure}); retry in {RetryAfterSeconds} s. Nothing was changed by this request unless it said so before.", type: "https://flow.dev/problems/storage-unavailable").ExecuteAsync(context);
    }
}
