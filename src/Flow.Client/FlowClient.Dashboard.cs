namespace Flow.Client;

/// <summary>What the dashboard reads beyond the rest (usable by any client): timelines, journals, stats, pool load.</summary>
public sealed partial class FlowClient
{
    /// <summary>Reads a run's timeline in one request (<c>GET /api/runs/{id}/timeline</c>): task runs with attempts, retry waits, cache hits, subflows.</summary>
    /// <param name="runId">The run id.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The timeline.</returns>
    public Task<RunTimelineView> GetRunTimelineAsync(string runId, CancellationToken cancellationToken) =>
        SendAsync<RunTimelineView>(HttpMethod.Get, RunPath(runId) + "/timeline", null, cancellationToken);

    /// <summary>Reads one page of a run's journal, the current attempt's events in order (<c>GET /api/runs/{id}/journal</c>).</summary>
    /// <param name="runId">The run id.</param>
    /// <param name="from">The first journal index (1 or more); null for 1.</param>
    /// <param name="pageSize">Events per page, 1-1000; null for the API's default (500).</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The page; <see cref="RunJournalView.Next"/> is the next page's <paramref name="from"/>.</returns>
    public Task<RunJournalView> GetRunJournalAsync(string runId, int? from, int? pageSize, CancellationToken cancellationToken) =>
        SendAsync<RunJournalView>(HttpMethod.Get, RunPath(runId) + "/journal" + Query(("from", Number(from)), ("pageSize", Number(pageSize))), null, cancellationToken);

    /// <summary>Counts runs by state in time buckets by creation time (<c>GET /api/runs/stats</c>), Late as its own state.</summary>
    /// <param name="from">The window's start; null for 24 hours before <paramref name="to"/>.</param>
    /// <param name="to">The window's end; null for now.</param>
    /// <param name="bucketMinutes">The bucket width, 1-10080 minutes; null to choose by the window (1 h up to a day, 6 h up to a week, else a day).</param>
    /// <param name="deployment">Only runs of this deployment (<c>flow/name</c>); null for all.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The counts.</returns>
    public Task<RunStatsView> GetRunStatsAsync(DateTimeOffset? from, DateTimeOffset? to, int? bucketMinutes, string? deployment, CancellationToken cancellationToken) =>
        SendAsync<RunStatsView>(
            HttpMethod.Get,
            "runs/stats" + Query(("from", Time(from)), ("to", Time(to)), ("bucketMinutes", Number(bucketMinutes)), ("deployment", deployment)),
            null,
            cancellationToken);

    /// <summary>Reads every work pool with its load (<c>GET /api/work-pools/status</c>): slots in use, queue depth, paused runs.</summary>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The pools.</returns>
    public Task<IReadOnlyList<PoolStatusView>> GetWorkPoolStatusAsync(CancellationToken cancellationToken) =>
        SendAsync<IReadOnlyList<PoolStatusView>>(HttpMethod.Get, "work-pools/status", null, cancellationToken);
}
