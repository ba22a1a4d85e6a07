using Flow.Sdk;
using Microsoft.Extensions.Logging;

namespace Flow.Engine;

/// <summary>The engine's structured log messages. Event ids: 1xx episodes, 2xx tasks, 3xx deliveries, 4xx worker host.</summary>
internal static partial class Logs
{
    [LoggerMessage(100, LogLevel.Debug, "Episode of run {RunId} ({FlowName}) started by {WorkerId}; replaying {EventCount} events, recovery: {Recovery}")]
    public static partial void EpisodeStarted(ILogger logger, string runId, string flowName, string workerId, int eventCount, bool recovery);

    [LoggerMessage(101, LogLevel.Debug, "Episode of run {RunId} suspended: {Reason}; wake at {WakeAt}")]
    public static partial void EpisodeSuspended(ILogger logger, string runId, string reason, DateTimeOffset? wakeAt);

    [LoggerMessage(102, LogLevel.Information, "Run {RunId} ({FlowName}, deployment {Deployment}) finished {State} after {Duration}")]
    public static partial void RunFinished(ILogger logger, string runId, string flowName, string deployment, RunState state, TimeSpan duration);

    [LoggerMessage(103, LogLevel.Warning, "Episode of run {RunId} lost its lease; another worker has the run")]
    public static partial void LeaseLost(ILogger logger, string runId);

    [LoggerMessage(104, LogLevel.Error, "Run {RunId} failed: non-determinism: {Message}")]
    public static partial void NonDeterminism(ILogger logger, string runId, string message);

    [LoggerMessage(105, LogLevel.Warning, "Flow code of run {RunId} awaited something outside the flow context ({Count} continuations from other threads); such awaits are not replay-safe")]
    public static partial void EscapedAwaits(ILogger logger, string runId, int count);

    [LoggerMessage(106, LogLevel.Error, "A state hook of run {RunId} ({State}) failed; the run's outcome is unchanged")]
    public static partial void HookFailed(ILogger logger, Exception exception, string runId, RunState state);

    [LoggerMessage(113, LogLevel.Error, "The {Hook} hook of run {RunId} is not run again: {Reason}")]
    public static partial void HookGivenUp(ILogger logger, string runId, string hook, string reason);

    [LoggerMessage(107, LogLevel.Debug, "Work item for run {RunId} dropped: {Reason}")]
    public static partial void WorkItemDropped(ILogger logger, string runId, string reason);

    [LoggerMessage(108, LogLevel.Error, "Episode of run {RunId} failed unexpectedly; the work item will be delivered again")]
    public static partial void EpisodeError(ILogger logger, Exception exception, string runId);

    [LoggerMessage(109, LogLevel.Information, "Run {RunId} attempt {Attempt} failed; retrying at {RetryAt}")]
    public static partial void FlowRetryScheduled(ILogger logger, string runId, int attempt, DateTimeOffset retryAt);

    [LoggerMessage(111, LogLevel.Information, "Run {RunId} ({FlowName}, deployment {Deployment}) started attempt {Attempt} on pool {Pool}")]
    public static partial void RunStarted(ILogger logger, string runId, string flowName, string deployment, string pool, int attempt);

    [LoggerMessage(112, LogLevel.Information, "Run {RunId} ({FlowName}) taken over by {WorkerId} after its previous worker stopped; replaying {EventCount} events")]
    public static partial void RunTakenOver(ILogger logger, string runId, string flowName, string workerId, int eventCount);

    [LoggerMessage(110, LogLevel.Debug, "Work item for run {RunId} deferred: {LeaseOwner} holds the lease until {LeaseUntil}")]
    public static partial void WorkItemDeferred(ILogger logger, string runId, string leaseOwner, DateTimeOffset leaseUntil);

    [LoggerMessage(200, LogLevel.Debug, "Task {TaskName} (call {CallId}) of run {RunId} attempt {Attempt} failed: {Failure}")]
    public static partial void TaskAttemptFailed(ILogger logger, string taskName, int callId, string runId, int attempt, string failure);

    [LoggerMessage(201, LogLevel.Warning, "Writing the cache entry of task {TaskName} failed; the result is recorded but not cached")]
    public static partial void CacheWriteFailed(ILogger logger, Exception exception, string taskName);

    [LoggerMessage(202, LogLevel.Warning, "Reading a cache entry failed; treated as a miss, the task runs")]
    public static partial void CacheReadFailed(ILogger logger, Exception exception);

    [LoggerMessage(300, LogLevel.Debug, "Delivered {Kind} {ItemId} to run {RunId}; wake-up sent: {WakeSent}")]
    public static partial void Delivered(ILogger logger, string kind, string itemId, string runId, bool wakeSent);

    [LoggerMessage(301, LogLevel.Debug, "Delivery {ItemId} to run {RunId} ignored: {Reason}")]
    public static partial void DeliveryIgnored(ILogger logger, string itemId, string runId, string reason);

    [LoggerMessage(400, LogLevel.Warning, "Work item {MessageId} on {Queue} dead-lettered: {Reason}")]
    public static partial void DeadLettered(ILogger logger, string messageId, string queue, string reason);

    [LoggerMessage(401, LogLevel.Error, "Polling queue {Queue} failed; backing off")]
    public static partial void PollFailed(ILogger logger, Exception exception, string queue);

    [LoggerMessage(402, LogLevel.Information, "Flow worker {WorkerId} started on queues {Queues}")]
    public static partial void WorkerStarted(ILogger logger, string workerId, string queues);

    [LoggerMessage(403, LogLevel.Error, "Work item {MessageId} on {Queue} failed; it will be delivered again")]
    public static partial void WorkItemFailed(ILogger logger, Exception exception, string messageId, string queue);

    [LoggerMessage(404, LogLevel.Debug, "Run {RunId} not started yet: {Reason}")]
    public static partial void RunDeferred(ILogger logger, string runId, string reason);
}
