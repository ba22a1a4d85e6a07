using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace Flow.Client;

/// <summary>
/// A typed client of Flow's HTTP API (<c>/api</c>): deployments, work pools, runs, logs, artifacts and events. Every call takes a
/// <see cref="CancellationToken"/>; an error answer throws <see cref="FlowApiException"/> with the API's problem details, and an
/// unreachable API throws <see cref="HttpRequestException"/>.
/// </summary>
public sealed partial class FlowClient : IDisposable
{
    /// <summary>The header the standalone app reads the API key from.</summary>
    public const string ApiKeyHeader = "X-Flow-Api-Key";

    /// <summary>The header the Azure Functions host reads a function key from before a request reaches Flow.</summary>
    public const string FunctionsKeyHeader = "x-functions-key";

    private readonly HttpClient _http;
    private readonly bool _ownsHttp;
    private readonly string? _apiKey;

    /// <summary>Creates a client over an <see cref="HttpClient"/> whose <see cref="HttpClient.BaseAddress"/> is the app's root (e.g. <c>http://127.0.0.1:7071/</c>).</summary>
    /// <param name="httpClient">The HTTP client; the caller owns it.</param>
    /// <param name="apiKey">The API key, sent in <see cref="ApiKeyHeader"/> and <see cref="FunctionsKeyHeader"/>; null to send none.</param>
    /// <exception cref="ArgumentException">The HTTP client has no base address.</exception>
    public FlowClient(HttpClient httpClient, string? apiKey = null)
    {
        ArgumentNullException.ThrowIfNull(httpClient);
        if (httpClient.BaseAddress is null)
        {
            throw new ArgumentException("The HttpClient needs a BaseAddress: the Flow app's root, e.g. http://127.0.0.1:7071/.", nameof(httpClient));
        }

        _http = httpClient;
        _apiKey = string.IsNullOrEmpty(apiKey) ? null : apiKey;
    }

    /// <summary>Creates a client with its own <see cref="HttpClient"/> (60 s timeout), disposed with the client.</summary>
    /// <param name="address">The app's root address, e.g. <c>http://127.0.0.1:7071</c>.</param>
    /// <param name="apiKey">The API key; null to send none.</param>
    public FlowClient(Uri address, string? apiKey = null)
        : this(new HttpClient { BaseAddress = WithSlash(address), Timeout = TimeSpan.FromSeconds(60) }, apiKey)
    {
        _ownsHttp = true;
    }

    /// <summary>The app's root address.</summary>
    public Uri Address => _http.BaseAddress!;

    /// <summary>Reads the app's health (no API key needed).</summary>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The health report.</returns>
    public Task<HealthReport> GetHealthAsync(CancellationToken cancellationToken) =>
        SendAsync<HealthReport>(HttpMethod.Get, "health", null, cancellationToken);

    /// <summary>Lists the flows registered in the app.</summary>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The flows by name.</returns>
    public Task<IReadOnlyList<FlowInfoView>> ListFlowsAsync(CancellationToken cancellationToken) =>
        SendAsync<IReadOnlyList<FlowInfoView>>(HttpMethod.Get, "flows", null, cancellationToken);

    /// <summary>Lists deployments.</summary>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The deployments.</returns>
    public Task<IReadOnlyList<DeploymentView>> ListDeploymentsAsync(CancellationToken cancellationToken) =>
        SendAsync<IReadOnlyList<DeploymentView>>(HttpMethod.Get, "deployments", null, cancellationToken);

    /// <summary>Reads a deployment.</summary>
    /// <param name="deployment">The deployment's full name, <c>flow/name</c>.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The deployment.</returns>
    public Task<DeploymentView> GetDeploymentAsync(string deployment, CancellationToken cancellationToken) =>
        SendAsync<DeploymentView>(HttpMethod.Get, DeploymentPath(deployment), null, cancellationToken);

    /// <summary>Applies a deployments file (the format of <c>flow.yaml</c>): creates or updates its work pools and deployments.</summary>
    /// <param name="content">The file's text, YAML or JSON.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>What happened to each deployment.</returns>
    public Task<IReadOnlyList<ApplyResultView>> ApplyDeploymentsAsync(string content, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(content);
        return SendAsync<IReadOnlyList<ApplyResultView>>(HttpMethod.Post, "deployments/apply", new StringContent(content, Encoding.UTF8, "application/yaml"), cancellationToken);
    }

    /// <summary>Deletes a deployment; its runs stay.</summary>
    /// <param name="deployment">The deployment's full name, <c>flow/name</c>.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>A task.</returns>
    public Task DeleteDeploymentAsync(string deployment, CancellationToken cancellationToken) =>
        SendAsync<JsonElement>(HttpMethod.Delete, DeploymentPath(deployment), null, cancellationToken);

    /// <summary>Pauses a deployment: its schedules stop creating runs.</summary>
    /// <param name="deployment">The deployment's full name, <c>flow/name</c>.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The deployment.</returns>
    public Task<DeploymentView> PauseDeploymentAsync(string deployment, CancellationToken cancellationToken) =>
        SendAsync<DeploymentView>(HttpMethod.Post, DeploymentPath(deployment) + "/pause", null, cancellationToken);

    /// <summary>Resumes a paused deployment.</summary>
    /// <param name="deployment">The deployment's full name, <c>flow/name</c>.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The deployment.</returns>
    public Task<DeploymentView> ResumeDeploymentAsync(string deployment, CancellationToken cancellationToken) =>
        SendAsync<DeploymentView>(HttpMethod.Post, DeploymentPath(deployment) + "/resume", null, cancellationToken);

    /// <summary>Triggers a run of a deployment. The same idempotency key gives the same run.</summary>
    /// <param name="deployment">The deployment's full name, <c>flow/name</c>.</param>
    /// <param name="request">Parameters, idempotency key, due time and tags; null for none.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The run's id and state.</returns>
    public Task<TriggerResponse> TriggerRunAsync(string deployment, TriggerRunRequest? request, CancellationToken cancellationToken) =>
        SendAsync<TriggerResponse>(HttpMethod.Post, DeploymentPath(deployment) + "/runs", Json(request ?? new TriggerRunRequest()), cancellationToken);

    /// <summary>Previews the next occurrences of a deployment's active schedules.</summary>
    /// <param name="deployment">The deployment's full name, <c>flow/name</c>.</param>
    /// <param name="count">How many, 1-1000; null for the API's default (10).</param>
    /// <param name="from">After when; null for now.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The occurrences, in time order.</returns>
    public Task<IReadOnlyList<ScheduleOccurrenceView>> PreviewScheduleAsync(string deployment, int? count, DateTimeOffset? from, CancellationToken cancellationToken) =>
        SendAsync<IReadOnlyList<ScheduleOccurrenceView>>(HttpMethod.Get, DeploymentPath(deployment) + "/schedule" + Query(("count", Number(count)), ("from", Time(from))), null, cancellationToken);

    /// <summary>Creates or updates a deployment (<c>PUT /api/deployments/{flow}/{name}</c>, idempotent), validated completely: a bad
    /// field answers 400 naming it (<see cref="FlowApiException"/>).</summary>
    /// <param name="deployment">The deployment, <c>flow/name</c>.</param>
    /// <param name="request">The deployment as written; its <c>flow</c> and <c>name</c> may be left out.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The deployment as stored.</returns>
    public Task<DeploymentView> PutDeploymentAsync(string deployment, DeploymentRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        return SendAsync<DeploymentView>(HttpMethod.Put, DeploymentPath(deployment), Json(request), cancellationToken);
    }

    /// <summary>Lists work pools.</summary>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The pools.</returns>
    public Task<IReadOnlyList<WorkPoolView>> ListWorkPoolsAsync(CancellationToken cancellationToken) =>
        SendAsync<IReadOnlyList<WorkPoolView>>(HttpMethod.Get, "work-pools", null, cancellationToken);

    /// <summary>Reads a work pool.</summary>
    /// <param name="name">The pool's name.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The pool.</returns>
    public Task<WorkPoolView> GetWorkPoolAsync(string name, CancellationToken cancellationToken) =>
        SendAsync<WorkPoolView>(HttpMethod.Get, "work-pools/" + Segment(name, nameof(name)), null, cancellationToken);

    /// <summary>Creates or updates a work pool (<c>PUT /api/work-pools/{name}</c>); fields left null keep their value or default.</summary>
    /// <param name="name">The pool's name.</param>
    /// <param name="pool">The pool as written; null for an in-app pool with the defaults.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The pool as stored.</returns>
    public Task<WorkPoolView> PutWorkPoolAsync(string name, WorkPoolRequest? pool, CancellationToken cancellationToken) =>
        SendAsync<WorkPoolView>(HttpMethod.Put, "work-pools/" + Segment(name, nameof(name)), Json(pool ?? new WorkPoolRequest()), cancellationToken);

    /// <summary>Pauses or resumes a work pool: while paused its runs wait.</summary>
    /// <param name="name">The pool's name.</param>
    /// <param name="paused">True to pause, false to resume.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The pool.</returns>
    public Task<WorkPoolView> SetWorkPoolPausedAsync(string name, bool paused, CancellationToken cancellationToken) =>
        SendAsync<WorkPoolView>(HttpMethod.Post, "work-pools/" + Segment(name, nameof(name)) + (paused ? "/pause" : "/resume"), null, cancellationToken);

    /// <summary>Lists runs, newest first: one page.</summary>
    /// <param name="filter">Filters and paging; null for the newest 50 runs.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The page.</returns>
    public Task<RunPageView> ListRunsAsync(RunFilter? filter, CancellationToken cancellationToken)
    {
        var f = filter ?? new RunFilter();
        if (f.Late && f.State is not null)
        {
            throw new ArgumentException("A run filter asks for one State or for Late runs, not both.", nameof(filter));
        }

        var query = Query(
            [
            ("deployment", f.Deployment),
            ("flow", f.Flow),
            ("state", f.Late ? "Late" : f.State?.ToString()),
            .. (f.Tags ?? []).Select(tag => ("tag", (string?)tag)),
            ("from", Time(f.From)),
            ("to", Time(f.To)),
            ("pageSize", Number(f.PageSize)),
            ("continuationToken", f.ContinuationToken),
            ]);
        return SendAsync<RunPageView>(HttpMethod.Get, "runs" + query, null, cancellationToken);
    }

    /// <summary>Reads a run with its state history and task runs.</summary>
    /// <param name="runId">The run id.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The run.</returns>
    public Task<RunView> GetRunAsync(string runId, CancellationToken cancellationToken) =>
        SendAsync<RunView>(HttpMethod.Get, RunPath(runId), null, cancellationToken);

    /// <summary>Reads one page of a run's log lines, oldest first.</summary>
    /// <param name="runId">The run id.</param>
    /// <param name="pageSize">Lines per page, 1-1000; null for the API's default (200).</param>
    /// <param name="continuationToken">The previous page's token; null for the first page.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The page.</returns>
    public Task<LogPageView> GetRunLogsAsync(string runId, int? pageSize, string? continuationToken, CancellationToken cancellationToken) =>
        SendAsync<LogPageView>(HttpMethod.Get, RunPath(runId) + "/logs" + Query(("pageSize", Number(pageSize)), ("continuationToken", continuationToken)), null, cancellationToken);

    /// <summary>Reads a run's artifacts.</summary>
    /// <param name="runId">The run id.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The artifacts.</returns>
    public Task<IReadOnlyList<ArtifactView>> GetRunArtifactsAsync(string runId, CancellationToken cancellationToken) =>
        SendAsync<IReadOnlyList<ArtifactView>>(HttpMethod.Get, RunPath(runId) + "/artifacts", null, cancellationToken);

    /// <summary>Requests a run's cancellation (the run goes Cancelling, then Cancelled). A run that has ended answers 409.</summary>
    /// <param name="runId">The run id.</param>
    /// <param name="reason">Why, for the state message; null for a default.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>Whether cancellation had been requested before.</returns>
    public Task<CancelRunView> CancelRunAsync(string runId, string? reason, CancellationToken cancellationToken) =>
        SendAsync<CancelRunView>(HttpMethod.Post, RunPath(runId) + "/cancel", reason is null ? null : Json(new CancelRunRequest(reason)), cancellationToken);

    /// <summary>Deletes a finished run with everything stored for it (<c>DELETE /api/runs/{id}</c>); a live run is refused with 409.</summary>
    /// <param name="runId">The run id.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>A task.</returns>
    public Task DeleteRunAsync(string runId, CancellationToken cancellationToken) =>
        SendAsync<JsonElement>(HttpMethod.Delete, RunPath(runId), null, cancellationToken);

    /// <summary>Deletes up to <paramref name="limit"/> runs that finished before a time (<c>DELETE /api/runs?finishedBefore=</c>); live runs are never touched.</summary>
    /// <param name="finishedBefore">Runs that finished before this time are deleted.</param>
    /// <param name="limit">At most this many, 1-1000; null for the API's default (100).</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>How many were deleted, and whether more may be left.</returns>
    public Task<PurgeRunsView> PurgeRunsAsync(DateTimeOffset finishedBefore, int? limit, CancellationToken cancellationToken) =>
        SendAsync<PurgeRunsView>(HttpMethod.Delete, "runs" + Query(("finishedBefore", Time(finishedBefore)), ("limit", Number(limit))), null, cancellationToken);

    /// <summary>Sends an event to a run (a flow waiting for it resumes).</summary>
    /// <param name="runId">The run id.</param>
    /// <param name="name">The event's name.</param>
    /// <param name="payload">The event's JSON payload, or null.</param>
    /// <param name="idempotencyKey">The same key is delivered once; null for none.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>Whether it was delivered now.</returns>
    public Task<EventDeliveryView> SendEventAsync(string runId, string name, JsonElement? payload, string? idempotencyKey, CancellationToken cancellationToken) =>
        SendAsync<EventDeliveryView>(HttpMethod.Post, RunPath(runId) + "/events/" + Segment(name, nameof(name)), payload is { } p ? Json(p) : null, cancellationToken, idempotencyKey);

    /// <summary>Resumes a run paused by <c>FlowContext.PauseAsync</c>.</summary>
    /// <param name="runId">The run id.</param>
    /// <param name="input">The input the flow receives, or null.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>Whether the resume was delivered now.</returns>
    public Task<EventDeliveryView> ResumeRunAsync(string runId, JsonElement? input, CancellationToken cancellationToken) =>
        SendAsync<EventDeliveryView>(HttpMethod.Post, RunPath(runId) + "/resume", input is { } i ? Json(i) : null, cancellationToken);

    /// <summary>Lists refused run requests from the run-requests queue, newest first.</summary>
    /// <param name="count">How many, 1-1000; null for the API's default (100).</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The refused requests with their reasons.</returns>
    public Task<IReadOnlyList<RejectedRunRequestView>> ListRejectedRunRequestsAsync(int? count, CancellationToken cancellationToken) =>
        SendAsync<IReadOnlyList<RejectedRunRequestView>>(HttpMethod.Get, "run-requests/rejected" + Query(("count", Number(count))), null, cancellationToken);

    /// <summary>Lists events, newest first: one page.</summary>
    /// <param name="filter">Filters and paging; null for the newest 100 events.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The page.</returns>
    public Task<EventPageView> ListEventsAsync(EventFilter? filter, CancellationToken cancellationToken)
    {
        var f = filter ?? new EventFilter();
        var query = Query(
            ("kind", f.Kind),
            ("resource", f.Resource),
            ("since", Time(f.Since)),
            ("until", Time(f.Until)),
            ("pageSize", Number(f.PageSize)),
            ("continuationToken", f.ContinuationToken));
        return SendAsync<EventPageView>(HttpMethod.Get, "events" + query, null, cancellationToken);
    }

    /// <summary>Sends events from another system (stored once per id; automations react to them).</summary>
    /// <param name="events">The events.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The events' ids.</returns>
    public Task<EmittedEventsView> EmitEventsAsync(IReadOnlyList<EmitEventRequest> events, CancellationToken cancellationToken) =>
        SendAsync<EmittedEventsView>(HttpMethod.Post, "events", Json(events), cancellationToken);

    /// <inheritdoc />
    public void Dispose()
    {
        if (_ownsHttp)
        {
            _http.Dispose();
        }
    }

    private async Task<T> SendAsync<T>(HttpMethod method, string path, HttpContent? content, CancellationToken cancellationToken, string? idempotencyKey = null)
    {
        using var request = new HttpRequestMessage(method, new Uri("api/" + path, UriKind.Relative)) { Content = content };
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        if (_apiKey is not null)
        {
            request.Headers.Add(ApiKeyHeader, _apiKey);
            request.Headers.Add(FunctionsKeyHeader, _apiKey);
        }

        if (idempotencyKey is not null)
        {
            request.Headers.Add("Idempotency-Key", idempotencyKey);
        }

        using var response = await _http.SendAsync(request, cancellationToken).ConfigureAwait(false);
        var text = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode)
        {
            throw new FlowApiException(response.StatusCode, ReadProblem(text));
        }

        if (text.Length == 0)
        {
            return default!;
        }

        try
        {
            return JsonSerializer.Deserialize<T>(text, FlowJson.Options)
                ?? throw new FlowApiException($"{method} /api/{path}: {(int)response.StatusCode} with a null body.");
        }
        catch (JsonException e)
        {
            throw new FlowApiException($"{method} /api/{path}: {(int)response.StatusCode} with a body that is not the expected JSON ({e.Message}).", e);
        }
    }

    private static ProblemDetailsView? ReadProblem(string text)
    {
        try
        {
            return text.Length == 0 ? null : JsonSerializer.Deserialize<ProblemDetailsView>(text, FlowJson.Options);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static StringContent Json<T>(T value) =>
        new(JsonSerializer.Serialize(value, FlowJson.Options), Encoding.UTF8, "application/json");

    private static string DeploymentPath(string deployment)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(deployment);
        var trimmed = deployment.Trim('/');
        var slash = trimmed.IndexOf('/', StringComparison.Ordinal);
        if (slash <= 0 || slash == trimmed.Length - 1)
        {
            throw new ArgumentException($"'{deployment}' is not a deployment's full name (flow/name).", nameof(deployment));
        }

        return "deployments/" + Uri.EscapeDataString(trimmed[..slash]) + "/" + Uri.EscapeDataString(trimmed[(slash + 1)..]);
    }

    private static string RunPath(string runId) => "runs/" + Segment(runId, nameof(runId));

    private static string Segment(string value, string parameter)
    {
        ArgumentException.ThrowIfNullOrEmpty(value, parameter);
        return Uri.EscapeDataString(value);
    }

    private static string? Number(int? value) => value?.ToString(CultureInfo.InvariantCulture);

    private static string? Time(DateTimeOffset? value) => value?.ToString("O", CultureInfo.InvariantCulture);

    private static string Query(params (string Name, string? Value)[] parameters)
    {
        var parts = parameters.Where(p => p.Value is not null).Select(p => p.Name + "=" + Uri.EscapeDataString(p.Value!)).ToList();
        return parts.Count == 0 ? string.Empty : "?" + string.Join('&', parts);
    }

    private static Uri WithSlash(Uri address)
    {
        ArgumentNullException.ThrowIfNull(address);
        return address.AbsoluteUri.EndsWith('/') ? address : new Uri(address.AbsoluteUri + "/");
    }
}
