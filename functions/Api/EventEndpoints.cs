using System.Text.Json;
using System.Text.Json.Nodes;
using Flow.Client;
using Flow.ControlPlane;
using Flow.Engine;
using Flow.Engine.Events;

namespace Flow.Functions.Api;

/// <summary>
/// <c>GET /api/events</c> (newest first, filtered, paged) and <c>POST /api/events</c> (external systems emit events; the API key
/// is required like every mutating endpoint, <see cref="ApiKeyAuth"/>). docs/events.md.
/// </summary>
internal static class EventEndpoints
{
    /// <summary>The most events one POST may carry.</summary>
    public const int MaxEventsPerRequest = 100;

    public static void Map(WebApplication app)
    {
        var group = app.MapGroup("/api/events").WithTags("Events");
        group.MapGet("/", async ([AsParameters] EventListQuery q, IEventStore store, CancellationToken ct) =>
        {
            var errors = new Dictionary<string, string[]>();
            if (q.PageSize is < 1 or > EventQuery.MaxPageSize)
            {
                errors["pageSize"] = [$"must be 1-{EventQuery.MaxPageSize}"];
            }

            if (q.Kind is { Length: 0 or > FlowEvent.MaxKindLength })
            {
                errors["kind"] = [$"must be 1-{FlowEvent.MaxKindLength} characters"];
            }

            if (q.Resource is { Length: 0 or > EventResource.MaxIdLength })
            {
                errors["resource"] = [$"must be 1-{EventResource.MaxIdLength} characters"];
            }

            DateTimeOffset? since = ApiEndpoints.Time(q.Since, "since", errors), until = ApiEndpoints.Time(q.Until, "until", errors);
            if (errors.Count > 0)
            {
                return Problems.Validation(errors);
            }

            EventPage page;
            try
            {
                page = await store.ListAsync(new EventQuery
                {
                    KindPrefix = q.Kind,
                    ResourceId = q.Resource,
                    Since = since,
                    Until = until,
                    PageSize = q.PageSize ?? 100,
                    ContinuationToken = q.ContinuationToken,
                }, ct);
            }
            catch (ArgumentException e) when (q.ContinuationToken is not null)
            {
                return Problems.Field("continuationToken", "not a token from this list: " + e.Message);
            }

            return Results.Json(new EventPageView { Events = [.. page.Events.Select(View)], ContinuationToken = page.ContinuationToken }, ApiJson.Options);
        }).Produces<EventPageView>().ProducesValidationProblem()
            .WithSummary("Lists events, newest first: filter by kind prefix (kind), resource id (own or related: resource), time (since inclusive, until exclusive, ISO 8601); paged with continuationToken (pageSize 1-500, default 100).");

        group.MapPost("/", async (HttpRequest request, IEventStore store, TimeProvider time, CancellationToken ct) =>
        {
            var (body, error) = await Problems.ReadJsonAsync<JsonNode>(request, required: true, ct);
            if (error is not null)
            {
                return error;
            }

            var list = body is JsonArray;
            List<EmitEventRequest?> requests;
            try
            {
                requests = list ? body.Deserialize<List<EmitEventRequest?>>(Problems.RequestJson) ?? [] : [body.Deserialize<EmitEventRequest>(Problems.RequestJson)];
            }
            catch (JsonException e)
            {
                return Problems.Field(JsonInputErrors.Field(e) ?? "(body)", JsonInputErrors.Describe(e));
            }

            if (requests.Count is 0 or > MaxEventsPerRequest)
            {
                return Problems.Field("(body)", $"send 1-{MaxEventsPerRequest} events");
            }

            var now = time.GetUtcNow();
            var events = new List<FlowEvent>(requests.Count);
            for (var i = 0; i < requests.Count; i++)
            {
                var field = list ? $"[{i}]" : "event";
                if (requests[i] is not { } r)
                {
                    return Problems.Field(field, "must be an event object, not null");
                }

                var flowEvent = new FlowEvent
                {
                    Id = r.Id ?? Guid.CreateVersion7().ToString("N"),
                    OccurredAt = (r.OccurredAt ?? now).ToUniversalTime(),
                    Kind = r.Kind!,
                    Resource = Resource(r.Resource),
                    Related = r.Related is null ? [] : [.. r.Related.Select(Resource)],
                    Payload = r.Payload is { ValueKind: not JsonValueKind.Null } payload ? payload.GetRawText() : null,
                };
                try
                {
                    EventRules.Validate(flowEvent, field);
                }
                catch (ArgumentException e)
                {
                    return Problems.Field(e.ParamName ?? field, Message(e));
                }

                if (flowEvent.Kind.StartsWith(RunEvents.KindPrefix, StringComparison.Ordinal))
                {
                    return Problems.Field($"{field}.kind", $"'{RunEvents.KindPrefix}…' events are written by Flow with the run's state change; send another kind");
                }

                if (ControlEvents.ReservedPrefix(flowEvent.Kind) is { } reserved)
                {
                    return Problems.Field($"{field}.kind", $"'{reserved}…' events are written by Flow with the change they describe; send another kind");
                }

                events.Add(flowEvent);
            }

            await store.AppendAsync(events, ct);
            return Results.Json(new EmittedEventsView { Ids = [.. events.Select(e => e.Id)] }, ApiJson.Options, statusCode: 202);
        }).Produces<EmittedEventsView>(202).ProducesValidationProblem()
            .WithSummary("Emits events from another system: the body is one event or a list of up to 100 ({ id?, occurredAt?, kind, resource: { id, labels? }, related?: [{ id, role, labels? }], payload?: {…} }). An id already stored is kept as it was. Kinds starting flow-run. are Flow's own.");
    }

    /// <summary>An event as the API shows it.</summary>
    public static EventView View(FlowEvent e) => new()
    {
        Id = e.Id,
        OccurredAt = e.OccurredAt,
        Kind = e.Kind,
        Resource = View(e.Resource),
        Related = [.. e.Related.Select(View)],
        Payload = e.Payload is { } payload ? JsonDocument.Parse(payload).RootElement.Clone() : null,
    };

    private static EventResourceView View(EventResource r) => new() { Id = r.Id, Role = r.Role, Labels = r.Labels };

    private static EventResource Resource(EventResourceView? r) => r is null ? null! : new EventResource(r.Id, r.Role, r.Labels);

    /// <summary>The message of a rule's exception without the " (Parameter '…')" suffix .NET adds.</summary>
    private static string Message(ArgumentException e)
    {
        var suffix = $" (Parameter '{e.ParamName}')";
        return e.Message.EndsWith(suffix, StringComparison.Ordinal) ? e.Message[..^suffix.Length] : e.Message;
    }
}

/// <summary>The filters of GET /api/events.</summary>
internal sealed record EventListQuery(string? Kind, string? Resource, string? Since, string? Until, int? PageSize, string? ContinuationToken);
