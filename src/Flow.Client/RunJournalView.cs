namespace Flow.Client;

/// <summary>The body of GET /api/runs/{id}/journal: one page of the current attempt's journal, as the engine recorded it.</summary>
public sealed record RunJournalView
{
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

}
