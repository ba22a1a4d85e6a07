using System.Security.Cryptography;
using System.Text;
using Flow.ControlPlane;
using Flow.Engine.Events;
using Flow.Engine.Storage;
using ETag = Azure.ETag;
using RequestFailedException = Azure.RequestFailedException;
using SdkTableClient = Azure.Data.Tables.TableClient;
using SdkTableEntity = Azure.Data.Tables.TableEntity;
using SdkTableTransactionAction = Azure.Data.Tables.TableTransactionAction;
using SdkTableTransactionActionType = Azure.Data.Tables.TableTransactionActionType;

namespace Flow.Storage.Azure;

/// <summary>
/// The control store's outbox (docs/events.md, "Control-plane events"). A change and its event are one entity group
/// transaction: the event is an outbox row <c>~outbox~{hash of the event id}</c> (the event's JSON in <c>Event</c>,
/// <c>EventPending = true</c>) in the <b>same partition</b> as the record it describes — beside the deployment in its flow's
/// partition, the pool in <c>pool</c>, the automation in <c>automation</c>, the firing in its automation's partition, the
/// refused request in its day — so no change is stored without its event and a failed condition stores neither. Right
/// after the commit the store relays the event to <see cref="AzureEventStore"/> (idempotent by event id) and deletes the
/// outbox row; <see cref="RelayPendingAsync"/> (run by <see cref="AzureOutboxRelayService"/> with the run outbox's sweep) relays
/// what a process that died in between left behind. Outbox rows sort after every record key ('~'), and listings stop before them.
/// </summary>
public sealed partial class AzureControlStore
{
    /// <summary>The start of an outbox row's RowKey; record keys (ASCII letters, digits, '-', '_', '.', ':') all sort before it.</summary>
    internal const string OutboxRowPrefix = "~outbox~";

    /// <summary>Where outbox rows begin: listings read RowKeys below it.</summary>
    private const string OutboxStart = "~";

    private const string PendingProperty = "EventPending";

    private IEnumerable<SdkTableClient> OutboxTables => [_deployments, _pools, _rejected, _automations, _firings];

    /// <summary>
    /// Relays every pending control-plane event (outbox rows left by a process that stopped between a change and its relay) to
    /// the event store and deletes their outbox rows. Safe to run anywhere and concurrently (the event store keeps one event per
    /// id). Costs one query per control table: outbox rows are found by their RowKey range across the (small) tables.
    /// </summary>
    /// <param name="cancellationToken">Cancels the sweep.</param>
    /// <returns>The number of events relayed.</returns>
    public async Task<int> RelayPendingAsync(CancellationToken cancellationToken)
    {
        var filter = TableFilter.And(TableFilter.GreaterThanOrEqual("RowKey", OutboxRowPrefix), TableFilter.LessThan("RowKey", OutboxRowPrefix + "\uffff"));
        var relayed = 0;
        foreach (var table in OutboxTables)
        {
            var rows = await QueryAsync(table, filter, int.MaxValue, cancellationToken).ConfigureAwait(false);
            if (rows.Count > 0)
            {
                await RelayAsync(table, rows, cancellationToken).ConfigureAwait(false);
                relayed += rows.Count;
            }
        }

        return relayed;
    }

    /// <summary>The outbox row of an event, in <paramref name="partition"/>.</summary>
    private static SdkTableEntity OutboxRow(string partition, FlowEvent flowEvent)
    {
        var row = new SdkTableEntity(partition, OutboxRowPrefix + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(flowEvent.Id)))[..32])
        {
            ["EventId"] = flowEvent.Id,
            ["Kind"] = flowEvent.Kind,
            [PendingProperty] = true,
        };
        AzureEventStore.WriteJson(row, EventJson.Serialize(flowEvent));
        return row;
    }

    /// <summary>
    /// Writes <paramref name="row"/> under <paramref name="condition"/> (<see cref="IControlStore.MustNotExist"/> or an ETag) and
    /// the outbox rows of <paramref name="events"/> in one entity group transaction, then relays the events. Returns the row's ETag.
    /// </summary>
    private async Task<string> WriteWithEventsAsync(SdkTableClient table, SdkTableEntity row, string condition, string what, IReadOnlyList<FlowEvent> events, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        if (condition.Length > 0 && !IsTableETag(condition))
        {
            throw new ConcurrencyException($"{what} is not at version {condition}: versions of this store are table ETags; nothing was written.");
        }

        var outbox = events.Select(e => OutboxRow(row.PartitionKey, e)).ToList();
        var write = condition.Length == 0
            ? new SdkTableTransactionAction(SdkTableTransactionActionType.Add, row)
            : new SdkTableTransactionAction(SdkTableTransactionActionType.UpdateReplace, row, new ETag(condition));
        string etag;
        try
        {
            var response = await table.SubmitTransactionAsync(
                outbox.Select(o => new SdkTableTransactionAction(SdkTableTransactionActionType.UpsertReplace, o)).Prepend(write), cancellationToken).ConfigureAwait(false);
            etag = response.Value[0].Headers.ETag?.ToString() ?? throw new InvalidOperationException($"The Table service answered the write of {what} without an ETag.");
        }
        catch (RequestFailedException e) when (e.Status is 409 or 412 or 404)
        {
            throw new ConcurrencyException(
                condition.Length == 0 ? $"{what} already exists; nothing was written." : $"{what} is not at version {condition} (or does not exist); nothing was written.", e);
        }

        await RelayAfterCommitAsync(table, outbox, cancellationToken).ConfigureAwait(false);
        return etag;
    }

    /// <summary>Deletes the row at <paramref name="version"/> and stores the deletion's event in one entity group transaction, then relays it.</summary>
    private async Task DeleteWithEventAsync(SdkTableClient table, string partitionKey, string rowKey, string version, FlowEvent? deleted, CancellationToken cancellationToken)
    {
        var outbox = deleted is null ? [] : new List<SdkTableEntity> { OutboxRow(partitionKey, deleted) };
        try
        {
            await table.SubmitTransactionAsync(
                outbox.Select(o => new SdkTableTransactionAction(SdkTableTransactionActionType.UpsertReplace, o))
                    .Prepend(new SdkTableTransactionAction(SdkTableTransactionActionType.Delete, new SdkTableEntity(partitionKey, rowKey), new ETag(version))),
                cancellationToken).ConfigureAwait(false);
        }
        catch (RequestFailedException e) when (e.Status is 404 or 412)
        {
            throw new ConcurrencyException($"{partitionKey}/{rowKey} changed while it was being deleted.", e);
        }

        await RelayAfterCommitAsync(table, outbox, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Relays events just committed; a failure is logged and left to the sweep (the change is stored either way).</summary>
    private async Task RelayAfterCommitAsync(SdkTableClient table, IReadOnlyList<SdkTableEntity> outbox, CancellationToken cancellationToken)
    {
        if (outbox.Count == 0 || !_relayAfterCommit)
        {
            return;
        }

        try
        {
            await RelayAsync(table, outbox, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is RequestFailedException or System.Text.Json.JsonException or FlowStoreException)
        {
            FlowStorageLog.ControlOutboxRelayFailed(_logger, table.Name, e);
        }
    }

    /// <summary>Writes the events of outbox rows to the event store, then deletes the rows (a row deleted already is fine).</summary>
    private async Task RelayAsync(SdkTableClient table, IReadOnlyList<SdkTableEntity> outbox, CancellationToken cancellationToken)
    {
        var events = outbox.Select(r => AzureEventStore.ReadJsonText(r)).Select(json => (EventJson.Deserialize(json), json)).ToList();
        await _events.WriteAsync(events, cancellationToken).ConfigureAwait(false);
        foreach (var row in outbox)
        {
            // The SDK answers a delete of a missing entity with its 404 response, not an exception.
            await table.DeleteEntityAsync(row.PartitionKey, row.RowKey, ETag.All, cancellationToken).ConfigureAwait(false);
        }
    }
}
