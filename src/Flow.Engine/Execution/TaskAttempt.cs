using Flow.Engine.Diagnostics;
using Flow.Sdk;

namespace Flow.Engine.Execution;

/// <summary>What one task attempt produced.</summary>
/// <param name="State">Completed, Cached or Failed.</param>
/// <param name="Result">The result as JSON, unless Failed.</param>
/// <param name="Error">The failure (a timeout as <see cref="TimeoutException"/>), when Failed.</param>
/// <param name="CacheKey">The cache key used, or null.</param>
/// <param name="StartedAt">When the attempt started.</param>
/// <param name="EndedAt">When it ended.</param>
internal sealed record TaskAttemptResult(RunState State, string? Result, Exception? Error, string? CacheKey, DateTimeOffset StartedAt, DateTimeOffset EndedAt);

/// <summary>
/// One attempt of a task, the same for an inline task (run by its episode) and a distributed one (run by whichever worker took it
/// from the task queue): the cache is read (unless refreshing), the body runs under the task's timeout, a result is cached, and a
/// failure is judged by the task's retry policy (<see cref="RetryAt"/>).
/// </summary>
internal static class TaskAttempt
{
    /// <summary>Runs the attempt.</summary>
    /// <param name="core">The cache, clock and telemetry.</param>
    /// <param name="flowName">The run's flow (telemetry).</param>
    /// <param name="runId">The run (cache entries name it).</param>
    /// <param name="taskName">The task.</param>
    /// <param name="attempt">The attempt, from 1.</param>
    /// <param name="options">The task's options (timeout, cache).</param>
    /// <param name="cacheKey">The cache key when the task caches, else null.</param>
    /// <param name="body">Runs the body with the attempt's cancellation and returns its result as JSON.</param>
    /// <param name="cancellation">Cancels the attempt (the run was cancelled, or the worker shuts down).</param>
    /// <param name="propagateCancellation">Rethrow when <paramref name="cancellation"/> ends the attempt (a worker shutting down) instead of recording a failure.</param>
    /// <returns>The outcome.</returns>
    public static async Task<TaskAttemptResult> RunAsync(EngineCore core, string flowName, string runId, string taskName, int attempt, TaskOptions options, string? cacheKey, Func<CancellationToken, Task<string?>> body, CancellationToken cancellation, bool propagateCancellation)
    {
        var started = core.Now;
        if (cacheKey is not null && options.Cache is { Refresh: false })
        {
            var entry = await core.GetValidCacheEntryAsync(cacheKey, cancellation).ConfigureAwait(false);
            if (entry is not null)
            {
                return Ended(new TaskAttemptResult(RunState.Cached, entry.Value, null, cacheKey, started, core.Now));
            }
        }

        using var timeout = options.Timeout is { } limit ? new CancellationTokenSource(limit, core.Time) : null;
        using var linked = timeout is null ? CancellationTokenSource.CreateLinkedTokenSource(cancellation) : CancellationTokenSource.CreateLinkedTokenSource(cancellation, timeout.Token);
        try
        {
            var run = body(linked.Token);
            var result = options.Timeout is { } max ? await run.WaitAsync(max, core.Time, cancellation).ConfigureAwait(false) : await run.ConfigureAwait(false);
            if (cacheKey is not null)
            {
                await core.TryPutCacheEntryAsync(cacheKey, result, options.Cache!, taskName, runId, cancellation).ConfigureAwait(false);
            }

            return Ended(new TaskAttemptResult(RunState.Completed, result, null, cacheKey, started, core.Now));
        }
        catch (OperationCanceledException) when (propagateCancellation && cancellation.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            var error = EngineCore.AttemptError(e, timeout, taskName, attempt, options.Timeout);
            return Ended(new TaskAttemptResult(RunState.Failed, null, error, cacheKey, started, core.Now));
        }

        TaskAttemptResult Ended(TaskAttemptResult r)
        {
            FlowTelemetry.TaskAttemptEnded(System.Diagnostics.Activity.Current, flowName, taskName, r.State, r.EndedAt - r.StartedAt);
            return r;
        }
    }

    /// <summary>
    /// The task's retry policy: when attempts remain and its retry condition accepts the error, the time of the next attempt
    /// (with the policy's delay and jitter), otherwise null (the failure is final).
    /// </summary>
    /// <param name="options">The task's options.</param>
    /// <param name="error">The attempt's error.</param>
    /// <param name="attempt">The failed attempt, from 1.</param>
    /// <param name="endedAt">When it failed.</param>
    /// <returns>The retry time, or null.</returns>
    public static DateTimeOffset? RetryAt(TaskOptions options, Exception error, int attempt, DateTimeOffset endedAt) =>
        attempt <= options.Retries && EngineCore.ShouldRetry(options, error)
            ? endedAt + RetryPolicy.Delay(options.RetryDelay, options.RetryJitterFactor, attempt)
            : null;
}
