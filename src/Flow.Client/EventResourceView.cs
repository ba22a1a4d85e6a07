namespace Flow.Client;

/// <summary>A resource an event is about (<see cref="EventView.Resource"/>) or relates to (<see cref="EventView.Related"/>), in
/// <c>GET /api/events</c> and in the body of <c>POST /api/events</c>.</summary>
public sealed record EventResourceView
{
    /// <summary>The resource id, <c>kind/name</c>: <c>flow-run/{runId}</c>, <c>deployment/{flow}/{name}</c>, <c>work-pool/{pool}</c>, …</summary>
    public required string Id { get; init; }

    /// <summary>The role of a related resource (<c>flow</c>, <c>deployment</c>, <c>work-pool</c>, <c>tag</c>, <c>parent</c>, or your own); null for the event's own resource.</summary>
    public string? Role { get; init; }

    /// <summary>Labels to match on (for a run: <c>flow</c>, <c>deployment</c>, <c>pool</c>, <c>state</c>, <c>attempt</c>), or null.</summary>
    public IReadOnlyDictionary<string, string>? Labels { get; init; }
}
