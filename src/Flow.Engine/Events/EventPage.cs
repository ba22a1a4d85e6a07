namespace Flow.Engine.Events;

/// <summary>One page of a <see cref="EventQuery"/>: events newest first and the token of the next page (null at the end).</summary>
/// <param name="Events">The events, newest first (by <see cref="FlowEvent.OccurredAt"/>; events of the same time by id, ordinal ascending).</param>
/// <param name="ContinuationToken">The next page's token, or null when there is none.</param>
public sealed record EventPage(IReadOnlyList<FlowEvent> Events, string? ContinuationToken);
