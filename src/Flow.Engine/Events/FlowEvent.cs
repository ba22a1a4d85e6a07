namespace Flow.Engine.Events;

/// <summary>
/// Something that happened, recorded durably (docs/events.md): a run's state change, a deployment or pool change, a refused
/// run request, an automation's action, or an event sent by another system. Events written for a change are stored in the
/// <b>same commit</b> as the change (an outbox), so no change happens without its event and no event exists without its change.
/// Immutable; two events with the same <see cref="Id"/> are the same event (stores keep the first).
/// </summary>
public sealed record FlowEvent
{
    /// <summary>The longest <see cref="Id"/>, in characters.</summary>
    public const int MaxIdLength = 200;

    /// <summary>The longest <see cref="Kind"/>, in characters.</summary>
    public const int MaxKindLength = 128;

    /// <summary>The largest <see cref="Payload"/>, in UTF-8 bytes (16 KiB).</summary>
    public const int MaxPayloadBytes = 16 * 1024;

    /// <summary>The most <see cref="Related"/> resources.</summary>
    public const int MaxRelated = 32;

    /// <summary>
    /// The event's id. Events that describe a stored change have a deterministic id (for a run's state change:
    /// <c>{runId}.t{transition index}</c>), so writing one twice keeps one; others get a new unique id.
    /// </summary>
    public required string Id { get; init; }

    /// <summary>When it happened (UTC).</summary>
    public required DateTimeOffset OccurredAt { get; init; }

    /// <summary>What happened, dotted: <c>flow-run.Completed</c>, <c>deployment.paused</c>, <c>work-pool.resumed</c>,
    /// <c>run-request.refused</c>, <c>automation.action.executed</c>, or any kind an external system sends.</summary>
    public required string Kind { get; init; }

    /// <summary>The resource the event is about (for a run: <c>flow-run/{runId}</c>).</summary>
    public required EventResource Resource { get; init; }

    /// <summary>Related resources, each with a role: the run's flow, deployment, work pool, tags, parent run.</summary>
    public IReadOnlyList<EventResource> Related { get; init; } = [];

    /// <summary>Details as the text of one JSON object, or null.</summary>
    public string? Payload { get; init; }
}
