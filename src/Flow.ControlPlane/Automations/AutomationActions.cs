using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Flow.ControlPlane.Secrets;
using Flow.ControlPlane.Templates;
using Flow.Engine.Events;
using Microsoft.Extensions.Options;

namespace Flow.ControlPlane.Automations;

/// <summary>Performs one attempt of an automation action, its templates rendered against the firing; never throws for a
/// failed attempt (the outcome says what happened), only for cancellation.</summary>
public sealed class AutomationActions : IDisposable
{
    private readonly DeploymentService _deployments;
    private readonly IEventStore _events;
    private readonly INamedSecrets _secrets;
    private readonly IAutomationQueue? _queue;
    private readonly HttpClient _http;
    private readonly bool _ownsHttp;
    private readonly TimeProvider _time;
    private readonly AutomationOptions _options;

    /// <summary>Creates the action runner.</summary>
    /// <param name="deployments">Deployments and pools (run, pause, resume) and the engine (cancel, crash).</param>
    /// <param name="events">Where send-event stores its events.</param>
    /// <param name="secrets">The secrets that sign webhooks.</param>
    /// <param name="options">The options.</param>
    /// <param name="timeProvider">The clock; null for the system clock.</param>
    /// <param name="queue">The queue for queue-message; null where the backend has none.</param>
    /// <param name="http">The HTTP client for webhooks; null for one of its own.</param>
    public AutomationActions(DeploymentService deployments, IEventStore events, INamedSecrets secrets, IOptions<AutomationOptions> options, TimeProvider? timeProvider = null, IAutomationQueue? queue = null, HttpClient? http = null)
    {
        ArgumentNullException.ThrowIfNull(deployments);
        ArgumentNullException.ThrowIfNull(events);
        ArgumentNullException.ThrowIfNull(secrets);
        ArgumentNullException.ThrowIfNull(options);
        _deployments = deployments;
        _events = events;
        _secrets = secrets;
        _queue = queue;
        _options = options.Value;
        _time = timeProvider ?? TimeProvider.System;
        _ownsHttp = http is null;
        _http = http ?? new HttpClient(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5) }) { Timeout = Timeout.InfiniteTimeSpan };
    }

    /// <summary>Performs one attempt.</summary>
    /// <param name="automation">The automation.</param>
    /// <param name="firing">The firing.</param>
    /// <param name="action">The action.</param>
    /// <param name="idempotencyKey">The action's idempotency key.</param>
    /// <param name="context">The template context (<see cref="AutomationDispatcher.Context"/>).</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The outcome.</returns>
    public async Task<ActionOutcome> ExecuteAsync(AutomationRecord automation, AutomationFiring firing, AutomationAction action, string idempotencyKey, JsonObject context, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(automation);
        ArgumentNullException.ThrowIfNull(firing);
        ArgumentNullException.ThrowIfNull(action);
        ArgumentNullException.ThrowIfNull(context);
        try
        {
            return action.Type switch
            {
                AutomationActionTypes.RunDeployment => await RunDeploymentAsync(action, idempotencyKey, context, cancellationToken).ConfigureAwait(false),
                AutomationActionTypes.PauseDeployment or AutomationActionTypes.ResumeDeployment =>
                    Done((await _deployments.SetPausedAsync(Text(action.Deployment!, context), action.Type == AutomationActionTypes.PauseDeployment, cancellationToken).ConfigureAwait(false)).Paused ? "paused" : "resumed"),
                AutomationActionTypes.PausePool or AutomationActionTypes.ResumePool =>
                    Done((await _deployments.SetPoolPausedAsync(Text(action.Pool!, context), action.Type == AutomationActionTypes.PausePool, cancellationToken).ConfigureAwait(false)).Paused ? "paused" : "resumed"),
                AutomationActionTypes.CancelRun => await CancelAsync(action, firing, context, cancellationToken).ConfigureAwait(false),
                AutomationActionTypes.ChangeRunState when action.State == "Cancelled" => await CancelAsync(action, firing, context, cancellationToken).ConfigureAwait(false),
                AutomationActionTypes.ChangeRunState => await CrashAsync(action, firing, context, cancellationToken).ConfigureAwait(false),
                AutomationActionTypes.SendEvent => await SendEventAsync(automation, firing, action, idempotencyKey, context, cancellationToken).ConfigureAwait(false),
                AutomationActionTypes.CallWebhook => await CallWebhookAsync(automation, firing, action, idempotencyKey, context, cancellationToken).ConfigureAwait(false),
                AutomationActionTypes.QueueMessage => await QueueAsync(firing, action, idempotencyKey, context, cancellationToken).ConfigureAwait(false),
                _ => new ActionOutcome(false, true, null, $"unknown action type '{action.Type}'"),
            };
        }
        catch (ControlPlaneException e)
        {
            return new ActionOutcome(false, true, null, e.Message); // not found, paused, invalid: trying again changes nothing
        }
        catch (ArgumentException e)
        {
            return new ActionOutcome(false, true, null, "template or value: " + e.Message);
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            return new ActionOutcome(false, false, null, e.GetType().Name + ": " + e.Message);
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (_ownsHttp)
        {
            _http.Dispose();
        }
    }

    private static ActionOutcome Done(string detail) => new(true, false, null, detail);

    private static string Text(string template, JsonObject context) => EventTemplate.RenderText(template, context);

    private static JsonNode? Render(JsonElement? template, JsonObject context) =>
        template is { } t ? EventTemplate.Render(JsonNode.Parse(t.GetRawText()), context) : null;

    private async Task<ActionOutcome> RunDeploymentAsync(AutomationAction action, string key, JsonObject context, CancellationToken cancellationToken)
    {
        var parameters = Render(action.Parameters, context);
        if (parameters is not null and not JsonObject)
        {
            return new ActionOutcome(false, true, null, "parameters did not render to a JSON object");
        }

        var request = new TriggerRequest
        {
            IdempotencyKey = key,
            Parameters = parameters is null ? null : JsonSerializer.SerializeToElement(parameters),
        };
        var result = await _deployments.TriggerAsync(Text(action.Deployment!, context), request, cancellationToken).ConfigureAwait(false);
        return Done(result.Run.RunId);
    }

    private static string? RunId(AutomationAction action, AutomationFiring firing, JsonObject context)
    {
        if (action.RunId is { } template)
        {
            return Text(template, context);
        }

        return firing.Event?.Resource.Id is { } id && id.StartsWith("flow-run/", StringComparison.Ordinal) ? id["flow-run/".Length..] : null;
    }

    private async Task<ActionOutcome> CancelAsync(AutomationAction action, AutomationFiring firing, JsonObject context, CancellationToken cancellationToken)
    {
        if (RunId(action, firing, context) is not { Length: > 0 } runId)
        {
            return new ActionOutcome(false, true, null, "no run: the triggering event is not about a run and runId is not set");
        }

        var reason = action.Message is { } m ? Text(m, context) : $"Cancelled by automation {firing.Automation} ({firing.Id})";
        var requested = await _deployments.Engine.RequestCancelAsync(runId, reason, cancellationToken).ConfigureAwait(false);
        return Done(requested ? $"cancellation of {runId} requested" : $"{runId}: no change (missing, final or already cancelling)");
    }

    private async Task<ActionOutcome> CrashAsync(AutomationAction action, AutomationFiring firing, JsonObject context, CancellationToken cancellationToken)
    {
        if (RunId(action, firing, context) is not { Length: > 0 } runId)
        {
            return new ActionOutcome(false, true, null, "no run: the triggering event is not about a run and runId is not set");
        }

        var reason = action.Message is { } m ? Text(m, context) : $"Marked Crashed by automation {firing.Automation} ({firing.Id})";
        var crashed = await _deployments.Engine.Lifecycle.CrashAsync(runId, reason, cancellationToken).ConfigureAwait(false);
        return Done(crashed is not null ? $"{runId} marked Crashed" : $"{runId}: no change (missing or final)");
    }

    private async Task<ActionOutcome> SendEventAsync(AutomationRecord automation, AutomationFiring firing, AutomationAction action, string key, JsonObject context, CancellationToken cancellationToken)
    {
        var payload = Render(action.Body, context);
        var related = new List<EventResource> { new("automation/" + automation.Name, "automation") };
        if (firing.Event is { } cause)
        {
            related.Add(new EventResource(cause.Resource.Id, "triggering-resource", cause.Resource.Labels));
        }

        var flowEvent = new FlowEvent
        {
            Id = key,
            OccurredAt = firing.FiredAt.ToUniversalTime(),
            Kind = Text(action.Kind!, context),
            Resource = new EventResource(action.Resource is { } r ? Text(r, context) : "automation/" + automation.Name),
            Related = related,
            Payload = payload?.ToJsonString(),
        };
        await _events.AppendAsync([flowEvent], cancellationToken).ConfigureAwait(false);
        return Done("event " + key);
    }

    private static string DefaultBody(AutomationFiring firing, string key) => new JsonObject
    {
        ["automation"] = firing.Automation,
        ["firingId"] = firing.Id,
        ["idempotencyKey"] = key,
        ["reason"] = firing.Reason,
        ["key"] = firing.Key,
        ["firedAt"] = firing.FiredAt.ToString("O", CultureInfo.InvariantCulture),
        ["event"] = firing.Event is { } e ? EventTemplate.ContextFor(e)["event"]!.DeepClone() : null,
    }.ToJsonString();

    private async Task<ActionOutcome> CallWebhookAsync(AutomationRecord automation, AutomationFiring firing, AutomationAction action, string key, JsonObject context, CancellationToken cancellationToken)
    {
        var body = action.Body is not null ? Render(action.Body, context)?.ToJsonString() ?? "null" : DefaultBody(firing, key);
        var bytes = Encoding.UTF8.GetBytes(body);
        using var request = new HttpRequestMessage(HttpMethod.Post, action.Url) { Content = new ByteArrayContent(bytes) };
        request.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json") { CharSet = "utf-8" };
        request.Headers.TryAddWithoutValidation(AutomationDispatcher.IdempotencyKeyHeader, key);
        request.Headers.TryAddWithoutValidation("X-Flow-Automation", automation.Name);
        if (action.Secret is { } secretName)
        {
            if (!_secrets.TryGet(secretName, out var secret))
            {
                return new ActionOutcome(false, false, null, $"secret '{secretName}' is not configured (Flow:Secrets:{secretName})");
            }

            var timestamp = _time.GetUtcNow().ToUnixTimeSeconds();
            request.Headers.TryAddWithoutValidation(WebhookSignature.TimestampHeader, timestamp.ToString(CultureInfo.InvariantCulture));
            request.Headers.TryAddWithoutValidation(WebhookSignature.SignatureHeader, WebhookSignature.SignTimestamped(secret, timestamp, bytes));
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_options.WebhookTimeout);
        try
        {
            using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token).ConfigureAwait(false);
            var status = (int)response.StatusCode;
            if (response.IsSuccessStatusCode)
            {
                return new ActionOutcome(true, false, status, $"HTTP {status}");
            }

            var permanent = status is >= 400 and < 500 && response.StatusCode is not (HttpStatusCode.RequestTimeout or HttpStatusCode.TooManyRequests or HttpStatusCode.Conflict);
            return new ActionOutcome(false, permanent, status, $"HTTP {status} {response.ReasonPhrase}");
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return new ActionOutcome(false, false, null, $"no answer within {_options.WebhookTimeout.TotalSeconds:0.#} s");
        }
        catch (HttpRequestException e)
        {
            return new ActionOutcome(false, false, null, e.Message);
        }
    }

    private async Task<ActionOutcome> QueueAsync(AutomationFiring firing, AutomationAction action, string key, JsonObject context, CancellationToken cancellationToken)
    {
        if (_queue is null)
        {
            return new ActionOutcome(false, true, null, "this storage backend has no Azure queues");
        }

        var body = action.Body is not null ? Render(action.Body, context)?.ToJsonString() ?? "null" : DefaultBody(firing, key);
        var id = await _queue.SendAsync(action.Queue!, body, cancellationToken).ConfigureAwait(false);
        return Done("message " + id);
    }
}
