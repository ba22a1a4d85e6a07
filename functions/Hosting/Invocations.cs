using System.Globalization;
using System.Text.Json;
using Flow.Engine;
using Flow.ControlPlane;
using Flow.ControlPlane.Automations;
using Flow.Engine.Storage;

namespace Flow.Functions.Hosting;

/// <summary>
/// The custom handler's invocation endpoints: the Functions host POSTs <c>/{functionName}</c> with
/// <c>{"Data": {...}, "Metadata": {...}}</c> for timer and queue triggers and expects <c>{"Outputs", "Logs", "ReturnValue"}</c>.
/// A failed invocation answers 500, so the host retries the message and finally moves it to its poison queue.
/// </summary>
internal static partial class Invocations
{
    /// <summary>The function names (folders with a function.json) this app defines, besides the HTTP ones.</summary>
    public const string SchedulerTick = "scheduler-tick";

    /// <summary>The run-request queue function.</summary>
    public const string RunRequests = "run-requests";

    /// <summary>The prefix of run-queue functions (<c>runs-default</c>).</summary>
    public const string RunsPrefix = "runs-";

    /// <summary>The prefix of task-queue functions (<c>tasks-default</c>).</summary>
    public const string TasksPrefix = "tasks-";

    public static void Map(WebApplication app)
    {
        app.MapPost("/" + SchedulerTick, TickAsync).ExcludeFromDescription();
        app.MapPost("/" + RunRequests, RunRequestAsync).ExcludeFromDescription();
        app.MapPost("/{function}", WorkItemAsync).ExcludeFromDescription();
    }

    /// <summary>
    /// The timer tick: due schedules, then automations. Each runs even when the other fails (a failing evaluator must not stop
    /// schedules, nor the other way round); a failure of either answers 500, so the host records a failed invocation.
    /// </summary>
    private static async Task<IResult> TickAsync(DeploymentScheduler scheduler, AutomationEvaluator automations, ILoggerFactory loggers, CancellationToken ct)
    {
        var logger = loggers.CreateLogger("Flow.Functions.SchedulerTick");
        var lines = new List<string>(2);
        var failed = false;
        try
        {
            var result = await scheduler.TickAsync(ct);
            lines.Add(string.Create(CultureInfo.InvariantCulture, $"Scheduler tick: {result.Created} runs created, {result.Existing} already existed"));
        }
        catch (Exception e) when (e is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            failed = true;
            LogTickPartFailed(logger, e, "schedules");
            lines.Add("Scheduler tick: schedules failed: " + e.GetType().Name);
        }

        try
        {
            var evaluated = await automations.TickAsync(ct);
            lines.Add(string.Create(CultureInfo.InvariantCulture, $"Automations: {evaluated.Events} events, {evaluated.Fired} firings, {evaluated.ActionsDone} actions done"));
        }
        catch (Exception e) when (e is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            failed = true;
            LogTickPartFailed(logger, e, "automations");
            lines.Add("Automations failed: " + e.GetType().Name);
        }

        return failed
            ? Results.Json(new InvocationResponse(new Dictionary<string, object?>(), [.. lines], null), HostJson, statusCode: StatusCodes.Status500InternalServerError)
            : Results.Json(new InvocationResponse(new Dictionary<string, object?>(), [.. lines], null), HostJson);
    }

    private static async Task<IResult> RunRequestAsync(HttpRequest request, RunRequestHandler handler, ILoggerFactory loggers, CancellationToken ct)
    {
        var invocation = await InvocationRequest.ReadAsync(request, ct);
        if (invocation is null)
        {
            return Results.BadRequest("Expected {\"Data\": {...}, \"Metadata\": {...}}.");
        }

        var body = invocation.Message ?? string.Empty;
        var id = invocation.MessageId is { Length: > 0 } given ? given : "invocation-" + Guid.CreateVersion7().ToString("N");
        var outcome = await handler.HandleAsync(body, id, "flow-run-requests", ct);
        return outcome.Rejection is { } rejected
            ? Answer($"Run request {id} refused: {rejected.Reason}")
            : Answer($"Run request {id} started run {outcome.RunId} (new: {outcome.Created})");
    }

    private static async Task<IResult> WorkItemAsync(string function, HttpRequest request, FlowEngine engine, IControlStore control, Flow.Process.ProcessRunExecutor processes, ILoggerFactory loggers, CancellationToken ct)
    {
        var pool = function.StartsWith(RunsPrefix, StringComparison.Ordinal) ? function[RunsPrefix.Length..]
            : function.StartsWith(TasksPrefix, StringComparison.Ordinal) ? function[TasksPrefix.Length..]
            : null;
        if (pool is null || !ControlNames.IsValidPoolName(pool))
        {
            return Results.NotFound($"No function named '{function}' (queue functions are runs-POOL and tasks-POOL).");
        }

        var invocation = await InvocationRequest.ReadAsync(request, ct);
        if (invocation is null)
        {
            return Results.BadRequest("Expected {\"Data\": {...}, \"Metadata\": {...}}.");
        }

        if (engine.Queue is not DeliveredWorkQueue delivered)
        {
            return Results.Problem("The app is not running under the Functions host (FUNCTIONS_CUSTOMHANDLER_PORT is not set).", statusCode: 500);
        }

        var logger = loggers.CreateLogger("Flow.Functions.Invocations");
        var text = invocation.Message ?? string.Empty;
        var item = delivered.Wrap(function, RunRequestHandler.Unwrap(text) ?? text, invocation.MessageId ?? Guid.CreateVersion7().ToString("N"), invocation.DequeueCount, engine.Options.LeaseDuration);
        if (function.StartsWith(RunsPrefix, StringComparison.Ordinal) && await control.GetWorkPoolAsync(pool, ct) is { Record.Type: WorkPoolRecord.ProcessType })
        {
            // A process pool's run: this instance is its worker (the subprocess runs while the invocation lasts).
            await processes.ProcessAsync(item, ct);
            return Answer($"{function}: process run {item.Item?.RunId} handled");
        }

        try
        {
            await engine.ProcessDeliveredAsync(item, ct);
            return Answer($"{function}: work item {item.MessageId} for run {item.Item?.RunId} processed");
        }
        catch (DeadLetterRequestedException e)
        {
            // Failing the invocation makes the host deliver the message again and, after maxDequeueCount, poison it.
            LogDeadLetter(logger, item.MessageId, function, e.Message);
            return Results.Json(new InvocationResponse(new Dictionary<string, object?>(), [$"{function}: message {item.MessageId} cannot be processed: {e.Message}"], null), HostJson, statusCode: 500);
        }
    }

    // The host reads Outputs/Logs/ReturnValue with these exact names.
    private static readonly JsonSerializerOptions HostJson = new() { PropertyNamingPolicy = null };

    private static IResult Answer(string log) => Results.Json(new InvocationResponse(new Dictionary<string, object?>(), [log], null), HostJson);

    [LoggerMessage(711, LogLevel.Error, "The scheduler tick's {Part} failed; the other part ran, the next tick tries again")]
    private static partial void LogTickPartFailed(ILogger logger, Exception exception, string part);

    [LoggerMessage(710, LogLevel.Warning, "Message {MessageId} on {Function} cannot be processed: {Reason}")]
    private static partial void LogDeadLetter(ILogger logger, string messageId, string function, string reason);
}

/// <summary>The answer to an invocation.</summary>
internal sealed record InvocationResponse(Dictionary<string, object?> Outputs, string[] Logs, object? ReturnValue);

/// <summary>
/// What the Functions host sends, read defensively: the trigger's data is the first entry of <c>Data</c> (whatever the
/// binding is named); strings may arrive JSON-encoded once more (even several times); metadata numbers may be strings.
/// </summary>
internal sealed record InvocationRequest(string? Message, string? MessageId, int DequeueCount)
{
    public static async Task<InvocationRequest?> ReadAsync(HttpRequest request, CancellationToken ct)
    {
        JsonDocument document;
        try
        {
            document = await JsonDocument.ParseAsync(request.Body, default, ct);
        }
        catch (JsonException)
        {
            return null;
        }

        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                return null;
            }

            string? message = null;
            if (Property(root, "Data") is { ValueKind: JsonValueKind.Object } data)
            {
                foreach (var binding in data.EnumerateObject())
                {
                    message = Text(binding.Value);
                    break;
                }
            }

            string? id = null;
            var dequeueCount = 1;
            if (Property(root, "Metadata") is { ValueKind: JsonValueKind.Object } metadata)
            {
                id = Property(metadata, "Id") is { } idValue ? Text(idValue) : null;
                if (Property(metadata, "DequeueCount") is { } count)
                {
                    var countText = Text(count);
                    if (int.TryParse(countText, NumberStyles.Integer, CultureInfo.InvariantCulture, out var parsed) && parsed > 0)
                    {
                        dequeueCount = parsed;
                    }
                }
            }

            return new InvocationRequest(message, id, dequeueCount);
        }
    }

    private static JsonElement? Property(JsonElement element, string name)
    {
        foreach (var property in element.EnumerateObject())
        {
            if (string.Equals(property.Name, name, StringComparison.OrdinalIgnoreCase))
            {
                return property.Value;
            }
        }

        return null;
    }

    /// <summary>A value as text: a JSON string is unwrapped while it still holds a JSON-encoded string; objects and numbers keep their JSON.</summary>
    internal static string? Text(JsonElement value)
    {
        switch (value.ValueKind)
        {
            case JsonValueKind.Null or JsonValueKind.Undefined:
                return null;
            case JsonValueKind.String:
                var text = value.GetString()!;
                for (var depth = 0; depth < 5 && text.Length >= 2 && text[0] == '"' && text[^1] == '"'; depth++)
                {
                    try
                    {
                        text = JsonSerializer.Deserialize<string>(text)!;
                    }
                    catch (JsonException)
                    {
                        break;
                    }
                }

                return text;
            default:
                return value.GetRawText();
        }
    }
}
