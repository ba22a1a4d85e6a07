using System.Diagnostics;
using System.Globalization;
using Flow.Engine.Storage;
using Flow.Sdk;

namespace Flow.Benchmarks.Engine;

/// <summary>
/// The store's own limit for (a): <c>count</c> sequential <see cref="IFlowStore.CommitAsync"/> calls of a run record plus
/// one TaskCompleted event — what the engine commits per inline task — with no engine around them. An engine doing one
/// commit per sequential task cannot go faster than this on the same store.
/// </summary>
internal static class StoreFloor
{
    public static async Task<double> SequentialCommitsPerSecondAsync(IFlowStore store, int count, CancellationToken cancellationToken)
    {
        await store.InitializeAsync(cancellationToken).ConfigureAwait(false);
        var now = DateTimeOffset.UtcNow;
        var run = new FlowRunRecord
        {
            RunId = Guid.CreateVersion7().ToString("N"),
            FlowName = BenchFlows.Sequential,
            State = RunState.Running,
            StateTime = now,
            TransitionCount = 1,
            CreatedAt = now,
            ScheduledAt = now,
            StartedAt = now,
            Parameters = """{"tasks":1000,"maxConcurrency":1}""",
        };
        var (stored, _) = await store.CreateRunAsync(run, new StateTransition(1, null, RunState.Running, now, "store floor", 1), cancellationToken).ConfigureAwait(false);
        var clock = Stopwatch.StartNew();
        for (var i = 1; i <= count; i++)
        {
            var at = DateTimeOffset.UtcNow;
            var completed = new JournalEvent
            {
                Index = i,
                Kind = JournalEventKind.TaskCompleted,
                CallId = i,
                Name = "noop",
                Attempt = 1,
                State = RunState.Completed,
                Timestamp = at,
                StartedAt = at,
                Payload = i.ToString(CultureInfo.InvariantCulture),
            };
            var next = stored.Record with { JournalLength = i, HeartbeatAt = at, LeaseOwner = "bench-floor", LeaseUntil = at.AddMinutes(1) };
            stored = await store.CommitAsync(new RunCommit { ExpectedVersion = stored.Version, Run = next, Events = [completed] }, cancellationToken).ConfigureAwait(false);
        }

        return count / clock.Elapsed.TotalSeconds;
    }
}
