using Flow.Engine.Storage;
using Flow.Sdk;

namespace Flow.Functions.Api;

/// <summary>The body of GET /api/runs/{id}/journal: one page of the current attempt's journal, as the engine recorded it.</summary>
internal sealed record RunJournalView
{
    /// <summary>The longest payload text returned whole; longer payloads are cut and marked.</summary>
    public const int PayloadLimit = 4096;

    /// <summary>The run id.</summary>
    public required string RunId { get; init; }

    /// <summary>The run attempt the journal belongs to (a flow retry starts a new journal).</summary>
    public int Attempt { get; init; }

    /// <summary>How many events the attempt's journal holds.</summary>
    public int Length { get; init; }

    /// <summary>Deliveries (task results, events, cancel requests) waiting in the run's inbox for its next episode.</summary>
    public int PendingInbox { get; init; }

    /// <summary>The events of this page, in journal order.</summary>
    public required IReadOnlyList<JournalEventView> Events { get; init; }

    /// <summary>The <c>from</c> of the next page, or null on the last page.</summary>
    public int? Next { get; init; }

    /// <summary>Builds one page: the events with index ≥ <paramref name="from"/>, at most <paramref name="pageSize"/> of them.</summary>
    public static RunJournalView From(FlowRunRecord run, RunJournal journal, int from, int pageSize)
    {
        var page = journal.Events.Where(e => e.Index >= from).Take(pageSize + 1).ToList();
        var more = page.Count > pageSize;
        if (more)
        {
            page.RemoveAt(page.Count - 1);
        }

        return new()
        {
            RunId = run.RunId,
            Attempt = run.Attempt,
            Length = journal.Events.Count,
            PendingInbox = journal.Inbox.Count,
            Events = page.Select(JournalEventView.From).ToList(),
            Next = more ? page[^1].Index + 1 : null,
        };
    }
}

/// <summary>One journal event as the API shows it.</summary>
internal sealed record JournalEventView
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

    /// <summary>The JSON payload as text (a result, an input, an event's data), cut at <see cref="RunJournalView.PayloadLimit"/> characters.</summary>
    public string? Payload { get; init; }

    /// <summary>The payload's whole length in characters when it was cut, else null.</summary>
    public int? PayloadLength { get; init; }

    /// <summary>The failure, for failure events.</summary>
    public FailureInfo? Failure { get; init; }

    /// <summary>Maps a stored event.</summary>
    public static JournalEventView From(JournalEvent e)
    {
        var cut = e.Payload is { Length: > RunJournalView.PayloadLimit };
        return new()
        {
            Index = e.Index,
            Kind = e.Kind.ToString(),
            CallId = e.CallId,
            Name = e.Name,
            Attempt = e.Attempt > 0 ? e.Attempt : null,
            State = e.State?.ToString(),
            Timestamp = e.Timestamp,
            StartedAt = e.StartedAt,
            DueAt = e.DueAt,
            Detail = e.Detail,
            Payload = cut ? e.Payload![..RunJournalView.PayloadLimit] : e.Payload,
            PayloadLength = cut ? e.Payload!.Length : null,
            Failure = e.Failure,
        };
    }
}
