using System.Globalization;
using System.Text.Json.Nodes;
using Flow.ControlPlane.Templates;
using Flow.Engine.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Flow.ControlPlane.Automations;

/// <summary>
/// Runs a firing's actions (docs/automations.md): each action at least once, each attempt recorded on the firing, failed
/// attempts retried with back-off on later ticks. Every action carries the idempotency key <c>{firing id}.a{index}</c>, so
/// a retry after a dispatcher died has its effect once: a run-deployment run's id derives from it, a sent event's id is it,
/// a webhook carries it in <c>Idempotency-Key</c>; pausing, resuming, cancelling and crashing are idempotent by nature.
/// </summary>
public sealed partial class AutomationDispatcher
{
    /// <summary>The header that carries the idempotency key of a webhook delivery.</summary>
    public const string IdempotencyKeyHeader = "Idempotency-Key";

    private const int MaxAttemptsKept = 20;

    private readonly IControlStore _store;
    private readonly AutomationActions _actions;
    private readonly TimeProvider _time;
    private readonly AutomationOptions _options;
    private readonly ILogger _logger;

    /// <summary>Creates the dispatcher.</summary>
    /// <param name="store">The control store (firings).</param>
    /// <param name="actions">What performs each action.</param>
    /// <param name="options">The options.</param>
    /// <param name="timeProvider">The clock; null for the system clock.</param>
    /// <param name="logger">The logger; null for none.</param>
    public AutomationDispatcher(IControlStore store, AutomationActions actions, IOptions<AutomationOptions> options, TimeProvider? timeProvider = null, ILogger<AutomationDispatcher>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(actions);
        ArgumentNullException.ThrowIfNull(options);
        _store = store;
        _actions = actions;
        _options = options.Value;
        _time = timeProvider ?? TimeProvider.System;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
    }

    /// <summary>Runs the due actions of a firing and records their attempts.</summary>
    /// <param name="automation">The automation (its actions as they are now).</param>
    /// <param name="firingId">The firing.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>Whether the firing is finished (or gone), and how many actions finished in this call.</returns>
    public async Task<(bool Finished, int ActionsDone)> DispatchAsync(AutomationRecord automation, string firingId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(automation);
        var stored = await _store.GetFiringAsync(automation.Name, firingId, cancellationToken).ConfigureAwait(false);
        if (stored is null || stored.Record.Status != AutomationFiring.Pending)
        {
            return (true, 0);
        }

        var firing = stored.Record;
        var version = stored.Version;
        var done = 0;
        var context = Context(firing);
        for (var i = 0; i < firing.Actions.Count; i++)
        {
            var state = firing.Actions[i];
            var now = _time.GetUtcNow();
            if (state.Status != AutomationFiring.Pending || state.NextAttemptAt > now)
            {
                continue;
            }

            var action = state.Index < automation.Actions.Count && automation.Actions[state.Index].Type == state.Type ? automation.Actions[state.Index] : null;
            var outcome = action is null
                ? new ActionOutcome(false, true, null, "the automation no longer has this action")
                : await _actions.ExecuteAsync(automation, firing, action, state.IdempotencyKey, context, cancellationToken).ConfigureAwait(false);
            var attempts = state.Attempts.Append(new FiringAttempt { At = now, Succeeded = outcome.Succeeded, StatusCode = outcome.StatusCode, Detail = Shorten(outcome.Detail) }).ToList();
            var maxAttempts = action?.MaxAttempts ?? _options.MaxAttempts;
            var finished = outcome.Succeeded || outcome.Permanent || attempts.Count >= maxAttempts;
            var updated = state with
            {
                Status = outcome.Succeeded ? AutomationFiring.Succeeded : finished ? AutomationFiring.Failed : AutomationFiring.Pending,
                Result = outcome.Succeeded ? Shorten(outcome.Detail) : state.Result,
                NextAttemptAt = finished ? null : now + Backoff(attempts.Count),
                Attempts = attempts.Count > MaxAttemptsKept ? attempts[^MaxAttemptsKept..] : attempts,
            };
            var actions = firing.Actions.ToList();
            actions[i] = updated;
            var next = firing with { Actions = actions };
            if (actions.All(a => a.Status != AutomationFiring.Pending))
            {
                next = next with { Status = actions.All(a => a.Status == AutomationFiring.Succeeded) ? AutomationFiring.Succeeded : AutomationFiring.Failed };
            }

            if (!outcome.Succeeded)
            {
                LogActionFailed(_logger, automation.Name, firing.Id, state.Index, state.Type, finished, outcome.Detail ?? "");
            }

            try
            {
                var written = await _store.PutFiringAsync(Fit(next), version, cancellationToken).ConfigureAwait(false);
                firing = written.Record;
                version = written.Version;
                done += finished ? 1 : 0;
            }
            catch (ConcurrencyException)
            {
                // Another dispatcher is working on this firing; its attempt has the same idempotency key.
                return (false, done);
            }
        }

        return (firing.Status != AutomationFiring.Pending, done);
    }

    /// <summary>Makes a firing fit a store record (32 KiB): drops the triggering event's payload, then old attempts.</summary>
    /// <param name="firing">The firing.</param>
    /// <returns>The firing, perhaps shortened.</returns>
    public static AutomationFiring Fit(AutomationFiring firing)
    {
        ArgumentNullException.ThrowIfNull(firing);
        const int budget = ControlStoreContract.MaxRecordJsonBytes - 2048;
        if (ControlStoreContract.MeasureJson(firing) > budget && firing.Event is { Payload: not null } e)
        {
            firing = firing with { Event = e with { Payload = null } };
        }

        while (ControlStoreContract.MeasureJson(firing) > budget && firing.Actions.Any(a => a.Attempts.Count > 1))
        {
            firing = firing with { Actions = [.. firing.Actions.Select(a => a.Attempts.Count > 1 ? a with { Attempts = a.Attempts.Skip(a.Attempts.Count / 2).ToList() } : a)] };
        }

        return firing;
    }

    /// <summary>The template context of a firing: <c>event</c> (<see cref="EventTemplate.ContextFor"/>, null without one),
    /// <c>automation.name</c> and <c>firing</c> (<c>id</c>, <c>firedAt</c>, <c>reason</c>, <c>key</c>).</summary>
    /// <param name="firing">The firing.</param>
    /// <returns>The context.</returns>
    public static JsonObject Context(AutomationFiring firing)
    {
        ArgumentNullException.ThrowIfNull(firing);
        var context = firing.Event is { } e ? EventTemplate.ContextFor(e) : new JsonObject { ["event"] = null };
        context["automation"] = new JsonObject { ["name"] = firing.Automation };
        context["firing"] = new JsonObject
        {
            ["id"] = firing.Id,
            ["firedAt"] = firing.FiredAt.ToString("O", CultureInfo.InvariantCulture),
            ["reason"] = firing.Reason,
            ["key"] = firing.Key,
        };
        return context;
    }

    private TimeSpan Backoff(int attempts)
    {
        var delay = _options.RetryDelay * Math.Pow(2, Math.Min(attempts - 1, 20));
        return delay > _options.MaxRetryDelay ? _options.MaxRetryDelay : delay;
    }

    private static string? Shorten(string? text) => text is { Length: > 500 } ? text[..500] : text;

    [LoggerMessage(1320, LogLevel.Warning, "Automation {Automation} firing {FiringId}: action {Index} ({Type}) failed (for good: {Final}): {Detail}")]
    private static partial void LogActionFailed(ILogger logger, string automation, string firingId, int index, string type, bool final, string detail);
}
