using Flow.Engine.Storage;
using Flow.Sdk;
using ETag = Azure.ETag;
using RequestFailedException = Azure.RequestFailedException;
using SdkTableEntity = Azure.Data.Tables.TableEntity;
using SdkTableTransactionAction = Azure.Data.Tables.TableTransactionAction;
using SdkTableTransactionActionType = Azure.Data.Tables.TableTransactionActionType;

namespace Flow.Storage.Azure;

/// <content>
/// Deleting finished runs (retention and the purge API): the run row first, conditional on the ETag it was read with and
/// only if the run is final — once it is gone no commit can touch the run again — then every other row of the run's
/// partition in transactions of up to 100, its payload blobs, and its index rows. A crash part-way leaves index rows in a
/// final state's partition that point at no run; the next pass finds them and finishes the job.
/// </content>
public sealed partial class AzureFlowStore : IRunRetention
{
    private const int PurgeParallelism = 4;
    private static readonly RunState[] FinalStates = [.. Enum.GetValues<RunState>().Where(s => s.IsFinal())];

    // What deciding and deleting needs of a run row: never its (possibly large) payloads.
    private static readonly string[] DecisionColumns = ["FlowName", "Deployment", "State", "StateTime", "TransitionCount", "CreatedAt", "EndedAt"];

    /// <inheritdoc />
    public async Task<RunDeletion> DeleteRunAsync(string runId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(runId);
        if (!FlowKeys.IsValidRunId(runId))
        {
            cancellationToken.ThrowIfCancellationRequested();
            return RunDeletion.NotFound;
        }

        while (true)
        {
            var response = await _runs.GetEntityIfExistsAsync<SdkTableEntity>(runId, FlowKeys.RunRow, DecisionColumns, cancellationToken).ConfigureAwait(false);
            if (!response.HasValue || response.Value is not { } row)
            {
                return RunDeletion.NotFound;
            }

            var run = FlowEntities.Run(row) with { RunId = runId }; // a select leaves the keys out
            if (!run.State.IsFinal())
            {
                return RunDeletion.NotFinal;
            }

            if (await PurgeAsync(run, row.ETag, cancellationToken).ConfigureAwait(false))
            {
                return RunDeletion.Deleted;
            }

            // The run changed between the read and the delete: decide again on what it is now.
        }
    }

    /// <inheritdoc />
    public async Task<int> DeleteFinishedRunsAsync(DateTimeOffset endedBefore, int maxRuns, CancellationToken cancellationToken)
    {
        StorageContract.ValidateRetentionBatch(maxRuns);
        var cutoff = StorageContract.NormalizeTime(endedBefore);
        var deleted = 0;
        foreach (var state in FinalStates)
        {
            // A run that ended before the cutoff was created before it and entered its final state before it: a RowKey
            // range (creation time) and a property filter within one index partition.
            var filter = TableFilter.And(
                TableFilter.Equal("PartitionKey", FlowKeys.StatePartition(state)),
                TableFilter.GreaterThanOrEqual("RowKey", FlowKeys.InvertedTicks(cutoff)),
                TableFilter.LessThan("StateTime", cutoff));
            string? continuation = null;
            do
            {
                var remaining = maxRuns - deleted;
                if (remaining <= 0)
                {
                    return deleted;
                }

                var page = await _index.QueryAsync<SdkTableEntity>(filter, maxPerPage: Math.Min(100, remaining), cancellationToken: cancellationToken)
                    .AsPages(continuation, Math.Min(100, remaining)).FirstAsync(cancellationToken).ConfigureAwait(false);
                continuation = page.ContinuationToken;
                var candidates = page.Values.Take(remaining).ToList();
                var results = new bool[candidates.Count];
                await Parallel.ForEachAsync(
                    Enumerable.Range(0, candidates.Count),
                    new ParallelOptions { MaxDegreeOfParallelism = PurgeParallelism, CancellationToken = cancellationToken },
                    async (i, ct) => results[i] = await DeleteIfEndedBeforeAsync(candidates[i], cutoff, ct).ConfigureAwait(false)).ConfigureAwait(false);
                deleted += results.Count(r => r);
            }
            while (continuation is not null);
        }

        return deleted;
    }

    /// <summary>Deletes the run a final state's index row points to, if it ended before the cutoff; finishes an interrupted deletion.</summary>
    private async Task<bool> DeleteIfEndedBeforeAsync(SdkTableEntity indexRow, DateTimeOffset cutoff, CancellationToken cancellationToken)
    {
        if (indexRow.GetString("RunId") is not { } runId || !FlowKeys.IsValidRunId(runId))
        {
            return false;
        }

        var response = await _runs.GetEntityIfExistsAsync<SdkTableEntity>(runId, FlowKeys.RunRow, DecisionColumns, cancellationToken).ConfigureAwait(false);
        if (!response.HasValue || response.Value is not { } row)
        {
            // Only a deletion that stopped after the run row leaves a final state's index row without its run.
            await DeleteRunDataAsync(IndexedRun(runId, indexRow), cancellationToken).ConfigureAwait(false);
            return false;
        }

        var run = FlowEntities.Run(row) with { RunId = runId }; // a select leaves the keys out
        return StorageContract.EndedBefore(run, cutoff) && await PurgeAsync(run, row.ETag, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Deletes a final run read with <paramref name="etag"/>; false (nothing deleted) when the run row changed since.</summary>
    private async Task<bool> PurgeAsync(FlowRunRecord run, ETag etag, CancellationToken cancellationToken)
    {
        try
        {
            await _runs.DeleteEntityAsync(run.RunId, FlowKeys.RunRow, etag, cancellationToken).ConfigureAwait(false);
        }
        catch (RequestFailedException e) when (e.Status == 412)
        {
            return false;
        }

        await DeleteRunDataAsync(run, cancellationToken).ConfigureAwait(false);
        return true;
    }

    /// <summary>
    /// Deletes everything of a run but its run row (already gone): the partition's other rows, the payload blobs and the
    /// index rows. Idempotent. Rows a run owns elsewhere (e.g. an event outbox) are to be deleted here too.
    /// </summary>
    private async Task DeleteRunDataAsync(FlowRunRecord run, CancellationToken cancellationToken)
    {
        var filter = TableFilter.Equal("PartitionKey", run.RunId);
        await foreach (var page in _runs.QueryAsync<SdkTableEntity>(filter, maxPerPage: 100, select: ["RowKey"], cancellationToken: cancellationToken).AsPages().ConfigureAwait(false))
        {
            var keys = page.Values.Select(r => r.RowKey).Where(k => k != FlowKeys.RunRow).ToList();
            if (keys.Count == 0)
            {
                continue;
            }

            try
            {
                await _runs.SubmitTransactionAsync(
                    keys.Select(k => new SdkTableTransactionAction(SdkTableTransactionActionType.Delete, new SdkTableEntity(run.RunId, k), ETag.All)), cancellationToken).ConfigureAwait(false);
            }
            catch (RequestFailedException e) when (e.Status == 404)
            {
                // A concurrent deletion got some first: delete the rest one by one (a missing row answers 404, no exception).
                await Task.WhenAll(keys.Select(k => _runs.DeleteEntityAsync(run.RunId, k, ETag.All, cancellationToken))).ConfigureAwait(false);
            }
        }

        if (_payloads is not null)
        {
            await _payloads.DeleteRunAsync(run.RunId, cancellationToken).ConfigureAwait(false);
        }

        await DeleteIndexRowsAsync(run.RunId, CreationIndexRows(run).Select(r => new SdkTableEntity(r.PartitionKey, r.RowKey)), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The record an index row of a final state describes: enough to compute the run's index rows.</summary>
    private static FlowRunRecord IndexedRun(string runId, SdkTableEntity indexRow) => new()
    {
        RunId = runId,
        FlowName = indexRow.GetString("FlowName") ?? string.Empty,
        Deployment = indexRow.GetString("Deployment"),
        State = Enum.TryParse<RunState>(indexRow.GetString("State"), out var state) ? state : RunState.Completed,
        TransitionCount = indexRow.GetInt32("EnteredAt") ?? 1,
        CreatedAt = FlowEntities.GetTime(indexRow, "CreatedAt") ?? default,
    };
}
