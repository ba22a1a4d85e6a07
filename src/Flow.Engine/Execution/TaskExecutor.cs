using Flow.Engine.Diagnostics;
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
        string? cacheKey = null;
        if (options.Cache is { } cache)
        {
            cacheKey = dispatchedOptions.CacheKey ?? EngineCore.CacheKeyHash(name, input);
            if (!cache.Refresh)
            {
                var entry = await _core.GetValidCacheEntryAsync(cacheKey, cancellationToken).ConfigureAwait(false);
                if (entry is not null)
                {
                    await ReportAsync(work, InboxItemKind.TaskCompleted, started, entry.Value, null, nameof(RunState.Cached), cancellationToken).ConfigureAwait(false);
                    await _core.Queue.CompleteAsync(message, cancellationToken).ConfigureAwait(false);
                    return;
                }
            }
        }

        using var extend = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var leaseKeeper = KeepLeaseAsync(message, extend.Token);
        string? result = null;
        Exception? error = null;
        using var timeout = options.Timeout is { } limit ? new CancellationTokenSource(limit, _core.Time) : null;
        using var linked = timeout is null ? CancellationTokenSource.CreateLinkedTokenSource(cancellationToken) : CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        using var scope = _core.Services.GetService<IServiceScopeFactory>()?.CreateScope();
        try
        {
            var context = new EpisodeTaskContext(work.RunId, run.Record.FlowName, name, work.RunAttempt, work.CallId, work.Attempt, _core.RunLogger, _core.Time, (scope?.ServiceProvider ?? _core.Services), (_, _, _, _) => { }, linked.Token);
            var typedInput = _core.Deserialize(input, definition.InputType);
            var body = definition.Invoke((scope?.ServiceProvider ?? _core.Services), context, typedInput);
            var value = options.Timeout is { } max ? await body.WaitAsync(max, _core.Time, cancellationToken).ConfigureAwait(false) : await body.ConfigureAwait(false);
            result = _core.Serialize(value, definition.OutputType);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            error = EngineCore.AttemptError(e, timeout, name, work.Attempt, options.Timeout);
        }
        finally
        {
            await extend.CancelAsync().ConfigureAwait(false);
            await leaseKeeper.ConfigureAwait(false);
        }

        message = _leased ?? message;
        FlowTelemetry.TaskAttemptEnded(System.Diagnostics.Activity.Current, run.Record.FlowName, name, error is null ? RunState.Completed : RunState.Failed, _core.Now - started);
        if (error is null)
        {
            if (cacheKey is not null)
            {
                await _core.TryPutCacheEntryAsync(cacheKey, result, options.Cache!, name, work.RunId, cancellationToken).ConfigureAwait(false);
            }

            await ReportAsync(work, InboxItemKind.TaskCompleted, started, result, null, nameof(RunState.Completed), cancellationToken).ConfigureAwait(false);
        }
        else
        {
            var failure = FailureInfo.From(error);
            Logs.TaskAttemptFailed(_core.Logger, name, work.CallId, work.RunId, work.Attempt, failure.ToString());
            var retry = work.Attempt <= options.Retries && EngineCore.ShouldRetry(options, error);

            if (retry)
            {
                var delay = RetryPolicy.Delay(options.RetryDelay, options.RetryJitterFactor, work.Attempt);
                var due = _core.Now + delay;
                await ReportAsync(work, InboxItemKind.TaskAttemptFailed, started, null, failure, due.ToString("O", System.Globalization.CultureInfo.InvariantCulture), cancellationToken).ConfigureAwait(false);
                await _core.Queue.EnqueueAsync(message.Queue, work with { Attempt = work.Attempt + 1, Reason = "retry" }, EngineCore.Clamp(delay), cancellationToken).ConfigureAwait(false);
            }
            else
            {
                await ReportAsync(work, InboxItemKind.TaskFailed, started, null, failure, null, cancellationToken).ConfigureAwait(false);
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
