using Flow.Sdk;

namespace Flow.Client;

/// <summary>One state change of a run.</summary>
public sealed record StateTransitionView
{
    /// <summary>The change's position in the history, from 0.</summary>
    public int Index { get; init; }

    /// <summary>The state before, or null for the first.</summary>
    public RunState? From { get; init; }

    /// <summary>The state after.</summary>
    public RunState To { get; init; }

    /// <summary>When.</summary>
    public DateTimeOffset Timestamp { get; init; }

    /// <summary>Why, if said.</summary>
    public string? Message { get; init; }

    /// <summary>The run attempt it happened in.</summary>
    public int Attempt { get; init; }
}
