using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Flow.Engine.Runs;
using Flow.Engine.Storage;
using Flow.Sdk;
using Microsoft.Extensions.Logging;

namespace Flow.Engine.Execution;

/// <summary>What every part of the engine shares: the stores, the registry, the clock, options and the delivery protocol.</summary>
internal sealed class EngineCore
{
    /// <summary>Deliveries waiting for their run's group commit, per run; a run is listed while its group commits run.</summary>
    private readonly Dictionary<string, List<PendingDelivery>> _deliveries = new(StringComparer.Ordinal);
    private readonly Lock _deliveryGate = new();

    public EngineCore(IFlowStore store, IWorkQueue queue, FlowRegistry registry, IServiceProvider services, FlowEngineOptions options, TimeProvider time, ILoggerFactory loggerFactory)
    {
        options.Validate();
        Store = store;
        Queue = queue;
        Registry = registry;
        Services = services;
        Options = options;
        Time = time;
        LoggerFactory = loggerFactory;
        Logger = loggerFactory.CreateLogger("Flow.Engine");
        RunLogger = loggerFactory.CreateLogger("Flow.Run");
        Lifecycle = new RunLifecycle(store, queue, time, loggerFactory.CreateLogger<RunLifecycle>());
    }

    public IFlowStore Store { get; }

    public IWorkQueue Queue { get; }

    public FlowRegistry Registry { get; }

    public IServiceProvider Services { get; }

    public FlowEngineOptions Options { get; }

    public TimeProvider Time { get; }

    public ILoggerFactory LoggerFactory { get; }

    public ILogger Logger { get; }

    public ILogger RunLogger { get; }

    public JsonSerializerOptions Json => Registry.SerializerOptions;

    public DateTimeOffset Now => Time.GetUtcNow();

    public static string TaskQueue(string pool) => "tasks-" + pool;

    public string Serialize(object? value, Type type) => JsonSerializer.Serialize(value, type, Json);

    public T Deserialize<T>(string? json) => json is null ? default! : JsonSerializer.Deserialize<T>(json, Json)!;

    public object? Deserialize(string? json, Type type) => json is null ? null : JsonSerializer.Deserialize(json, type, Json);

    /// <summary>The one door for run state changes (claim, settle, retry, crash, cancel, delivery).</summary>
    public RunLifecycle Lifecycle { get; }

    public Task EnqueueRunAsync(FlowRunRecord run, TimeSpan delay, string reason, CancellationToken cancellationToken) =>
        Lifecycle.EnqueueAsync(run, delay, reason, cancellationToken);

    public static TimeSpan Clamp(TimeSpan delay) => RunLifecycle.ClampDelay(delay);

    /// <summary>A subflow's run id: derived from the parent, its attempt and the call, so a replayed start finds the same child.</summary>
    public static string ChildRunId(string parentRunId, int attempt, int callId)
    {
        var id = $"{parentRunId}.{attempt}.{callId}";
        return id.Length <= 100 ? id : "sub-" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(id)))[..40];
    }

    /// <summary>
    /// Delivers an inbox item to a run through <see cref="RunLifecycle.DeliverAsync"/> (which wakes the run when <paramref name="wake"/>).
    /// Deliveries to the same run from this process are group-committed:
    /// while one commit is in flight the next ones wait and then go together in one commit, so many workers'
    /// task results do not each fight for the run's version (one read and one commit per group, not per result).
    /// </summary>
    /// <returns>True when delivered; false when the run is gone or final, or the item was already delivered.</returns>
    public Task<bool> DeliverAsync(string runId, InboxItem item, bool wake, CancellationToken cancellationToken)
    {
        var pending = new PendingDelivery(item, wake, new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously));
        bool drain;
        lock (_deliveryGate)
        {
            drain = !_deliveries.TryGetValue(runId, out var waiting);
            if (drain)
            {
                _deliveries[runId] = waiting = [];
            }

            waiting!.Add(pending);
        }

        if (drain)
        {
            _ = Task.Run(() => DrainDeliveriesAsync(runId), CancellationToken.None);
        }

        return pending.Done.Task.WaitAsync(cancellationToken);
    }

    private sealed record PendingDelivery(InboxItem Item, bool Wake, TaskCompletionSource<bool> Done);

    /// <summary>Commits a run's waiting deliveries, a group at a time (distinct ids, at most a commit's worth), until none waits.</summary>
    private async Task DrainDeliveriesAsync(string runId)
    {
        while (true)
        {
            var group = new List<PendingDelivery>();
            lock (_deliveryGate)
            {
                var waiting = _deliveries[runId];
                var ids = new HashSet<string>(StringComparer.Ordinal);
                for (var i = 0; i < waiting.Count && group.Count < Store.MaxItemsPerCommit; i++)
                {
                    if (ids.Add(waiting[i].Item.Id))
                    {
                        group.Add(waiting[i]);
                        waiting.RemoveAt(i--);
                    }
                }

                if (group.Count == 0)
                {
                    _deliveries.Remove(runId);
                    return;
                }
            }

            // The commit is not tied to any one caller's cancellation; each caller only stops waiting for it.
            try
            {
                var delivered = await Lifecycle.DeliverAsync(runId, group.ConvertAll(p => p.Item), group.Exists(p => p.Wake), CancellationToken.None).ConfigureAwait(false);
                group.ForEach(p => p.Done.TrySetResult(delivered));
            }
            catch (DuplicateInboxItemException)
            {
                // One of them was delivered before (a repeated task result): one by one, so only that one is refused.
                foreach (var p in group)
                {
                    await CompleteAsync(p.Done, () => Lifecycle.DeliverAsync(runId, [p.Item], p.Wake, CancellationToken.None)).ConfigureAwait(false);
                }
            }
            catch (Exception e)
            {
                group.ForEach(p => p.Done.TrySetException(e));
            }
        }
    }

    private static async Task CompleteAsync(TaskCompletionSource<bool> done, Func<Task<bool>> deliver)
    {
        try
        {
            done.TrySetResult(await deliver().ConfigureAwait(false));
        }
        catch (Exception e)
        {
            done.TrySetException(e);
        }
    }

    /// <summary>Tells a subflow's parent that the child reached a final state (idempotent: the inbox id is fixed per child).</summary>
    public Task NotifyParentAsync(FlowRunRecord child, CancellationToken cancellationToken)
    {
        if (child.ParentRunId is null)
        {
            return Task.CompletedTask;
        }

        var success = child.State.IsSuccess();
        var failure = child.Failure ?? new FailureInfo(child.State == RunState.Cancelled ? typeof(OperationCanceledException).FullName! : "Flow.SubflowFailed", $"Subflow run {child.RunId} ended {child.State}");
        return DeliverAsync(child.ParentRunId, new InboxItem
        {
            Id = $"subflow-{child.ParentAttempt}-{child.ParentCallId}",
            Kind = success ? InboxItemKind.SubflowCompleted : InboxItemKind.SubflowFailed,
            RunAttempt = child.ParentAttempt,
            CallId = child.ParentCallId,
            Name = child.FlowName,
            Payload = success ? child.Result : null,
            Failure = success ? null : failure,
            Detail = child.RunId,
            StartedAt = child.StartedAt,
            Timestamp = Now,
        }, wake: true, cancellationToken);
    }

    /// <summary>A GUID derived from a name (replay-safe GUIDs, child ids).</summary>
    public static Guid DeterministicGuid(string name)
    {
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(name));
        hash[6] = (byte)((hash[6] & 0x0F) | 0x80); // version 8: custom
        hash[8] = (byte)((hash[8] & 0x3F) | 0x80); // RFC 4122 variant
        return new Guid(hash.AsSpan(0, 16), bigEndian: true);
    }

    /// <summary>The cache key of a call: the policy's key function, else the task name and a hash of the input.</summary>
    public static string CacheKeyFor(CachePolicy cache, string taskName, string inputJson, string flowName, string runId) =>
        cache.KeyFunction is { } keyFunction ? keyFunction(new CacheKeyContext(taskName, inputJson, flowName, runId)) : CacheKeyHash(taskName, inputJson);

    /// <summary>The cached entry for a key when there is one that has not expired.</summary>
    /// <summary>A valid (unexpired) cache entry, or null. A failed read is a miss, logged: the task then runs, rather than the store's failure being recorded as the task's.</summary>
    public async Task<CacheEntry?> GetValidCacheEntryAsync(string key, CancellationToken cancellationToken)
    {
        CacheEntry? entry;
        try
        {
            entry = await Store.GetCacheEntryAsync(key, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException && e is not ArgumentException)
        {
            Logs.CacheReadFailed(Logger, e);
            return null;
        }

        return entry is not null && (entry.ExpiresAt is null || entry.ExpiresAt > Now) ? entry : null;
    }

    /// <summary>Caches a task's result; a failed write is logged, never thrown (the result is recorded anyway).</summary>
    public async Task TryPutCacheEntryAsync(string key, string? result, CachePolicy cache, string taskName, string runId, CancellationToken cancellationToken)
    {
        try
        {
            var expires = cache.Expiration is { } expiration ? Now + expiration : (DateTimeOffset?)null;
            await Store.PutCacheEntryAsync(new CacheEntry(key, result ?? "null", taskName, runId, Now, expires), cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            Logs.CacheWriteFailed(Logger, e, taskName);
        }
    }

    /// <summary>Whether the options' retry condition accepts the failure (a condition that throws refuses it).</summary>
    public static bool ShouldRetry(TaskOptions options, Exception error)
    {
        try
        {
            return options.RetryCondition?.Invoke(error) ?? true;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            return false;
        }
    }

    /// <summary>The failure to record for an attempt: a cancellation caused by the attempt's timeout becomes a <see cref="TimeoutException"/>.</summary>
    public static Exception AttemptError(Exception error, CancellationTokenSource? timeout, string taskName, int attempt, TimeSpan? limit) =>
        timeout?.IsCancellationRequested == true && error is OperationCanceledException or TimeoutException
            ? new TimeoutException($"Task '{taskName}' attempt {attempt} timed out after {limit}.")
            : error;

    public static string CacheKeyHash(string taskName, string inputJson) =>
        taskName + ":" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(inputJson)));
}
