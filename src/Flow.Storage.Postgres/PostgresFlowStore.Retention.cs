using Flow.Engine.Storage;
using static Flow.Storage.Postgres.PgValues;

namespace Flow.Storage.Postgres;

/// <content>Deleting finished runs: retention in batches and one run by id, each in one statement.</content>
public sealed partial class PostgresFlowStore
{
    /// <summary>
    /// Retention: deletes up to <paramref name="batchSize"/> runs in a final state that ended before <paramref name="endedBefore"/>,
    /// with their state history, journal, inbox, logs and artifacts, in one statement (one transaction), oldest first;
    /// and cache entries that expired before that time.
    /// </summary>
    /// <param name="endedBefore">The cut-off.</param>
    /// <param name="batchSize">The most runs to delete.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>How many runs were deleted (fewer than <paramref name="batchSize"/>: none is left).</returns>
    public async Task<int> DeleteFinishedRunsAsync(DateTimeOffset endedBefore, int batchSize, CancellationToken cancellationToken)
    {
        StorageContract.ValidateRetentionBatch(batchSize);
        cancellationToken.ThrowIfCancellationRequested();
        var sql = $"""
            WITH d AS (
                DELETE FROM {_s}.runs WHERE run_id IN (
                    SELECT run_id FROM {_s}.runs WHERE ended_at < $1 AND state = ANY($2) ORDER BY ended_at LIMIT $3 FOR UPDATE SKIP LOCKED)
                RETURNING run_id),
            {DeleteRunChildren()},
            c AS (DELETE FROM {_s}.task_cache WHERE expires_at < $1)
            SELECT count(*)::integer FROM d
            """;
        var deleted = await _resilience.ScalarAsync(sql, [Time(endedBefore), Texts(FinalStates), P(batchSize)], cancellationToken).ConfigureAwait(false);
        return deleted is int count ? count : 0;
    }

    /// <inheritdoc />
    public async Task<RunDeletion> DeleteRunAsync(string runId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(runId);
        cancellationToken.ThrowIfCancellationRequested();

        // One statement: the run row goes only if it is final (re-checked after any concurrent commit's lock), its children with it;
        // the EXISTS sees the snapshot before the delete, so it tells a live run (kept) from no run at all.
        var sql = $"""
            WITH d AS (DELETE FROM {_s}.runs WHERE run_id = $1 AND state = ANY($2) RETURNING run_id),
            {DeleteRunChildren()}
            SELECT CASE WHEN EXISTS (SELECT 1 FROM d) THEN 2 WHEN EXISTS (SELECT 1 FROM {_s}.runs WHERE run_id = $1) THEN 1 ELSE 0 END
            """;
        var outcome = await _resilience.ScalarAsync(sql, [Str(runId), Texts(FinalStates)], cancellationToken).ConfigureAwait(false);
        return outcome switch
        {
            2 => RunDeletion.Deleted,
            1 => RunDeletion.NotFinal,
            _ => RunDeletion.NotFound,
        };
    }

    /// <summary>The CTEs deleting the journal, history, inbox, logs and artifacts of the runs CTE <c>d</c> returned (the hook for any new per-run table).</summary>
    private string DeleteRunChildren() => $"""
        j AS (DELETE FROM {_s}.journal_events x USING d WHERE x.run_id = d.run_id),
            t AS (DELETE FROM {_s}.state_transitions x USING d WHERE x.run_id = d.run_id),
            i AS (DELETE FROM {_s}.inbox x USING d WHERE x.run_id = d.run_id),
            l AS (DELETE FROM {_s}.run_logs x USING d WHERE x.run_id = d.run_id),
            a AS (DELETE FROM {_s}.artifacts x USING d WHERE x.run_id = d.run_id)
        """;
}
