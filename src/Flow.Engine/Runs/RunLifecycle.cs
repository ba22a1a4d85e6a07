using Flow.Engine.Diagnostics;
using Flow.Engine.Storage;
using Flow.Sdk;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Flow.Engine.Runs;

/// <summary>
/// The one door through which a run's state changes (DESIGN.md §3, §8): creation, lease claim, retry decision, settle, crash,
/// cancellation request, release at shutdown and inbox delivery. Each operation reads nothing it is not given (or reads the run
/// once), applies one of the pure <c>Plan*</c> rules, and writes the new record together with its state-history entries in
/// <b>one</b> version-checked store commit — the commit where an outbox event will be written as well. The episode, whose
/// commits also carry journal events, uses the <c>Plan*</c> rules directly and includes their change in its own commit.
/// Thread-safe; holds no state of its own.
/// </summary>
public sealed partial class RunLifecycle
{
    /// <summary>How often an operation that reads the run itself tries again after a version conflict.</summary>
    private const int MaxConflictRetries = 100;

    private readonly TimeProvider _time;
    private readonly ILogger _logger;

    /// <summary>Creates the lifecycle over a store and a work queue.</summary>
    /// <param name="store">The state store.</param>
    /// <param name="queue">The work queue (run work items: starts, retries, wake-ups).</param>
    /// <param name="timeProvider">The clock; null for the system clock.</param>
    /// <param name="logger">The logger; null for none.</param>
    public RunLifecycle(IFlowStore store, IWorkQueue queue, TimeProvider? timeProvider = null, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(queue);
        Store = store;
        Queue = queue;
        _time = timeProvider ?? TimeProvider.System;
        _logger = logger ?? NullLogger.Instance;
    }

    /// <summary>The state store.</summary>
    public IFlowStore Store { get; }

    /// <summary>The work queue.</summary>
    public IWorkQueue Queue { get; }

    private DateTimeOffset Now => _time.GetUtcNow();

    /// <summary>
    /// Creates a run (<see cref="PlanCreate"/>) and, when this call created it, enqueues its first work item (a Scheduled run's
    /// shortly before its time). A run id that exists already gives that run, unchanged, and enqueues nothing.
    /// </summary>
    /// <param name="run">What the run is made of.</param>
    /// <param name="ensureQueue">Create the pool's run queue first (a process pool's queue may not exist yet).</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The run, and whether this call created it.</returns>
    public async Task<(FlowRunRecord Run, bool Created)> CreateAsync(NewRun run, bool ensureQueue, CancellationToken cancellationToken)
    {
        var now = Now;
        var change = PlanCreate(run, now);
        var (stored, created) = await Store.CreateRunAsync(change.Run, change.Transitions[0], cancellationToken).ConfigureAwait(false);
        if (created)
        {
            if (ensureQueue)
            {
                await Queue.EnsureQueueAsync(RunQueueName(change.Run.Pool), cancellationToken).ConfigureAwait(false);
            }

            var delay = change.Run.State == RunState.Scheduled ? StartDelay(change.Run.ScheduledAt, now) : TimeSpan.Zero;
            await EnqueueAsync(stored.Record, delay, "start", cancellationToken).ConfigureAwait(false);
        }

        return (stored.Record, created);
    }

    /// <summary>Puts a work item for the run on its pool's run queue (a start, a wake-up, a retry).</summary>
    /// <param name="run">The run.</param>
    /// <param name="delay">How long the item stays invisible (clamped to what queues accept).</param>
    /// <param name="reason">Why, for diagnostics.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>A task.</returns>
    public Task EnqueueAsync(FlowRunRecord run, TimeSpan delay, string reason, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(run);
        var item = new WorkItem { Kind = WorkItem.RunKind, RunId = run.RunId, RunAttempt = run.Attempt, Reason = reason, TraceParent = FlowTelemetry.CurrentTraceParent() };
        return Queue.EnqueueAsync(RunQueueName(run.Pool), item, ClampDelay(delay), cancellationToken);
    }

    /// <summary>
    /// Claims the run for <paramref name="owner"/> (<see cref="PlanClaim"/>) in one version-checked commit, with
    /// <paramref name="logs"/> (e.g. a takeover note) in the same commit. The caller has checked that nobody else holds it.
    /// </summary>
    /// <param name="stored">The run as read, with its version.</param>
    /// <param name="owner">The claiming worker.</param>
    /// <param name="leaseDuration">The lease's length.</param>
    /// <param name="logs">Run log lines to write with the claim, or null.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The claimed run, or null when it changed since it was read (read it again and decide again).</returns>
    public async Task<StoredRun?> TryClaimAsync(StoredRun stored, string owner, TimeSpan leaseDuration, IReadOnlyList<RunLogLine>? logs, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(stored);
        var change = PlanClaim(stored.Record, owner, leaseDuration, Now);
        var lines = logs is null ? [] : new List<RunLogLine>(logs);
        return await TryCommitAsync(stored, change, lines, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Ends the run in a final state (<see cref="PlanSettle"/>), with as many of <paramref name="logs"/> as fit in the commit.</summary>
    /// <param name="stored">The run as read.</param>
    /// <param name="state">The final state.</param>
    /// <param name="message">Why.</param>
    /// <param name="result">The result as JSON, or null.</param>
    /// <param name="failure">The failure, or null.</param>
    /// <param name="logs">Pending log lines; those written are removed from the list. Null for none.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The settled run (or the run as read when it was final already), or null when it changed since it was read.</returns>
    public Task<StoredRun?> TrySettleAsync(StoredRun stored, RunState state, string message, string? result, FailureInfo? failure, List<RunLogLine>? logs, CancellationToken cancellationToken) =>
        TrySettleAsync(stored, state, message, result, failure, logs, owesHook: true, cancellationToken);

    /// <summary>
    /// Ends the run in a final state (<see cref="PlanSettle"/>); <paramref name="owesHook"/> false when the caller knows the run has no
    /// state hook (a plain process command), so no hook is left pending.
    /// </summary>
    /// <param name="stored">The run as read.</param>
    /// <param name="state">The final state.</param>
    /// <param name="message">Why.</param>
    /// <param name="result">The result as JSON, or null.</param>
    /// <param name="failure">The failure, or null.</param>
    /// <param name="logs">Pending log lines; those written are removed from the list. Null for none.</param>
    /// <param name="owesHook">Whether the final state leaves its hook pending (<see cref="FlowRunRecord.HookPending"/>).</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The settled run (or the run as read when it was final already), or null when it changed since it was read.</returns>
    public async Task<StoredRun?> TrySettleAsync(StoredRun stored, RunState state, string message, string? result, FailureInfo? failure, List<RunLogLine>? logs, bool owesHook, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(stored);
        var change = PlanSettle(stored.Record, state, message, result, failure, Now);
        return change is null ? stored : await TryCommitAsync(stored, change with { Run = change.Run with { HookPending = owesHook } }, logs ?? [], cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Judges a failed (or crashed) attempt by the retry policy (<see cref="PlanFailOrRetry"/>): either AwaitingRetry, committed and
    /// followed by the next attempt's work item at the retry time, or the final Failed/Crashed state.
    /// </summary>
    /// <param name="stored">The run as read.</param>
    /// <param name="failure">What went wrong.</param>
    /// <param name="retries">How many retries are allowed.</param>
    /// <param name="delay">The delay before the next attempt.</param>
    /// <param name="crashed">The attempt's worker died rather than the flow failing.</param>
    /// <param name="logs">Pending log lines; those written are removed from the list. Null for none.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The run after the change (or as read when it was final), or null when it changed since it was read.</returns>
    public Task<StoredRun?> TryFailOrRetryAsync(StoredRun stored, FailureInfo failure, int retries, TimeSpan delay, bool crashed, List<RunLogLine>? logs, CancellationToken cancellationToken) =>
        TryFailOrRetryAsync(stored, failure, retries, delay, crashed, logs, owesHook: true, cancellationToken);

    /// <summary>
    /// Judges a failed (or crashed) attempt by the retry policy (<see cref="PlanFailOrRetry"/>); <paramref name="owesHook"/> false when
    /// the caller knows the run has no state hook, so a final state leaves none pending.
    /// </summary>
    /// <param name="stored">The run as read.</param>
    /// <param name="failure">What went wrong.</param>
    /// <param name="retries">How many retries are allowed.</param>
    /// <param name="delay">The delay before the next attempt.</param>
    /// <param name="crashed">The attempt's worker died rather than the flow failing.</param>
    /// <param name="logs">Pending log lines; those written are removed from the list. Null for none.</param>
    /// <param name="owesHook">Whether a final state leaves its hook pending (<see cref="FlowRunRecord.HookPending"/>).</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The run after the change (or as read when it was final), or null when it changed since it was read.</returns>
    public async Task<StoredRun?> TryFailOrRetryAsync(StoredRun stored, FailureInfo failure, int retries, TimeSpan delay, bool crashed, List<RunLogLine>? logs, bool owesHook, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(stored);
        var now = Now;
        var change = PlanFailOrRetry(stored.Record, failure, null, retries, delay, crashed, now);
        if (change is null)
        {
            return stored;
        }

        if (change.RetryAt is null)
        {
            change = change with { Run = change.Run with { HookPending = owesHook } };
        }

        var committed = await TryCommitAsync(stored, change, logs ?? [], cancellationToken).ConfigureAwait(false);
        if (committed is not null && change.RetryAt is { } due)
        {
            await EnqueueRetryAsync(committed.Record, due, cancellationToken).ConfigureAwait(false);
        }

        return committed;
    }

    /// <summary>Enqueues the next attempt of a run that was just moved to AwaitingRetry.</summary>
    /// <param name="run">The run, AwaitingRetry.</param>
    /// <param name="due">The retry time.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>A task.</returns>
    public async Task EnqueueRetryAsync(FlowRunRecord run, DateTimeOffset due, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(run);
        Logs.FlowRetryScheduled(_logger, run.RunId, run.Attempt, due);
        await EnqueueAsync(run with { Attempt = run.Attempt + 1 }, due - Now, "retry", cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Releases the run at a worker's shutdown (<see cref="PlanRelease"/>) if <paramref name="owner"/> still holds it.</summary>
    /// <param name="stored">The run as last written by the owner.</param>
    /// <param name="owner">The worker letting go.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>True when released; false when someone else holds it or it changed meanwhile (its lease then simply expires).</returns>
    public async Task<bool> TryReleaseAsync(StoredRun stored, string owner, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(stored);
        return stored.Record.LeaseOwner == owner
            && await TryCommitAsync(stored, PlanRelease(stored.Record, Now), [], cancellationToken).ConfigureAwait(false) is not null;
    }

    /// <summary>
    /// Marks a run Crashed (<see cref="PlanCrash"/>), reading it and trying again on conflicts: for a run whose work item was
    /// delivered so often without completing that its worker evidently keeps dying on it. After the commit a work item is enqueued
    /// for the OnCrashed hook the run now owes (<see cref="FlowRunRecord.HookPending"/>).
    /// </summary>
    /// <param name="runId">The run.</param>
    /// <param name="reason">Why.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The crashed run, or null when it does not exist or cannot crash (it is final).</returns>
    public async Task<FlowRunRecord?> CrashAsync(string runId, string reason, CancellationToken cancellationToken)
    {
        for (var attempt = 0; attempt < MaxConflictRetries; attempt++)
        {
            var stored = await Store.GetRunAsync(runId, cancellationToken).ConfigureAwait(false);
            if (stored is null || PlanCrash(stored.Record, reason, Now) is not { } change)
            {
                return null;
            }

            if (await TryCommitAsync(stored, change, [], cancellationToken).ConfigureAwait(false) is { } crashed)
            {
                // The carrier of the OnCrashed hook the commit made pending: whoever receives it runs (or clears) the hook.
                await EnqueueAsync(crashed.Record, TimeSpan.Zero, "hook", cancellationToken).ConfigureAwait(false);
                return crashed.Record;
            }
        }

        throw new ConcurrencyException($"Run {runId} kept changing while it was being marked Crashed.");
    }

    /// <summary>
    /// Records the invocation of a final run's pending state hook (<see cref="PlanHookDone"/>) with its log line in one commit,
    /// reading the run again on conflicts (the hook is not run again: the caller ran it once). Does nothing when no hook is pending.
    /// </summary>
    /// <param name="stored">The run as read.</param>
    /// <param name="line">The log line recording the hook (name, outcome, duration, idempotency key), or null when no hook ran.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>A task.</returns>
    public async Task RecordHookAsync(StoredRun stored, RunLogLine? line, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(stored);
        for (var attempt = 0; ; attempt++)
        {
            if (PlanHookDone(stored.Record) is not { } next)
            {
                return;
            }

            var lines = line is null ? new List<RunLogLine>() : [line];
            if (await TryCommitAsync(stored, new RunChange(next, []), lines, cancellationToken).ConfigureAwait(false) is not null)
            {
                return;
            }

            if (attempt >= MaxConflictRetries || await Store.GetRunAsync(stored.Record.RunId, cancellationToken).ConfigureAwait(false) is not { } fresh)
            {
                return;
            }

            stored = fresh;
        }
    }

    /// <summary>
    /// Requests cancellation (<see cref="PlanCancelRequest"/>): in the same commit, the run goes to Cancelling and a cancel item is
    /// added to its inbox, and a wake-up is sent unless an episode holds the run (it sees the request at its next commit).
    /// </summary>
    /// <param name="runId">The run.</param>
    /// <param name="reason">Why, for the state history; null for "Cancellation requested".</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>True when requested; false when the run does not exist, is final or was already being cancelled.</returns>
    public Task<bool> RequestCancelAsync(string runId, string? reason, CancellationToken cancellationToken)
    {
        var now = Now;
        var item = new InboxItem { Id = "cancel", Kind = InboxItemKind.CancelRequested, Timestamp = now, Detail = reason };
        return CommitDeliveryAsync(runId, [item], wake: true, run => PlanCancelRequest(run, reason, Now), cancellationToken);
    }

    /// <summary>
    /// Adds items to a run's inbox in one commit (trying again on conflicts) and, when <paramref name="wake"/>, makes sure an episode
    /// will see them without a storm of wake-ups: only the delivery that sets <see cref="FlowRunRecord.WakeRequested"/> while no live
    /// episode holds the lease sends a wake-up; a live episode sees the items because its next commit fails the version check.
    /// </summary>
    /// <param name="runId">The run.</param>
    /// <param name="items">The items (distinct ids).</param>
    /// <param name="wake">Whether the run must be woken for them.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>True when delivered; false when the run is gone or final, or a single item was delivered before.</returns>
    /// <exception cref="DuplicateInboxItemException">One of several items was delivered before (deliver them one by one).</exception>
    public Task<bool> DeliverAsync(string runId, IReadOnlyList<InboxItem> items, bool wake, CancellationToken cancellationToken) =>
        CommitDeliveryAsync(runId, items, wake, null, cancellationToken);

    private async Task<bool> CommitDeliveryAsync(string runId, IReadOnlyList<InboxItem> items, bool wake, Func<FlowRunRecord, RunChange>? change, CancellationToken cancellationToken)
    {
        for (var attempt = 0; ; attempt++)
        {
            var stored = await Store.GetRunAsync(runId, cancellationToken).ConfigureAwait(false);
            if (stored is null || stored.Record.State.IsFinal())
            {
                var why = stored is null ? "no such run" : "the run is " + stored.Record.State;
                foreach (var item in items)
                {
                    Logs.DeliveryIgnored(_logger, item.Id, runId, why);
                }

                return false;
            }

            var run = stored.Record;
            var planned = change?.Invoke(run) ?? new RunChange(run, []);
            var next = planned.Run with { WakeRequested = run.WakeRequested || wake };
            try
            {
                await Store.CommitAsync(new RunCommit
                {
                    ExpectedVersion = stored.Version,
                    Run = next,
                    InboxToAdd = items,
                    Transitions = planned.Transitions,
                }, cancellationToken).ConfigureAwait(false);
            }
            catch (ConcurrencyException) when (attempt < MaxConflictRetries)
            {
                continue;
            }
            catch (DuplicateInboxItemException) when (items.Count == 1)
            {
                Logs.DeliveryIgnored(_logger, items[0].Id, runId, "already delivered");
                return false;
            }

            var sendWake = wake && !run.WakeRequested && !run.IsLeased(Now);
            if (sendWake)
            {
                await EnqueueAsync(next, TimeSpan.Zero, "wake: " + items[0].Kind, cancellationToken).ConfigureAwait(false);
            }

            foreach (var item in items)
            {
                Logs.Delivered(_logger, item.Kind.ToString(), item.Id, runId, sendWake);
            }

            return true;
        }
    }

    /// <summary>
    /// Commits a planned change with as many of <paramref name="logs"/> as fit beside its transitions; null on a version conflict.
    /// The lines written are removed from the list.
    /// </summary>
    private async Task<StoredRun?> TryCommitAsync(StoredRun stored, RunChange change, List<RunLogLine> logs, CancellationToken cancellationToken)
    {
        var lines = logs.Take(Store.MaxItemsPerCommit - change.Transitions.Count).ToList();
        try
        {
            var committed = await Store.CommitAsync(new RunCommit
            {
                ExpectedVersion = stored.Version,
                Run = change.Run with { LogCount = stored.Record.LogCount + lines.Count },
                Transitions = change.Transitions,
                Logs = lines,
            }, cancellationToken).ConfigureAwait(false);
            logs.RemoveRange(0, lines.Count);
            return committed;
        }
        catch (ConcurrencyException)
        {
            return null;
        }
    }

    /// <summary>The logical name of a pool's run queue.</summary>
    /// <param name="pool">The pool.</param>
    /// <returns>The queue name.</returns>
    public static string RunQueueName(string pool) => "runs-" + pool;

    /// <summary>
    /// How early a scheduled run's first work item becomes visible. Queues count delays in whole seconds (Azure rounds up) and idle
    /// workers poll up to a second apart, so an item due exactly on time is picked up late; one that comes up to this much early is
    /// held by the episode, in process, until the run's time (see <see cref="MaxInProcessWait"/>).
    /// </summary>
    public static TimeSpan ScheduledStartLead { get; } = TimeSpan.FromSeconds(1.5);

    /// <summary>The longest an episode waits in process for a Scheduled run's time instead of giving its item back.</summary>
    public static TimeSpan MaxInProcessWait { get; } = TimeSpan.FromSeconds(3);

    /// <summary>The delay of a new run's first work item: its scheduled time minus <see cref="ScheduledStartLead"/>, or none.</summary>
    /// <param name="scheduledAt">The run's time.</param>
    /// <param name="now">The current time.</param>
    /// <returns>The delay.</returns>
    public static TimeSpan StartDelay(DateTimeOffset scheduledAt, DateTimeOffset now) => ClampDelay(scheduledAt - now - ScheduledStartLead);

    /// <summary>A queue delay within what queues accept: not negative, at most 6.9 days (Azure's limit is 7).</summary>
    /// <param name="delay">The wanted delay.</param>
    /// <returns>The delay to use.</returns>
    public static TimeSpan ClampDelay(TimeSpan delay) =>
        delay <= TimeSpan.Zero ? TimeSpan.Zero : delay > TimeSpan.FromDays(6.9) ? TimeSpan.FromDays(6.9) : delay;
}
