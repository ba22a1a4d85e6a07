using Microsoft.Extensions.FileProviders;
using Microsoft.Net.Http.Headers;

namespace Flow.Functions.Api;

/// <summary>
/// Serves the dashboard (the built <c>ui/</c>, copied into <c>wwwroot</c> beside the executable) at <c>/</c>: hashed assets
/// under <c>/assets/</c> as immutable, <c>index.html</c> as no-cache, and <c>index.html</c> for every other non-API GET so deep
/// links work. Without a built dashboard, <c>GET /</c> answers the liveness JSON it always did. No authentication: the files
/// hold no data; the API they call is key-protected.
/// </summary>
internal static class DashboardFiles
{
    /// <summary>The folder the build copies the dashboard into, beside the executable.</summary>
    public static string Root => Path.Combine(AppContext.BaseDirectory, "wwwroot");

    public static void Map(WebApplication app)
    {
        var index = Path.Combine(Root, "index.html");
        if (!File.Exists(index))
        {
            app.MapGet("/", () => Results.Ok(new { service = "flow", status = "ok", dashboard = "not built (run npm ci && npm run build in ui/)" })).ExcludeFromDescription();
            return;
        }

        var files = new PhysicalFileProvider(Root);
        app.UseStaticFiles(new StaticFileOptions
        {
            FileProvider = files,
            OnPrepareResponse = context => context.Context.Response.Headers.CacheControl =
                context.Context.Request.Path.StartsWithSegments("/assets", StringComparison.Ordinal) ? "public, max-age=31536000, immutable" : "no-cache",
        });
        app.MapGet("/", (HttpContext context) => IndexHtml(context)).ExcludeFromDescription();
        app.MapFallback((HttpContext context) =>
            HttpMethods.IsGet(context.Request.Method) && !context.Request.Path.StartsWithSegments("/api", StringComparison.OrdinalIgnoreCase)
                && !context.Request.Path.StartsWithSegments("/assets", StringComparison.OrdinalIgnoreCase)
                ? IndexHtml(context)
                : Problems.NotFound($"No endpoint answers {context.Request.Method} {context.Request.Path}.")).ExcludeFromDescription();
    }

    private static IResult IndexHtml(HttpContext context)
    {
        context.Response.Headers.CacheControl = "no-cache";
        context.Response.Headers[HeaderNames.XContentTypeOptions] = "nosniff";
        return Results.File(Path.Combine(Root, "index.html"), "text/html; charset=utf-8");
    }
}
