using System.Diagnostics;
using System.Diagnostics.Metrics;
using Flow.Engine.Storage;
using Flow.Sdk;

namespace Flow.Engine.Diagnostics;

/// <summary>
/// Flow's traces and metrics, under one name for OpenTelemetry (<c>AddSource(FlowTelemetry.Name)</c>,
/// <c>AddMeter(FlowTelemetry.Name)</c>). Spans: <c>flow.episode</c> per run episode and <c>flow.task</c> per task attempt,
/// each continuing the trace of whatever sent its work item (an API request, a schedule tick, the previous episode), so a
/// triggered run reads as one trace from the request to its last task. Attributes name the run, flow, deployment, pool,
/// task, attempt and outcome; never a parameter value.
/// </summary>
public static class FlowTelemetry
{
    /// <summary>The activity source and meter name.</summary>
    public const string Name = "Flow";

    private static readonly string? Version = typeof(FlowTelemetry).Assembly.GetName().Version?.ToString();

    private static readonly Meter FlowMeter = new(Name, Version);

    private static readonly Counter<long> RunsStarted = FlowMeter.CreateCounter<long>("flow.runs.started", "{run}", "Runs whose first episode started.");

    private static readonly Counter<long> RunsFinished = FlowMeter.CreateCounter<long>("flow.runs.finished", "{run}", "Runs that reached a final state (attribute flow.run.state).");

    private static readonly Histogram<double> RunDuration = FlowMeter.CreateHistogram<double>("flow.run.duration", "s", "From a run's start to its final state.");

    private static readonly Counter<long> Episodes = FlowMeter.CreateCounter<long>("flow.episodes", "{episode}", "Run episodes started; divided by flow.runs.finished it gives episodes per run.");

    private static readonly Histogram<long> EpisodesPerRun = FlowMeter.CreateHistogram<long>("flow.run.episodes", "{episode}", "Episodes a finished run took (counted by this process; a run finished elsewhere counts there).");

    private static readonly Histogram<double> TaskDuration = FlowMeter.CreateHistogram<double>("flow.task.duration", "s", "Duration of one task attempt (attribute flow.outcome).");

    private static readonly Histogram<double> QueueWait = FlowMeter.CreateHistogram<double>("flow.run.queue_wait", "s", "From when a run was due (created, or its scheduled time) to its first episode.");

    private static readonly Histogram<double> ScheduleLag = FlowMeter.CreateHistogram<double>("flow.schedule.lag", "s", "From a scheduled occurrence's time to its run's start.");

    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, int> EpisodeCounts = new(StringComparer.Ordinal);

    /// <summary>The activity source of Flow's spans.</summary>
    public static ActivitySource Source { get; } = new(Name, Version);

    /// <summary>The W3C trace context of the current activity, to carry on a work item; null outside a trace.</summary>
    /// <returns>A <c>traceparent</c> value or null.</returns>
    internal static string? CurrentTraceParent() => Activity.Current is { IdFormat: ActivityIdFormat.W3C } current ? current.Id : null;

    /// <summary>Starts the span of a work item's processing (<c>flow.episode</c> or <c>flow.task</c>), continuing the trace the item carries.</summary>
    internal static Activity? StartWorkItem(WorkItem item)
    {
        if (!Source.HasListeners())
        {
            return null;
        }

        ActivityContext.TryParse(item.TraceParent, null, isRemote: true, out var parent);
        var task = item.Kind == WorkItem.TaskKind;
        var activity = Source.StartActivity(task ? "flow.task" : "flow.episode", ActivityKind.Consumer, parent);
        if (activity is null)
        {
            return null;
        }

        activity.SetTag("flow.run.id", item.RunId);
        activity.SetTag("flow.work_item.reason", item.Reason);
        if (task)
        {
            activity.SetTag("flow.task.key", item.Name);
            activity.SetTag("flow.task.call_id", item.CallId);
            activity.SetTag("flow.task.attempt", item.Attempt);
            activity.SetTag("flow.task.distributed", true);
        }

        return activity;
    }

    /// <summary>Records an episode's start on the current span and in the metrics; on a run's first start, its queue wait and schedule lag.</summary>
    internal static void EpisodeStarted(FlowRunRecord run, bool firstStart, bool takeover, DateTimeOffset now)
    {
        if (Activity.Current is { } activity && activity.Source == Source)
        {
            activity.SetTag("flow.name", run.FlowName);
            activity.SetTag("flow.deployment", run.Deployment);
            activity.SetTag("flow.pool", run.Pool);
            activity.SetTag("flow.run.attempt", run.Attempt);
            activity.SetTag("flow.episode.takeover", takeover);
        }

        var tags = new TagList { { "flow.name", run.FlowName }, { "flow.deployment", run.Deployment } };
        Episodes.Add(1, tags);
        if (EpisodeCounts.Count > 10_000)
        {
            // Runs that started here and finished on another instance leave their count behind: keep the map bounded.
            EpisodeCounts.Clear();
        }

        EpisodeCounts.AddOrUpdate(run.RunId, 1, (_, n) => n + 1);
        if (!firstStart)
        {
            return;
        }

        RunsStarted.Add(1, tags);
        var due = run.ScheduledAt > run.CreatedAt ? run.ScheduledAt : run.CreatedAt;
        QueueWait.Record(Math.Max(0, (now - due).TotalSeconds), tags);
        if (run.Tags.ContainsKey(RunTagNames.Schedule))
        {
            ScheduleLag.Record((now - run.ScheduledAt).TotalSeconds, tags);
        }
    }

    /// <summary>Records a run's final state: the counter by state, its duration, the episodes it took here, and the outcome on the current span.</summary>
    internal static void RunFinished(FlowRunRecord run, TimeSpan duration)
    {
        var tags = new TagList { { "flow.name", run.FlowName }, { "flow.deployment", run.Deployment }, { "flow.run.state", run.State.ToString() } };
        RunsFinished.Add(1, tags);
        RunDuration.Record(duration.TotalSeconds, tags);
        if (EpisodeCounts.TryRemove(run.RunId, out var episodes))
        {
            EpisodesPerRun.Record(episodes, tags);
        }

        if (Activity.Current is { } activity && activity.Source == Source)
        {
            activity.SetTag("flow.run.state", run.State.ToString());
        }
    }

    /// <summary>Starts the span of an inline task attempt, a child of the episode's span.</summary>
    internal static Activity? StartTaskAttempt(string runId, string taskKey, int callId, int attempt)
    {
        var activity = Source.StartActivity("flow.task", ActivityKind.Internal);
        activity?.SetTag("flow.run.id", runId);
        activity?.SetTag("flow.task.key", taskKey);
        activity?.SetTag("flow.task.call_id", callId);
        activity?.SetTag("flow.task.attempt", attempt);
        return activity;
    }

    /// <summary>Ends a task attempt: its outcome on the span and its duration in the metrics.</summary>
    internal static void TaskAttemptEnded(Activity? activity, string flowName, string taskKey, RunState outcome, TimeSpan duration)
    {
        var state = outcome.ToString();
        TaskDuration.Record(duration.TotalSeconds, new TagList { { "flow.name", flowName }, { "flow.task.key", taskKey }, { "flow.outcome", state } });
        if (activity is not null)
        {
            activity.SetTag("flow.outcome", state);
            if (outcome == RunState.Failed)
            {
                activity.SetStatus(ActivityStatusCode.Error);
            }
        }
    }
}
