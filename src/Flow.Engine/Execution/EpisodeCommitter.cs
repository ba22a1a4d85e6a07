using System.Collections.Concurrent;
using Flow.Engine.Runs;
using Flow.Engine.Storage;

namespace Flow.Engine.Execution;

/// <summary>
/// Turns an episode's decisions (<see cref="EpisodeWrites"/>) into version-checked store commits: each commit renews the lease and
/// carries as many pending items as the store accepts, with any state transition the driver planned through
/// <see cref="RunLifecycle"/> — so a transition is stored in the same commit as the journal events that led to it. On a version
/// conflict (a delivery to the inbox, a cancel request) it reloads, keeps its lease and hands the new inbox to the driver; if
/// someone else took the run, it throws <see cref="LeaseLostException"/>.
/// </summary>
internal sealed class EpisodeCommitter
{
    private readonly IFlowStore _store;
    private readonly EpisodeWrites _writes;
    private readonly FlowEngineOptions _options;
    private readonly TimeProvider _time;

    public EpisodeCommitter(IFlowStore store, EpisodeWrites writes, FlowEngineOptions options, TimeProvider time, StoredRun run)
    {
        _store = store;
        _writes = writes;
        _options = options;
        _time = time;
        Run = run.Record;
        Version = run.Version;
        LastCommit = time.GetUtcNow();
    }

    /// <summary>The run as last committed (or reloaded).</summary>
    public FlowRunRecord Run { get; private set; }

    /// <summary>Its store version.</summary>
    public string Version { get; private set; }

    /// <summary>When the last commit was made (a commit renews the lease: it is the heartbeat).</summary>
    public DateTimeOffset LastCommit { get; private set; }

    /// <summary>Called after a conflict with the reloaded record and its inbox, so what was delivered meanwhile is taken in.</summary>
    public Action<FlowRunRecord, IReadOnlyList<InboxItem>>? Reloaded { get; set; }

    /// <summary>One commit: the run record (lease renewed, unless <paramref name="final"/> releases it) plus as many pending items as fit.</summary>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <param name="final">A record that ends the episode (suspended, retrying or final), or null.</param>
    /// <returns>The journal events committed, for the driver to apply.</returns>
    /// <exception cref="DeliveryRaceException">With <paramref name="final"/>: a delivery got in first; everything was put back.</exception>
    public async Task<IReadOnlyList<JournalEvent>> CommitAsync(CancellationToken cancellationToken, FlowRunRecord? final = null)
    {
        while (true)
        {
            var budget = _store.MaxItemsPerCommit;
            var transitions = Take(_writes.Transitions, ref budget);
            var removals = Take(_writes.InboxToRemove, ref budget);
            var events = Take(_writes.Events, ref budget);
            var logs = TakeQueue(_writes.Logs, ref budget);
            var artifacts = TakeQueue(_writes.Artifacts, ref budget);
            var now = _time.GetUtcNow();
            var run = (final ?? Run) with
            {
                JournalLength = Run.JournalLength + events.Count,
                LogCount = Run.LogCount + logs.Count,
                HeartbeatAt = now,
            };
            if (final is null)
            {
                run = RunLifecycle.PlanRenew(run, _options.WorkerId, _options.LeaseDuration, now);
            }

            if (transitions.Count > 0)
            {
                var last = transitions[^1];
                run = run with { TransitionCount = last.Index, State = last.To, StateMessage = last.Message, StateTime = last.Timestamp };
            }

            try
            {
                var stored = await _store.CommitAsync(new RunCommit
                {
                    ExpectedVersion = Version,
                    Run = run,
                    Events = events,
                    Transitions = transitions,
                    InboxToRemove = removals,
                    Logs = logs,
                    Artifacts = artifacts,
                }, cancellationToken).ConfigureAwait(false);
                Run = stored.Record;
                Version = stored.Version;
                LastCommit = now;
                return events;
            }
            catch (ConcurrencyException)
            {
                // Put everything back in order, reload, and take in what was delivered meanwhile.
                _writes.Transitions.InsertRange(0, transitions);
                _writes.InboxToRemove.InsertRange(0, removals);
                _writes.Events.InsertRange(0, events);
                Requeue(_writes.Logs, logs);
                Requeue(_writes.Artifacts, artifacts);
                await ReloadAfterConflictAsync(cancellationToken).ConfigureAwait(false);
                if (final is not null)
                {
                    throw new DeliveryRaceException();
                }
            }
        }
    }

    /// <summary>
    /// Commits a record that releases the lease (suspended, retrying, final), with everything still pending: all but the last chunk
    /// under the lease (through <paramref name="flush"/>), the last chunk with the record.
    /// </summary>
    /// <param name="next">The record to end with, as planned from <see cref="Run"/>; its transitions are pending in the writes.</param>
    /// <param name="flush">Commits (and applies) one chunk under the lease.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>A task.</returns>
    /// <exception cref="DeliveryRaceException">A delivery got in first: the caller decides again.</exception>
    public async Task CommitFinalAsync(FlowRunRecord next, Func<CancellationToken, Task> flush, CancellationToken cancellationToken)
    {
        while (_writes.Count > _store.MaxItemsPerCommit)
        {
            var pendingTransitions = _writes.Transitions.ToList();
            _writes.Transitions.Clear();
            await flush(cancellationToken).ConfigureAwait(false);
            _writes.Transitions.AddRange(pendingTransitions.Select((t, i) => t with { Index = Run.TransitionCount + i + 1 }));
            next = next with { TransitionCount = Run.TransitionCount + pendingTransitions.Count };
        }

        var final = next with { JournalLength = Run.JournalLength, LogCount = Run.LogCount, CancelRequested = Run.CancelRequested || next.CancelRequested };
        await CommitAsync(cancellationToken, final).ConfigureAwait(false);
    }

    private async Task ReloadAfterConflictAsync(CancellationToken cancellationToken)
    {
        var stored = await _store.GetRunAsync(Run.RunId, cancellationToken).ConfigureAwait(false);
        if (stored is null || stored.Record.LeaseOwner != _options.WorkerId || stored.Record.Attempt != Run.Attempt || stored.Record.JournalLength != Run.JournalLength)
        {
            throw new LeaseLostException($"Run {Run.RunId} was taken over by {stored?.Record.LeaseOwner ?? "nobody (deleted)"}.");
        }

        // Someone delivered to the inbox (or requested cancellation): adopt their changes, keep our lease.
        var theirs = stored.Record;
        Run = theirs with { WakeRequested = false };
        Version = stored.Version;
        var renumbered = _writes.Transitions.Select((t, i) => t with { Index = theirs.TransitionCount + i + 1 }).ToList();
        _writes.Transitions.Clear();
        _writes.Transitions.AddRange(renumbered);
        var inbox = await _store.LoadJournalAsync(theirs with { JournalLength = 0 }, cancellationToken).ConfigureAwait(false);
        Reloaded?.Invoke(Run, inbox.Inbox);
    }

    private static List<T> Take<T>(List<T> source, ref int budget)
    {
        var n = Math.Min(budget, source.Count);
        var taken = source.GetRange(0, n);
        source.RemoveRange(0, n);
        budget -= n;
        return taken;
    }

    private static List<T> TakeQueue<T>(ConcurrentQueue<T> source, ref int budget)
    {
        var taken = new List<T>();
        while (budget > 0 && source.TryDequeue(out var item))
        {
            taken.Add(item);
            budget--;
        }

        return taken;
    }

    private static void Requeue<T>(ConcurrentQueue<T> target, List<T> items)
    {
        foreach (var item in items)
        {
            target.Enqueue(item);
        }
    }

    /// <summary>A delivery reached the run while the episode tried to let it go: decide again with what arrived.</summary>
    internal sealed class DeliveryRaceException : Exception
    {
    }
}
