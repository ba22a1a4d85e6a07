using Flow.Client;
using Flow.Engine.Storage;
using Flow.Sdk;

namespace Flow.Functions.Api;

/// <summary>Folds a run's journal into timeline rows: attempts and retry waits of tasks, cache hits, subflows, timers, event waits.</summary>
internal static class RunTimeline
{
    public static RunTimelineView Build(FlowRunRecord run, IReadOnlyList<JournalEvent> events, string stateName)
    {
        var calls = new SortedDictionary<int, List<JournalEvent>>();
        foreach (var e in events.Where(e => e.CallId > 0))
        {
            if (!calls.TryGetValue(e.CallId, out var list))
            {
                calls[e.CallId] = list = [];
            }

            list.Add(e);
        }

        var rows = new List<TimelineRow>(calls.Count);
        foreach (var (callId, list) in calls)
        {
            var row = list[0].Kind switch
            {
                JournalEventKind.SubflowStarted or JournalEventKind.SubflowCompleted or JournalEventKind.SubflowFailed => Subflow(callId, list),
                JournalEventKind.TimerCreated or JournalEventKind.TimerFired => Wait(callId, "timer", list, JournalEventKind.TimerFired),
                JournalEventKind.EventWaitStarted or JournalEventKind.EventReceived => Wait(callId, "event", list, JournalEventKind.EventReceived),
                JournalEventKind.Marker or JournalEventKind.CancelRequested => null,
                _ => Task(callId, list),
            };
            if (row is not null)
            {
                rows.Add(row);
            }
        }

        return new RunTimelineView { RunId = run.RunId, State = stateName, StartedAt = run.StartedAt, EndedAt = run.EndedAt, Attempt = run.Attempt, Rows = rows };
    }

    private static TimelineRow Task(int callId, List<JournalEvent> list)
    {
        var segments = new List<TimelineSegment>();
        DateTimeOffset? pendingStart = null;
        DateTimeOffset? waitFrom = null;
        var waitAttempt = 0;
        var cached = false;
        foreach (var e in list)
        {
            switch (e.Kind)
            {
                case JournalEventKind.TaskStarted or JournalEventKind.TaskDispatched:
                    var start = e.StartedAt ?? e.Timestamp;
                    CloseWait(segments, ref waitFrom, waitAttempt, start);
                    pendingStart = start;
                    break;
                case JournalEventKind.TaskAttemptFailed or JournalEventKind.TaskCompleted or JournalEventKind.TaskFailed:
                    var began = e.StartedAt ?? pendingStart ?? e.Timestamp;
                    CloseWait(segments, ref waitFrom, waitAttempt, began);
                    cached |= e.State == RunState.Cached;
                    var outcome = e.Kind == JournalEventKind.TaskAttemptFailed ? "Failed" : e.State?.ToString() ?? (e.Kind == JournalEventKind.TaskCompleted ? "Completed" : "Failed");
                    segments.Add(new TimelineSegment(e.State == RunState.Cached ? "cache-hit" : "attempt", Math.Max(1, e.Attempt), outcome, began, e.Timestamp));
                    pendingStart = null;
                    if (e.Kind == JournalEventKind.TaskAttemptFailed)
                    {
                        waitFrom = e.Timestamp;
                        waitAttempt = Math.Max(1, e.Attempt) + 1;
                    }

                    break;
                default:
                    break;
            }
        }

        if (pendingStart is { } running)
        {
            segments.Add(new TimelineSegment("attempt", Math.Max(1, list[^1].Attempt), "Running", running, null));
        }
        else if (waitFrom is { } waiting)
        {
            segments.Add(new TimelineSegment("retry-wait", waitAttempt, "Waiting", waiting, null));
        }

        var last = list.LastOrDefault(e => e.Kind is JournalEventKind.TaskAttemptFailed or JournalEventKind.TaskCompleted or JournalEventKind.TaskFailed);
        var state = pendingStart is not null ? "Running"
            : last is null ? "Pending"
            : last.Kind == JournalEventKind.TaskAttemptFailed ? "AwaitingRetry"
            : last.State?.ToString() ?? (last.Kind == JournalEventKind.TaskCompleted ? "Completed" : "Failed");
        return new TimelineRow
        {
            CallId = callId,
            Kind = "task",
            Name = list.Select(e => e.Name).LastOrDefault(n => n is not null) ?? "task",
            State = state,
            Cached = cached,
            Segments = segments,
            Failure = last?.Kind == JournalEventKind.TaskFailed ? last.Failure : null,
        };
    }

    private static void CloseWait(List<TimelineSegment> segments, ref DateTimeOffset? waitFrom, int attempt, DateTimeOffset end)
    {
        if (waitFrom is { } from)
        {
            segments.Add(new TimelineSegment("retry-wait", attempt, "Completed", from, end < from ? from : end));
            waitFrom = null;
        }
    }

    private static TimelineRow Subflow(int callId, List<JournalEvent> list)
    {
        var started = list[0];
        var end = list.LastOrDefault(e => e.Kind is JournalEventKind.SubflowCompleted or JournalEventKind.SubflowFailed);
        var outcome = end is null ? "Running" : end.State?.ToString() ?? (end.Kind == JournalEventKind.SubflowCompleted ? "Completed" : "Failed");
        return new TimelineRow
        {
            CallId = callId,
            Kind = "subflow",
            Name = started.Name ?? "subflow",
            State = outcome,
            ChildRunId = list.Select(e => e.Detail).FirstOrDefault(d => d is not null),
            Segments = [new TimelineSegment("wait", 1, outcome, started.Timestamp, end?.Timestamp)],
            Failure = end?.Failure,
        };
    }

    private static TimelineRow Wait(int callId, string kind, List<JournalEvent> list, JournalEventKind done)
    {
        var end = list.LastOrDefault(e => e.Kind == done);
        var outcome = end is null ? "Waiting" : "Completed";
        return new TimelineRow
        {
            CallId = callId,
            Kind = kind,
            Name = list.Select(e => e.Name).FirstOrDefault(n => n is not null) ?? kind,
            State = outcome,
            Segments = [new TimelineSegment("wait", 1, outcome, list[0].Timestamp, end?.Timestamp)],
        };
    }
}
