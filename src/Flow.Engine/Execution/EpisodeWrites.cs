using System.Collections.Concurrent;
using Flow.Engine.Storage;

namespace Flow.Engine.Execution;

/// <summary>
/// What an episode decided and has not committed yet: the replay core's journal events, consumed inbox ids, log lines, artifacts and
/// the actions to take once they are stored; the driver's state transitions (from <see cref="Runs.RunLifecycle"/>'s plans). Plain
/// data: the replay core appends, the committer takes chunks out (and puts them back on a version conflict).
/// </summary>
internal sealed class EpisodeWrites
{
    /// <summary>New journal events, numbered after the run's journal.</summary>
    public List<JournalEvent> Events { get; } = [];

    /// <summary>State transitions to store with the next commit.</summary>
    public List<StateTransition> Transitions { get; } = [];

    /// <summary>Inbox items consumed into <see cref="Events"/>.</summary>
    public List<string> InboxToRemove { get; } = [];

    /// <summary>Log lines of the flow and its inline tasks (written from any thread).</summary>
    public ConcurrentQueue<RunLogLine> Logs { get; } = new();

    /// <summary>Artifacts (written from any thread).</summary>
    public ConcurrentQueue<RunArtifact> Artifacts { get; } = new();

    /// <summary>Task messages to send once the events that dispatch them are stored (independent of each other).</summary>
    public List<SendTaskCommand> TaskSends { get; } = [];

    /// <summary>Other actions to take, in order, once everything before them is stored.</summary>
    public List<EpisodeCommand> AfterCommit { get; } = [];

    /// <summary>True while something must be committed before the flow code may see more.</summary>
    public bool HasPending => Events.Count > 0 || Transitions.Count > 0 || InboxToRemove.Count > 0;

    /// <summary>Everything waiting to be committed, in store items.</summary>
    public int Count => Events.Count + Transitions.Count + InboxToRemove.Count + Logs.Count + Artifacts.Count;
}
