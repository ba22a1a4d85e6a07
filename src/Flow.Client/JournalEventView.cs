using Flow.Sdk;

namespace Flow.Client;

/// <summary>One journal event as the API shows it.</summary>
public sealed record JournalEventView
{
    /// <summary>The position in the attempt's journal, from 1.</summary>
    public int Index { get; init; }

    /// <summary>What happened (TaskCompleted, TimerCreated, SubflowStarted, EventReceived, Marker, ...).</summary>
    public required string Kind { get; init; }

    /// <summary>The flow call the event belongs to (0 for run-level events).</summary>
    public int CallId { get; init; }

    /// <summary>The task, subflow, timer or event name.</summary>
    public string? Name { get; init; }

    /// <summary>The task attempt, for task events.</summary>
    public int? Attempt { get; init; }

    /// <summary>The task run's state after the event, for task events.</summary>
    public string? State { get; init; }

    /// <summary>When the event was recorded.</summary>
    public DateTimeOffset Timestamp { get; init; }

    /// <summary>When the reported work began, if it has a start.</summary>
    public DateTimeOffset? StartedAt { get; init; }

    /// <summary>When a timer fires or a retry is due.</summary>
    public DateTimeOffset? DueAt { get; init; }

    /// <summary>A short extra value: a child run id, a cache key, a marker's value.</summary>
    public string? Detail { get; init; }

    /// <summary>The JSON payload as text (a result, an input, an event's data), cut at the API's limit (4,096 characters).</summary>
    public string? Payload { get; init; }

    /// <summary>The payload's whole length in characters when it was cut, else null.</summary>
    public int? PayloadLength { get; init; }

    /// <summary>The failure, for failure events.</summary>
    public FailureInfo? Failure { get; init; }

}
