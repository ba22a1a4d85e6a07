using Flow.Engine.Events;
using ETag = Azure.ETag;
using RequestFailedException = Azure.RequestFailedException;
using SdkTableEntity = Azure.Data.Tables.TableEntity;
using SdkTableTransactionAction = Azure.Data.Tables.TableTransactionAction;
using SdkTableTransactionActionType = Azure.Data.Tables.TableTransactionActionType;
using SdkTableUpdateMode = Azure.Data.Tables.TableUpdateMode;

namespace Flow.Storage.Azure;

/// <summary>
/// Retention of the events table (docs/events.md, "Retention"): whole days of the list, whole partitions of the feed with
/// their id rows. Nothing is scanned: days are listed in the <c>days</c> partition, feed partitions are numbered from the
/// floor.
/// </summary>
public sealed partial class AzureEventStore : IEventRetention
{
    /// <summary>How many feed partitions (of 1,000 positions) one call deletes at most.</summary>
    private const int FeedPartitionsPerCall = 1;

    /// <summary>
    /// Deletes old events in steps: first the list rows of whole days before the day of <paramref name="occurredBefore"/>
    /// (oldest day first, up to <paramref name="batchSize"/> rows a call), then, when no such day is left, feed partitions whose
    /// every row was written before <paramref name="occurredBefore"/> (not the newest partition), each with the id rows of its
    /// events. Before a feed partition is deleted the feed's floor (<c>feed/floor</c>) moves past it, so a reader behind it
    /// jumps to the floor instead of closing the deleted positions one by one.
    /// </summary>
    /// <param name="occurredBefore">Events before this time go (an event may stay up to a day longer).</param>
    /// <param name="batchSize">The most list rows one call deletes (1-<see cref="IEventRetention.MaxBatchSize"/>).</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>How many rows were deleted (list rows, or feed rows); 0 when nothing old is left.</returns>
    public async Task<int> DeleteEventsBeforeAsync(DateTimeOffset occurredBefore, int batchSize, CancellationToken cancellationToken)
    {
        EventRules.ValidateRetentionBatch(batchSize);
        var deleted = await DeleteOldListRowsAsync(AzureEventKeys.Day(occurredBefore), batchSize, cancellationToken).ConfigureAwait(false);
        return deleted > 0 ? deleted : await DeleteOldFeedPartitionsAsync(occurredBefore, cancellationToken).ConfigureAwait(false);
    }

    private async Task<int> DeleteOldListRowsAsync(string beforeDay, int batchSize, CancellationToken cancellationToken)
    {
        var days = TableFilter.And(TableFilter.Equal("PartitionKey", AzureEventKeys.DaysPartition), TableFilter.LessThan("RowKey", beforeDay));
        string? oldest = null;
        await foreach (var row in _table.QueryAsync<SdkTableEntity>(days, maxPerPage: 1, select: ["RowKey"], cancellationToken: cancellationToken).ConfigureAwait(false))
        {
            oldest = row.RowKey;
            break;
        }

        if (oldest is null)
        {
            return 0;
        }

        var partition = "d-" + oldest;
        var keys = new List<string>(batchSize);
        await foreach (var row in _table.QueryAsync<SdkTableEntity>(TableFilter.Equal("PartitionKey", partition), maxPerPage: batchSize, select: ["RowKey"], cancellationToken: cancellationToken).ConfigureAwait(false))
        {
            keys.Add(row.RowKey);
            if (keys.Count == batchSize)
            {
                break;
            }
        }

        await DeleteRowsAsync(partition, keys, cancellationToken).ConfigureAwait(false);
        if (keys.Count < batchSize)
        {
            // The day is empty now: it leaves the list of days (a later call would find nothing in it anyway).
            await _table.DeleteEntityAsync(AzureEventKeys.DaysPartition, oldest, ETag.All, cancellationToken).ConfigureAwait(false);
            return Math.Max(keys.Count, 1);
        }

        return keys.Count;
    }

    private async Task<int> DeleteOldFeedPartitionsAsync(DateTimeOffset writtenBefore, CancellationToken cancellationToken)
    {
        var (floor, floorTag, head) = await ReadFloorAndHeadAsync(cancellationToken).ConfigureAwait(false);
        var deleted = 0;
        for (var step = 0; step < FeedPartitionsPerCall; step++)
        {
            var partition = floor / AzureEventKeys.FeedRowsPerPartition;
            if (head <= 0 || partition >= (head - 1) / AzureEventKeys.FeedRowsPerPartition)
            {
                break; // the newest partition stays: positions there may still be handed out
            }

            var rows = new List<(string RowKey, string? Id, DateTimeOffset? Written)>();
            await foreach (var row in _table.QueryAsync<SdkTableEntity>(TableFilter.Equal("PartitionKey", AzureEventKeys.FeedPartition(floor)), select: ["RowKey", "Id", "Timestamp"], cancellationToken: cancellationToken).ConfigureAwait(false))
            {
                rows.Add((row.RowKey, row.GetString("Id"), row.Timestamp));
            }

            if (rows.Any(r => r.Written is not { } written || written >= writtenBefore))
            {
                break;
            }

            var next = (partition + 1) * AzureEventKeys.FeedRowsPerPartition;
            floorTag = await MoveFloorAsync(next, floorTag, cancellationToken).ConfigureAwait(false);
            if (floorTag is null)
            {
                break; // another instance moved it: it deletes this partition
            }

            await DeleteRowsAsync(AzureEventKeys.FeedPartition(floor), [.. rows.Select(r => r.RowKey)], cancellationToken).ConfigureAwait(false);
            await Parallel.ForEachAsync(
                rows.Where(r => r.Id is not null),
                new ParallelOptions { MaxDegreeOfParallelism = 16, CancellationToken = cancellationToken },
                async (r, ct) =>
                {
                    var (idPartition, idRow) = AzureEventKeys.IdRow(r.Id!);
                    await _table.DeleteEntityAsync(idPartition, idRow, ETag.All, ct).ConfigureAwait(false);
                }).ConfigureAwait(false);
            deleted += Math.Max(rows.Count, 1);
            floor = next;
        }

        return deleted;
    }

    /// <summary>Reads the feed's floor (the lowest position retention kept; 0 before any deletion) and head in one query.</summary>
    private async Task<(long Floor, ETag? FloorTag, long Head)> ReadFloorAndHeadAsync(CancellationToken cancellationToken)
    {
        long floor = 0, head = 0;
        ETag? tag = null;
        await foreach (var row in _table.QueryAsync<SdkTableEntity>(TableFilter.Equal("PartitionKey", AzureEventKeys.HeadPartition), cancellationToken: cancellationToken).ConfigureAwait(false))
        {
            if (row.RowKey == AzureEventKeys.FloorRow)
            {
                floor = row.GetInt64("Next") ?? 0;
                tag = row.ETag;
            }
            else if (row.RowKey == AzureEventKeys.HeadRow)
            {
                head = row.GetInt64("Next") ?? 0;
            }
        }

        return (floor, tag, head);
    }

    /// <summary>Moves the floor up, checked against the version read; null when another instance changed it first.</summary>
    private async Task<ETag?> MoveFloorAsync(long next, ETag? read, CancellationToken cancellationToken)
    {
        var row = new SdkTableEntity(AzureEventKeys.HeadPartition, AzureEventKeys.FloorRow) { ["Next"] = next };
        try
        {
            var response = read is { } tag
                ? await _table.UpdateEntityAsync(row, tag, SdkTableUpdateMode.Replace, cancellationToken).ConfigureAwait(false)
                : await _table.AddEntityAsync(row, cancellationToken).ConfigureAwait(false);
            return response.Headers.ETag;
        }
        catch (RequestFailedException e) when (e.Status is 409 or 412)
        {
            return null;
        }
    }

    /// <summary>Deletes rows of one partition in entity group transactions of 100; rows deleted meanwhile by someone else are skipped.</summary>
    private async Task DeleteRowsAsync(string partition, IReadOnlyList<string> keys, CancellationToken cancellationToken)
    {
        foreach (var chunk in keys.Chunk(100))
        {
            try
            {
                await _table.SubmitTransactionAsync(
                    chunk.Select(k => new SdkTableTransactionAction(SdkTableTransactionActionType.Delete, new SdkTableEntity(partition, k), ETag.All)), cancellationToken).ConfigureAwait(false);
            }
            catch (RequestFailedException e) when (e.Status == 404)
            {
                await Task.WhenAll(chunk.Select(k => _table.DeleteEntityAsync(partition, k, ETag.All, cancellationToken))).ConfigureAwait(false);
            }
        }
    }
}
