namespace Flow.Engine.Events;

/// <summary>
/// A resource an event is about or relates to: an id such as <c>flow-run/{runId}</c>, <c>flow/{flowName}</c>,
/// <c>deployment/{flow}/{name}</c>, <c>work-pool/{pool}</c>, <c>tag/{tag}</c>, a role when it is related
/// (<c>flow</c>, <c>deployment</c>, <c>work-pool</c>, <c>tag</c>, <c>parent</c>), and labels (name → value) that
/// automations match on.
/// </summary>
/// <param name="Id">The resource id (prefix <c>kind/</c>).</param>
/// <param name="Role">The role of a related resource; null for the event's own resource.</param>
/// <param name="Labels">Labels to match on (for a run: <c>flow</c>, <c>deployment</c>, <c>pool</c>, <c>state</c>); null for none.</param>
public sealed record EventResource(string Id, string? Role = null, IReadOnlyDictionary<string, string>? Labels = null)
{
    /// <summary>The longest <see cref="Id"/>, in characters.</summary>
    public const int MaxIdLength = 512;
}
