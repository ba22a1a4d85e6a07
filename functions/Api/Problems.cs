using System.Text.Json;
using Flow.Client;
using Flow.Engine;
using Flow.ControlPlane;
using Flow.Engine.Storage;
using Microsoft.Extensions.Options;

namespace Flow.Functions.Api;

/// <summary>Errors as RFC 9457 problem details (<c>application/problem+json</c>), and strict JSON request bodies.</summary>
internal static partial class Problems
{
    public const string ContentType = "application/problem+json";

    /// <summary>
    /// JSON options of request bodies: web defaults made strict — unknown fields (a typo is an error, not silently ignored),
    /// duplicate keys, numbers written as strings and nesting deeper than 64 levels are refused.
    /// </summary>
    public static readonly JsonSerializerOptions RequestJson = JsonInputErrors.MakeStrict(new(JsonSerializerDefaults.Web));

    public static IResult Problem(int status, string title, string detail, IReadOnlyDictionary<string, string[]>? errors = null, string? type = null) =>
        Results.Json(new ProblemDetailsView { Type = type ?? "about:blank", Title = title, Status = status, Detail = detail, Errors = errors }, ApiJson.Options, ContentType, status);

    public static IResult Validation(IReadOnlyDictionary<string, string[]> errors, string? detail = null) =>
        Problem(400, "The request is invalid", detail ?? string.Join("; ", errors.SelectMany(e => e.Value.Select(m => $"{e.Key}: {m}"))), errors, "https://flow.dev/problems/validation");

    public static IResult Field(string field, string message) => Validation(new Dictionary<string, string[]> { [field] = [message] });

    public static IResult NotFound(string detail) => Problem(404, "Not found", detail, type: "https://flow.dev/problems/not-found");

    public static IResult FromException(ControlPlaneException e) => e switch
    {
        InvalidRequestException invalid => Validation(invalid.Errors, invalid.Message),
        ResourceNotFoundException => NotFound(e.Message),
        ResourceConflictException => Problem(409, "Conflict", e.Message, type: "https://flow.dev/problems/conflict"),
        _ => Problem(400, "Bad request", e.Message),
    };

    /// <summary>Reads a JSON body into <typeparamref name="T"/>: 413 beyond the size limit, 415 for a non-JSON content type, 400 naming the field for malformed JSON or wrong types.</summary>
    public static async Task<(T? Value, IResult? Error)> ReadJsonAsync<T>(HttpRequest request, bool required, CancellationToken cancellationToken)
        where T : class
    {
        var limit = request.HttpContext.RequestServices.GetRequiredService<IOptions<FlowAppOptions>>().Value.MaxRequestBodyBytes;
        var (text, error) = await ReadTextAsync(request, limit, cancellationToken).ConfigureAwait(false);
        if (error is not null)
        {
            return (null, error);
        }

        if (string.IsNullOrWhiteSpace(text))
        {
            return required ? (null, Field("(body)", "a JSON body is required")) : (null, null);
        }

        if (request.ContentType is { } contentType && !contentType.Contains("json", StringComparison.OrdinalIgnoreCase))
        {
            return (null, Problem(415, "Unsupported media type", $"Send JSON (Content-Type: application/json), not {contentType}."));
        }

        try
        {
            var value = JsonSerializer.Deserialize<T>(text, RequestJson);
            return value is null ? (null, Field("(body)", "expected a JSON object, not null")) : (value, null);
        }
        catch (JsonException e)
        {
            return (null, Field(JsonInputErrors.Field(e) ?? "(body)", JsonInputErrors.Describe(e)));
        }
    }

    /// <summary>Reads the body as text, refusing more than <paramref name="limit"/> bytes with 413.</summary>
    public static async Task<(string? Text, IResult? Error)> ReadTextAsync(HttpRequest request, int limit, CancellationToken cancellationToken)
    {
        if (request.ContentLength > limit)
        {
            return (null, TooLarge(limit));
        }

        using var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int read;
        while ((read = await request.Body.ReadAsync(chunk, cancellationToken).ConfigureAwait(false)) > 0)
        {
            if (buffer.Length + read > limit)
            {
                return (null, TooLarge(limit));
            }

            buffer.Write(chunk, 0, read);
        }

        try
        {
            return (new System.Text.UTF8Encoding(false, true).GetString(buffer.GetBuffer(), 0, (int)buffer.Length), null);
        }
        catch (System.Text.DecoderFallbackException)
        {
            return (null, Field("(body)", "the body is not valid UTF-8"));
        }
    }

    private static IResult TooLarge(int limit) =>
        Problem(413, "Request body too large", $"The body exceeds {limit:N0} bytes (Flow:App:MaxRequestBodyBytes).", type: "https://flow.dev/problems/too-large");

    /// <summary>Turns exceptions that escape an endpoint into problem details; unexpected ones become 500 without internals.</summary>
    public static async Task HandleExceptionsAsync(HttpContext context, RequestDelegate next)
    {
        try
        {
            await next(context).ConfigureAwait(false);
        }
        catch (Exception e) when (!context.Response.HasStarted && e is ControlPlaneException or ArgumentException or FlowNotFoundException or PayloadTooLargeException or BadHttpRequestException or JsonException)
        {
            var result = e switch
            {
                ControlPlaneException cp => FromException(cp),
                FlowNotFoundException nf => Problem(409, "Flow not registered", nf.Message),
                PayloadTooLargeException large => Problem(413, "Payload too large", large.Message),
                BadHttpRequestException bad => FromBadRequest(bad),
                JsonException json => Field(JsonInputErrors.Field(json) ?? "(body)", JsonInputErrors.Describe(json)),
                ArgumentException { ParamName: { Length: > 0 } name } argument => Field(name, argument.Message.Replace($" (Parameter '{name}')", string.Empty, StringComparison.Ordinal)),
                _ => Field("(request)", e.Message),
            };
            await result.ExecuteAsync(context).ConfigureAwait(false);
        }
        catch (Exception e) when (!context.Response.HasStarted && e is not OperationCanceledException)
        {
            var logger = context.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger("Flow.Functions.Api");
            LogUnhandled(logger, e, context.Request.Method, context.Request.Path);
            await Problem(500, "Internal error", "The request failed; the error is in the app's log (trace id " + context.TraceIdentifier + ").").ExecuteAsync(context).ConfigureAwait(false);
        }
    }

    /// <summary>An error status with no body (no route matched, a method not allowed): problem details saying what it means.</summary>
    /// <param name="context">The status code context.</param>
    /// <returns>A task.</returns>
    public static Task WriteStatusCodeAsync(Microsoft.AspNetCore.Diagnostics.StatusCodeContext context)
    {
        var http = context.HttpContext;
        var status = http.Response.StatusCode;
        var (title, detail) = status switch
        {
            404 => ("Not found", $"Nothing is at {http.Request.Method} {http.Request.Path}; see /api/openapi.json for the API."),
            405 => ("Method not allowed", $"{http.Request.Method} is not allowed on {http.Request.Path}."),
            _ => ("Error", $"The request failed with status {status}."),
        };
        return Problem(status, title, detail).ExecuteAsync(http);
    }

    /// <summary>
    /// A request ASP.NET Core could not bind (<c>?count=abc</c>, a missing required query value): a problem naming the parameter.
    /// Route handlers throw these because <c>RouteHandlerOptions.ThrowOnBadRequest</c> is on.
    /// </summary>
    internal static IResult FromBadRequest(BadHttpRequestException bad)
    {
        if (bad.InnerException is JsonException json)
        {
            return Field(JsonInputErrors.Field(json) ?? "(body)", JsonInputErrors.Describe(json));
        }

        if (BindFailure().Match(bad.Message) is { Success: true } failed)
        {
            var type = failed.Groups["type"].Value;
            var expected = type switch
            {
                _ when type.Contains("int", StringComparison.OrdinalIgnoreCase) || type.Contains("long", StringComparison.OrdinalIgnoreCase) => "a whole number",
                _ when type.Contains("double", StringComparison.OrdinalIgnoreCase) || type.Contains("decimal", StringComparison.OrdinalIgnoreCase) => "a number",
                _ when type.Contains("bool", StringComparison.OrdinalIgnoreCase) => "true or false",
                _ when type.Contains("Date", StringComparison.Ordinal) => "a date and time (ISO 8601)",
                _ => "a valid value",
            };
            return Field(CamelCase(failed.Groups["name"].Value), $"must be {expected}, not '{Shorten(failed.Groups["value"].Value)}'");
        }

        if (MissingRequired().Match(bad.Message) is { Success: true } missing)
        {
            return Field(CamelCase(missing.Groups["name"].Value), "is required");
        }

        return bad.StatusCode == 400 ? Field("(request)", bad.Message) : Problem(bad.StatusCode, "Bad request", bad.Message);
    }

    private static string Shorten(string value) => value.Length <= 40 ? value : value[..37] + "...";

    private static string CamelCase(string name) => name.Length > 0 && char.IsUpper(name[0]) ? char.ToLowerInvariant(name[0]) + name[1..] : name;

    [System.Text.RegularExpressions.GeneratedRegex("^Failed to bind parameter \"(?<type>\\S+) (?<name>[^\"]+)\" from \"(?<value>.*)\"\\.?$", System.Text.RegularExpressions.RegexOptions.Singleline)]
    private static partial System.Text.RegularExpressions.Regex BindFailure();

    [System.Text.RegularExpressions.GeneratedRegex("^Required parameter \"(?<type>\\S+) (?<name>[^\"]+)\" was not provided")]
    private static partial System.Text.RegularExpressions.Regex MissingRequired();

    [LoggerMessage(700, LogLevel.Error, "{Method} {Path} failed")]
    private static partial void LogUnhandled(ILogger logger, Exception exception, string method, string path);
}

/// <summary>JSON options of responses: Flow.Client's conventions, so the client reads what the API writes.</summary>
internal static class ApiJson
{
    public static JsonSerializerOptions Options => FlowJson.Options;
}
