using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Flow.Engine.Storage;
using Flow.Sdk;
using Microsoft.Extensions.Logging;

namespace Flow.Engine.Execution;

/// <summary>What every part of the engine shares: the stores, the registry, the clock, options and the delivery protocol.</summary>
internal sealed class EngineCore
{
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

    public static string RunQueue(string pool) => "runs-" + pool;

    public static string TaskQueue(string pool) => "tasks-" + pool;

    public string Serialize(object? value, Type type) => JsonSerializer.Serialize(value, type, Json);

    public T Deserialize<T>(string? json) => json is null ? default! : JsonSerializer.Deserialize<T>(json, Json)!;

    public object? Deserialize(string? json, Type type) => json is null ? null : JsonSerializer.Deserialize(json, type, Json);

    public Task EnqueueRunAsync(FlowRunRecord run, TimeSpan delay, string reason, CancellationToken cancellationToken) =>
        Queue.EnqueueAsync(RunQueue(run.Pool), new WorkItem { Kind = WorkItem.RunKind, RunId = run.RunId, RunAttempt = run.Attempt, Reason = reason }, Clamp(delay), cancellationToken);

    public static TimeSpan Clamp(TimeSpan delay) =>
        delay <= TimeSpan.Zero ? TimeSpan.Zero : delay > TimeSpan.FromDays(6.9) ? TimeSpan.FromDays(6.9) : delay;

    /// <summary>A subflow's run id: derived from the parent, its attempt and the call, so a replayed start finds the same child.</summary>
    public static string ChildRunId(string parentRunId, int attempt, int callId)
    {
        var id = $"{parentRunId}.{attempt}.{callId}";
        return id.Length <= 100 ? id : "sub-" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(id)))[..40];
    }

    /// <summary>A new time-ordered run id.</summary>
    public static string NewRunId() => Guid.CreateVersion7().ToString("N");

    /// <summary>
    /// Delivers an inbox item to a run: adds it and, when <paramref name="wake"/>, makes sure an episode
    /// will see it — without a storm of wake-ups: only the delivery that flips <see cref="FlowRunRecord.WakeRequested"/>
    /// while no live episode holds the lease sends a wake-up; a live episode sees the item because
    /// its next commit fails the version check and it reloads.
    /// </summary>
    /// <returns>True when delivered; false when the run is gone or final, or the item was already delivered.</returns>
    public async Task<bool> DeliverAsync(string runId, InboxItem item, bool wake, Func<FlowRunRecord, (FlowRunRecord Run, StateTransition? Transition)>? change, CancellationToken cancellationToken)
    {
        for (var attempt = 0; ; attempt++)
        {
            var stored = await Store.GetRunAsync(runId, cancellationToken).ConfigureAwait(false);
            if (stored is null)
            {
                Logs.DeliveryIgnored(Logger, item.Id, runId, "no such run");
                return false;
            }

            var run = stored.Record;
            if (run.State.IsFinal())
            {
                Logs.DeliveryIgnored(Logger, item.Id, runId, "the run is " + run.State);
                return false;
            }

            var next = run with { WakeRequested = run.WakeRequested || wake };
            StateTransition? transition = null;
            if (change is not null)
            {
                (next, transition) = change(next);
            }

            try
            {
                await Store.CommitAsync(new RunCommit
                {
                    ExpectedVersion = stored.Version,
                    Run = next,
                    InboxToAdd = [item],
                    Transitions = transition is null ? [] : [transition],
                }, cancellationToken).ConfigureAwait(false);
            }
            catch (ConcurrencyException) when (attempt < 100)
            {
                continue;
            }
            catch (DuplicateInboxItemException)
            {
                Logs.DeliveryIgnored(Logger, item.Id, runId, "already delivered");
                return false;
            }

            var sendWake = wake && !run.WakeRequested && !run.IsLeased(Now);
            if (sendWake)
            {
                await EnqueueRunAsync(next, TimeSpan.Zero, "wake: " + item.Kind, cancellationToken).ConfigureAwait(false);
            }

            Logs.Delivered(Logger, item.Kind.ToString(), item.Id, runId, sendWake);
            return true;
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
        }, wake: true, change: null, cancellationToken);
    }

    /// <summary>A GUID derived from a name (replay-safe GUIDs, child ids).</summary>
    public static Guid DeterministicGuid(string name)
    {
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(name));
        hash[6] = (byte)((hash[6] & 0x0F) | 0x80); // version 8: custom
        hash[8] = (byte)((hash[8] & 0x3F) | 0x80); // RFC 4122 variant
        return new Guid(hash.AsSpan(0, 16), bigEndian: true);
    }

    public static string CacheKeyHash(string taskName, string inputJson) =>
        taskName + ":" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(inputJson)));
}
