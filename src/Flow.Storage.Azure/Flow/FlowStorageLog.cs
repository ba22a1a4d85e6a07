using Microsoft.Extensions.Logging;

namespace Flow.Storage.Azure;

/// <summary>The Azure store's, control store's and work queue's log messages (event ids 4100-4199).</summary>
internal static partial class FlowStorageLog
{
    [LoggerMessage(EventId = 4101, Level = LogLevel.Warning, Message = "Run {RunId}: could not write its run index row {Partition}/{RowKey}; it may be missing from that listing until its next state change")]
    public static partial void IndexWriteFailed(ILogger logger, string runId, string partition, string rowKey, Exception exception);

    [LoggerMessage(EventId = 4102, Level = LogLevel.Debug, Message = "Run {RunId}: could not delete the index row {Partition}/{RowKey}; readers skip it as stale")]
    public static partial void IndexDeleteFailed(ILogger logger, string runId, string partition, string rowKey, Exception exception);

    [LoggerMessage(EventId = 4103, Level = LogLevel.Debug, Message = "Run {RunId}: could not delete chunk rows of a failed or finished commit; they are orphaned")]
    public static partial void ChunkCleanupFailed(ILogger logger, string runId, Exception exception);

    [LoggerMessage(EventId = 4104, Level = LogLevel.Debug, Message = "Run {RunId}: removed stale index row {Partition}/{RowKey}")]
    public static partial void StaleIndexRowRemoved(ILogger logger, string runId, string partition, string rowKey);

    [LoggerMessage(EventId = 4120, Level = LogLevel.Debug, Message = "Rejected run request {Id}: could not delete its earlier row {Partition}/{RowKey}; lists show the newest row of the id only")]
    public static partial void RejectedRequestCleanupFailed(ILogger logger, string id, string partition, string rowKey, Exception exception);

    [LoggerMessage(EventId = 4110, Level = LogLevel.Warning, Message = "Queue {Queue}: message {MessageId} was dead-lettered but its lease was lost before it could be deleted; it may be delivered again")]
    public static partial void DeadLetterDeleteLost(ILogger logger, string queue, string messageId);

    [LoggerMessage(EventId = 4130, Level = LogLevel.Warning, Message = "Event feed: {Count} positions were closed by a reader before this writer filled them; the events are written at new positions")]
    public static partial void FeedPositionsClosed(ILogger logger, int count, Exception exception);

    [LoggerMessage(EventId = 4131, Level = LogLevel.Warning, Message = "Event feed: position {Position} stayed unwritten (its writer stopped) and was closed")]
    public static partial void FeedGapClosed(ILogger logger, long position);

    [LoggerMessage(EventId = 4132, Level = LogLevel.Warning, Message = "Run {RunId}: relaying its outbox events failed; the next sweep tries again")]
    public static partial void OutboxRelayFailed(ILogger logger, string runId, Exception exception);

    [LoggerMessage(EventId = 4134, Level = LogLevel.Warning, Message = "Table {Table}: relaying control-plane events after a change failed; the next sweep relays them")]
    public static partial void ControlOutboxRelayFailed(ILogger logger, string table, Exception exception);
}
