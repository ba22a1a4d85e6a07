using Flow.Engine.Storage;
using Flow.Sdk;
using Microsoft.Extensions.DependencyInjection;

namespace Flow.Engine.Execution;

/// <summary>
/// Executes one attempt of a distributed task taken from a pool's task queue, on whichever worker got
/// it, and reports to the parent run's inbox: the result (waking the parent), or a failed attempt (the
/// next attempt is enqueued here with the retry delay; the parent is not woken), or the final failure.
/// </summary>
internal sealed class TaskExecutor
{
    private readonly EngineCore _core;

    public TaskExecutor(EngineCore core) => _core = core;

    public async Task ExecuteAsync(LeasedWorkItem message, CancellationToken cancellationToken)
    {
        var work = message.Item!;
        var dispatched = await _core.Store.GetJournalEventAsync(work.RunId, work.RunAttempt, work.JournalIndex, cancellationToken).ConfigureAwait(false);
        if (dispatched is null || dispatched.Kind != JournalEventKind.TaskDispatched || dispatched.CallId != work.CallId)
        {
            Logs.WorkItemDropped(_core.Logger, work.RunId, $"task call {work.CallId} is not dispatched in attempt {work.RunAttempt}");
            await _core.Queue.CompleteAsync(message, cancellationToken).ConfigureAwait(false);
            return;
        }

        var run = await _core.Store.GetRunAsync(work.RunId, cancellationToken).ConfigureAwait(false);
        if (run is null || run.Record.State.IsFinal() || run.Record.CancelRequested || run.Record.Attempt != work.RunAttempt)
        {
            Logs.WorkItemDropped(_core.Logger, work.RunId, "the run is final, cancelled or retried");
            await _core.Queue.CompleteAsync(message, cancellationToken).ConfigureAwait(false);
            return;
        }

        var name = work.Name ?? dispatched.Name ?? string.Empty;
        var started = _core.Now;
        if (!_core.Registry.TryGetTask(name, out var definition))
        {
            await ReportAsync(work, InboxItemKind.TaskFailed, started, null, new FailureInfo("Flow.TaskNotRegistered", $"No task named '{name}' is registered on worker {_core.Options.WorkerId}."), null, cancellationToken).ConfigureAwait(false);
            await _core.Queue.CompleteAsync(message, cancellationToken).ConfigureAwait(false);
            return;
        }

        var dispatchedOptions = DistributedTaskOptions.Parse(dispatched.Detail);
        var options = dispatchedOptions.ToOptions(definition.Options);
        var input = dispatched.Payload ?? "null";
        var cacheKey = options.Cache is null ? null : dispatchedOptions.CacheKey ?? EngineCore.CacheKeyHash(name, input);
        using var extend = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var leaseKeeper = KeepLeaseAsync(message, extend.Token);
        using var scope = _core.Services.GetService<IServiceScopeFactory>()?.CreateScope();
        var services = scope?.ServiceProvider ?? _core.Services;
        TaskAttemptResult outcome;
        try
        {
            outcome = await TaskAttempt.RunAsync(_core, run.Record.FlowName, work.RunId, name, work.Attempt, options, cacheKey, async ct =>
            {
                var context = new EpisodeTaskContext(work.RunId, run.Record.FlowName, name, work.RunAttempt, work.CallId, work.Attempt, _core.RunLogger, _core.Time, services, (_, _, _, _) => { }, ct);
                var value = await definition.Invoke(services, context, _core.Deserialize(input, definition.InputType)).ConfigureAwait(false);
                return _core.Serialize(value, definition.OutputType);
            }, cancellationToken, propagateCancellation: true).ConfigureAwait(false);
        }
        finally
        {
            await extend.CancelAsync().ConfigureAwait(false);
            await leaseKeeper.ConfigureAwait(false);
        }

        message = _leased ?? message;
        if (outcome.Error is not { } error)
        {
            var state = outcome.State == RunState.Cached ? nameof(RunState.Cached) : nameof(RunState.Completed);
            await ReportAsync(work, InboxItemKind.TaskCompleted, outcome.StartedAt, outcome.Result, null, state, cancellationToken).ConfigureAwait(false);
        }
        else
        {
            var failure = FailureInfo.From(error);
            Logs.TaskAttemptFailed(_core.Logger, name, work.CallId, work.RunId, work.Attempt, failure.ToString());
            if (TaskAttempt.RetryAt(options, error, work.Attempt, _core.Now) is { } due)
            {
                await ReportAsync(work, InboxItemKind.TaskAttemptFailed, outcome.StartedAt, null, failure, due.ToString("O", System.Globalization.CultureInfo.InvariantCulture), cancellationToken).ConfigureAwait(false);
                await _core.Queue.EnqueueAsync(message.Queue, work with { Attempt = work.Attempt + 1, Reason = "retry" }, EngineCore.Clamp(due - _core.Now), cancellationToken).ConfigureAwait(false);
            }
            else
            {
                await ReportAsync(work, InboxItemKind.TaskFailed, outcome.StartedAt, null, failure, null, cancellationToken).ConfigureAwait(false);
            }
        }

        await _core.Queue.CompleteAsync(message, cancellationToken).ConfigureAwait(false);
    }

    private LeasedWorkItem? _leased;

    private async Task KeepLeaseAsync(LeasedWorkItem message, CancellationToken cancellationToken)
    {
        _leased = message;
        try
        {
            while (true)
            {
                await Task.Delay(_core.Options.EffectiveHeartbeat, _core.Time, cancellationToken).ConfigureAwait(false);
                _leased = await _core.Queue.ExtendLeaseAsync(_leased, _core.Options.LeaseDuration, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException)
        {
            // the attempt ended
        }
        catch (LeaseLostException)
        {
            // Another worker may run it again; the result delivery is idempotent.
        }
    }

    private Task ReportAsync(WorkItem work, InboxItemKind kind, DateTimeOffset started, string? result, FailureInfo? failure, string? detail, CancellationToken cancellationToken) =>
        _core.DeliverAsync(work.RunId, new InboxItem
        {
            Id = kind == InboxItemKind.TaskAttemptFailed ? $"task-{work.RunAttempt}-{work.CallId}-{work.Attempt}" : $"task-{work.RunAttempt}-{work.CallId}",
            Kind = kind,
            RunAttempt = work.RunAttempt,
            CallId = work.CallId,
            Attempt = work.Attempt,
            Name = work.Name,
            Payload = result,
            Failure = failure,
            StartedAt = started,
            Timestamp = _core.Now,
            Detail = detail,
        }, wake: kind != InboxItemKind.TaskAttemptFailed, cancellationToken);
}
