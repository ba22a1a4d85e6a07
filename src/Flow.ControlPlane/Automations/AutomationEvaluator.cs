using System.Text.Json;
using Flow.Engine.Events;
using Flow.Engine.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Flow.ControlPlane.Automations;

/// <summary>
/// Evaluates automations in the scheduler role (docs/automations.md): each tick reads the event feed from the stored cursor,
/// applies the events to each enabled automation's state (<see cref="TriggerEvaluation"/>), checks proactive deadlines,
/// creates the firings due (create-if-absent, with deterministic ids), runs their actions (<see cref="AutomationDispatcher"/>)
/// and stores the state and then the cursor, each version-checked. Several evaluators may run at once (two schedulers, a
/// Functions scale-out): they create each firing once, and an evaluator whose state write loses simply drops its copy.
/// </summary>
public sealed partial class AutomationEvaluator
{
    /// <summary>The state key of the feed cursor.</summary>
    public const string CursorKey = "automations:cursor";

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    private readonly IControlStore _store;
    private readonly IEventStore _events;
    private readonly AutomationDispatcher _dispatcher;
    private readonly TimeProvider _time;
    private readonly AutomationOptions _options;
    private readonly ILogger _logger;

    /// <summary>Creates the evaluator.</summary>
    /// <param name="store">The control store (automations, firings, state).</param>
    /// <param name="events">The event store (the feed).</param>
    /// <param name="dispatcher">Runs the firings' actions.</param>
    /// <param name="options">The options.</param>
    /// <param name="timeProvider">The clock; null for the system clock.</param>
    /// <param name="logger">The logger; null for none.</param>
    public AutomationEvaluator(IControlStore store, IEventStore events, AutomationDispatcher dispatcher, IOptions<AutomationOptions> options, TimeProvider? timeProvider = null, ILogger<AutomationEvaluator>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(events);
        ArgumentNullException.ThrowIfNull(dispatcher);
        ArgumentNullException.ThrowIfNull(options);
        _store = store;
        _events = events;
        _dispatcher = dispatcher;
        _options = options.Value;
        _time = timeProvider ?? TimeProvider.System;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
    }

    /// <summary>One evaluation: read the new events, fire what is due, run pending actions, store state and cursor.</summary>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>What it did.</returns>
    public async Task<AutomationTickResult> TickAsync(CancellationToken cancellationToken)
    {
        var automations = (await _store.ListAutomationsAsync(cancellationToken).ConfigureAwait(false)).Where(a => a.Record.Enabled).Select(a => a.Record).ToList();
        var cursorEntry = await _store.GetStateAsync(CursorKey, cancellationToken).ConfigureAwait(false);
        if (cursorEntry is null)
        {
            // First tick ever: start at the end of the feed (events from before automations existed are not evaluated).
            var end = await _events.GetFeedEndAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                cursorEntry = await _store.PutStateAsync(CursorKey, end, IControlStore.MustNotExist, cancellationToken).ConfigureAwait(false);
            }
            catch (ConcurrencyException)
            {
                cursorEntry = await _store.GetStateAsync(CursorKey, cancellationToken).ConfigureAwait(false)
                    ?? throw new InvalidOperationException("The automation cursor vanished right after another evaluator created it.");
            }
        }

        var events = new List<FlowEvent>();
        var cursor = cursorEntry.Record;
        for (var page = 0; page < _options.MaxPagesPerTick; page++)
        {
            var read = await _events.ReadFeedAsync(cursor, _options.FeedPageSize, cancellationToken).ConfigureAwait(false);
            events.AddRange(read.Events);
            cursor = read.Cursor;
            if (read.Events.Count < _options.FeedPageSize)
            {
                break;
            }
        }

        var now = _time.GetUtcNow();
        int fired = 0, done = 0;
        var failed = false;
        foreach (var automation in automations)
        {
            try
            {
                var (f, d) = await EvaluateAsync(automation, events, now, cancellationToken).ConfigureAwait(false);
                fired += f;
                done += d;
            }
            catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                // The cursor stays where it was, so the next tick reads these events again: the automations that did apply
                // them skip them by their seen ids, and this one gets them instead of losing them.
                failed = true;
                LogAutomationFailed(_logger, automation.Name, e);
            }
        }

        if (!failed && cursor != cursorEntry.Record)
        {
            try
            {
                await _store.PutStateAsync(CursorKey, cursor, cursorEntry.Version, cancellationToken).ConfigureAwait(false);
            }
            catch (ConcurrencyException)
            {
                // Another evaluator moved the cursor; the events both read are deduplicated by each automation's state.
            }
        }

        return new AutomationTickResult(events.Count, fired, done);
    }

    private async Task<(int Fired, int Done)> EvaluateAsync(AutomationRecord automation, IReadOnlyList<FlowEvent> events, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var key = "automation:" + automation.Name;
        var entry = await _store.GetStateAsync(key, cancellationToken).ConfigureAwait(false);
        var state = entry is null ? new AutomationState() : JsonSerializer.Deserialize<AutomationState>(entry.Record, Json) ?? new AutomationState();
        var (next, firings, changed) = TriggerEvaluation.Apply(automation, state, events, now, _options.ProactiveGrace);
        var fired = 0;
        foreach (var firing in firings)
        {
            try
            {
                await _store.PutFiringAsync(AutomationDispatcher.Fit(firing), IControlStore.MustNotExist, cancellationToken).ConfigureAwait(false);
                fired++;
                LogFired(_logger, automation.Name, firing.Id, firing.Reason);
            }
            catch (ConcurrencyException)
            {
                // created already: by another evaluator, or by this one before a crash
            }
        }

        var done = 0;
        foreach (var firingId in next.Pending.ToList())
        {
            if (await _dispatcher.DispatchAsync(automation, firingId, cancellationToken).ConfigureAwait(false) is var (finished, actionsDone))
            {
                done += actionsDone;
                if (finished)
                {
                    next.Pending.Remove(firingId);
                    changed = true;
                }
            }
        }

        if (changed)
        {
            try
            {
                var text = JsonSerializer.Serialize(Trim(next), Json);
                await _store.PutStateAsync(key, text, entry?.Version ?? IControlStore.MustNotExist, cancellationToken).ConfigureAwait(false);
            }
            catch (ConcurrencyException)
            {
                // Another evaluator stored this automation's state first; it saw the same events and created the same firings.
            }
        }

        return (fired, done);
    }

    /// <summary>Keeps a state within the 32 KiB of a state entry: drops the oldest seen ids, then the oldest waits' events.</summary>
    private AutomationState Trim(AutomationState state)
    {
        while (JsonSerializer.SerializeToUtf8Bytes(state, Json).Length > ControlStoreContract.MaxTextBytes - 1024)
        {
            if (state.Seen.Count > 16)
            {
                state.Seen.RemoveRange(0, state.Seen.Count / 2);
            }
            else if (state.Waits.Count > 0)
            {
                var oldest = state.Waits.MinBy(w => w.Value.Since);
                state.Waits.Remove(oldest.Key);
                LogWaitDropped(_logger, oldest.Key);
            }
            else if (state.Counts.Count > 0)
            {
                state.Counts.Remove(state.Counts.Keys.First());
            }
            else
            {
                state.Pending.RemoveAt(0);
            }
        }

        return state;
    }

    [LoggerMessage(1310, LogLevel.Information, "Automation {Automation} fired ({FiringId}): {Reason}")]
    private static partial void LogFired(ILogger logger, string automation, string firingId, string reason);

    [LoggerMessage(1311, LogLevel.Error, "Evaluating automation {Automation} failed; the next tick tries again")]
    private static partial void LogAutomationFailed(ILogger logger, string automation, Exception exception);

    [LoggerMessage(1312, LogLevel.Warning, "An automation's state outgrew 32 KiB; the wait for '{Key}' was dropped")]
    private static partial void LogWaitDropped(ILogger logger, string key);
}
