namespace Flow.Engine.Events;

/// <summary>
/// One read of the event feed (<see cref="IEventStore.ReadFeedAsync"/>): the events that reached the feed after the cursor, in
/// the order they reached it, and the cursor to read on from.
/// </summary>
/// <param name="Events">The events in feed order.</param>
/// <param name="Cursor">Where the next read starts; equal to the given cursor when nothing new arrived.</param>
public sealed record EventFeedPage(IReadOnlyList<FlowEvent> Events, string Cursor);
