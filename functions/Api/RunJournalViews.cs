using Flow.Client;
using Flow.Engine.Storage;

namespace Flow.Functions.Api;

/// <summary>Maps a run's stored journal to <see cref="RunJournalView"/> pages.</summary>
internal static class RunJournalViews
{
    /// <summary>The longest payload text returned whole; longer payloads are cut and marked.</summary>
    public const int PayloadLimit = 4096;

    /// <summary>Builds one page: the events with index ≥ <paramref name="from"/>, at most <paramref name="pageSize"/> of them.</summary>
    public static RunJournalView Page(FlowRunRecord run, RunJournal journal, int from, int pageSize)
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
            Events = page.Select(Event).ToList(),
            Next = more ? page[^1].Index + 1 : null,
        };
    }

    /// <summary>Maps a stored event.</summary>
    public static JournalEventView Event(JournalEvent e)
    {
        var cut = e.Payload is { Length: > PayloadLimit };
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
            Payload = cut ? e.Payload![..PayloadLimit] : e.Payload,
            PayloadLength = cut ? e.Payload!.Length : null,
            Failure = e.Failure,
        };
    }
}
