namespace Flow.Engine.Storage;

/// <summary>
/// Deleting finished runs with everything stored for them (record, journal, state history, inbox, logs, artifacts, index
/// entries, payload blobs): the one path that retention and the purge API (<c>DELETE /api/runs/{id}</c>,
/// <c>DELETE /api/runs?finishedBefore=</c>) share. A run that is not in a final state is never deleted. Implemented by
/// every flow store next to <see cref="IFlowStore"/>; the conformance suite checks it.
/// </summary>
public interface IRunRetention
{
    /// <summary>The most runs one <see cref="DeleteFinishedRunsAsync"/> call may be asked to delete.</summary>
    const int MaxBatchSize = 100_000;

    /// <summary>Deletes one run if it is in a final state.</summary>
    /// <param name="runId">The run id.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>What happened: deleted, no such run, or the run is live (pending, scheduled, running, paused…) and was kept.</returns>
    Task<RunDeletion> DeleteRunAsync(string runId, CancellationToken cancellationToken);

    /// <summary>
    /// Deletes up to <paramref name="maxRuns"/> runs in a final state whose <see cref="FlowRunRecord.EndedAt"/> is before
    /// <paramref name="endedBefore"/> (a run without an end time is kept), oldest first where the store can tell. Call again
    /// while it returns <paramref name="maxRuns"/>.
    /// </summary>
    /// <param name="endedBefore">The cutoff (exclusive).</param>
    /// <param name="maxRuns">At most this many runs, 1 to <see cref="MaxBatchSize"/> (else <see cref="ArgumentOutOfRangeException"/>).</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>How many runs were deleted.</returns>
    Task<int> DeleteFinishedRunsAsync(DateTimeOffset endedBefore, int maxRuns, CancellationToken cancellationToken);
}
