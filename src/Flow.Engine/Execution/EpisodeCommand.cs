namespace Flow.Engine.Execution;

/// <summary>
/// An action the replay core decided on that needs I/O besides the commit (Temporal calls these commands): the driver carries it out,
/// after the commit that records it, or — for an inline task attempt — at once.
/// </summary>
internal abstract record EpisodeCommand;

/// <summary>Send a dispatched distributed task attempt to the pool's task queue.</summary>
/// <param name="Name">The task name.</param>
/// <param name="CallId">The call.</param>
/// <param name="Attempt">The task attempt.</param>
/// <param name="JournalIndex">The index of its TaskDispatched event.</param>
internal sealed record SendTaskCommand(string Name, int CallId, int Attempt, int JournalIndex) : EpisodeCommand;

/// <summary>Create (or find) a subflow's child run and start it.</summary>
/// <param name="Call">The subflow call.</param>
/// <param name="ChildRunId">The child's deterministic run id.</param>
internal sealed record StartChildCommand(SubflowCall Call, string ChildRunId) : EpisodeCommand;

/// <summary>Request cancellation of a child run.</summary>
/// <param name="ChildRunId">The child.</param>
internal sealed record CancelChildCommand(string ChildRunId) : EpisodeCommand;

/// <summary>Run one attempt of an inline task now, on the thread pool, after <paramref name="Delay"/>.</summary>
/// <param name="Call">The task call.</param>
/// <param name="Attempt">The attempt.</param>
/// <param name="Delay">A short retry delay still to wait.</param>
internal sealed record StartInlineCommand(TaskCall Call, int Attempt, TimeSpan Delay) : EpisodeCommand;
