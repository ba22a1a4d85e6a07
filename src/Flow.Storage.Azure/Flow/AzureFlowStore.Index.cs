using System.Buffers.Text;
using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Flow.Engine.Runs;
using Flow.Engine.Storage;
using Flow.Sdk;
using RequestFailedException = Azure.RequestFailedException;
using SdkTableEntity = Azure.Data.Tables.TableEntity;
using SdkTableUpdateMode = Azure.Data.Tables.TableUpdateMode;

namespace Flow.Storage.Azure;

/// <summary>
/// Listing through the <c>{prefix}RunIndex</c> table. Consistency model: index rows are written before the run row
/// exists (creation) or alongside the commit that enters a state, and the left state's rows are deleted after that
/// commit; every reader checks each index row against the run row it points to and shows the run only when the
/// row is current (same creation time and, for state partitions, the state and the transition that entered it).
/// Rows proven stale are deleted by the reader (conditional on their ETag); rows of a creation or commit still in
/// flight are skipped and left alone for an hour.
/// </summary>
/// <remarks>
/// Partitions: <c>recent</c> (every run), <c>flow-{name}</c>, <c>state-{State}</c>, and for runs of a deployment
/// <c>deployment-{name}</c> and <c>deployment-{name}~{State}</c>. A query reads the narrowest one: deployment and state,
/// else deployment, else state, else flow, else <c>recent</c>. The creation-time bounds and the continuation token are
/// RowKey bounds; a flow-name filter combined with a state or deployment filter is a property filter within that one
/// partition (bounded by it, never a scan of the table).
/// </remarks>
public sealed partial class AzureFlowStore
{
    private const int ReadParallelism = 16;

    /// <summary>The most index rows one page examines when a tag condition is judged on the run rows.</summary>
    private const int MaxExaminedWithTags = 500;
    private static readonly TimeSpan InFlightGrace = TimeSpan.FromHours(1);

    /// <inheritdoc />
    public async Task<RunPage> ListRunsAsync(RunQuery query, CancellationToken cancellationToken)
    {
        StorageContract.ValidateRunQuery(query);

        var partition = (query.Deployment, query.State) switch
        {
            _ when query.LateCutoff is not null => FlowKeys.DuePartition,
            ({ } deployment, { } state) => FlowKeys.DeploymentStatePartition(deployment, state),
            ({ } deployment, null) => FlowKeys.DeploymentPartition(deployment),
            (null, { } state) => FlowKeys.StatePartition(state),
            _ => query.FlowName is { } flow ? FlowKeys.FlowPartition(flow) : FlowKeys.RecentPartition,
        };
        var clauses = new List<string> { TableFilter.Equal("PartitionKey", partition) };
        if (query.ContinuationToken is { } token)
        {
            clauses.Add(TableFilter.GreaterThan("RowKey", ParseToken(token, partition)));
        }

        if (query.LateCutoff is { } cutoff)
        {
            // scheduled < cutoff  <=>  scheduled <= cutoff - 1 tick  <=>  inverted ticks >= Max - (cutoff - 1 tick)
            clauses.Add(TableFilter.GreaterThanOrEqual("RowKey", Inverted(cutoff.UtcTicks - 1)));
            AddPropertyFilters(clauses, query, flow: true, deployment: true, created: true);
        }
        else
        {
            AddCreationBounds(clauses, query);
            AddPropertyFilters(clauses, query, flow: query.State is not null || query.Deployment is not null, deployment: false, created: false);
        }

        // A tag condition is judged on the run rows (tags are not in the index), so a page examines at most MaxExaminedWithTags
        // index rows and may come back short with a token: bounded work per request, never a scan of the table in one call.
        var examineLimit = query.Tags.Count > 0 ? MaxExaminedWithTags : int.MaxValue;
        var filter = TableFilter.And([.. clauses]);
        var runs = new List<FlowRunRecord>(query.PageSize);
        var stale = new List<SdkTableEntity>();
        string? lastKey = null;
        var more = false;
        var examined = 0;
        await foreach (var page in _index.QueryAsync<SdkTableEntity>(filter, maxPerPage: Math.Min(1000, query.PageSize + 1), cancellationToken: cancellationToken).AsPages().ConfigureAwait(false))
        {
            var rows = page.Values;
            for (var i = 0; i < rows.Count && !more;)
            {
                if (runs.Count == query.PageSize || examined >= examineLimit)
                {
                    more = true;
                    break;
                }

                var window = rows.Skip(i).Take(Math.Min(query.PageSize - runs.Count, examineLimit - examined)).ToList();
                var stored = await ReadRunsAsync(window.Select(r => r.GetString("RunId")).OfType<string>(), cancellationToken).ConfigureAwait(false);
                foreach (var row in window)
                {
                    lastKey = row.RowKey;
                    var run = row.GetString("RunId") is { } id ? stored.GetValueOrDefault(id) : null;
                    switch (Judge(row, run, query))
                    {
                        case Verdict.Show when RunTagFilter.MatchAll(query.Tags, run!.Record.Tags):
                            runs.Add(run.Record);
                            break;
                        case Verdict.Stale:
                            stale.Add(row);
                            break;
                        default:
                            break;
                    }
                }

                i += window.Count;
                examined += window.Count;
            }

            if (more)
            {
                break;
            }
        }

        if (stale.Count > 0)
        {
            await DeleteIndexRowsAsync(null, stale, cancellationToken).ConfigureAwait(false);
        }

        return new RunPage(runs, more ? ToToken(partition, lastKey!) : null);
    }

    /// <summary>The creation-time filters as RowKey bounds of a partition keyed by inverted creation ticks.</summary>
    private static void AddCreationBounds(List<string> clauses, RunQuery query)
    {
        if (query.CreatedBefore is { } before)
        {
            // created < before  <=>  created <= before - 1 tick  <=>  inverted ticks >= Max - (before - 1 tick)
            clauses.Add(TableFilter.GreaterThanOrEqual("RowKey", Inverted(before.UtcTicks - 1)));
        }

        if (query.CreatedFrom is { } from)
        {
            // created >= from  <=>  inverted ticks <= Max - from  <=>  RowKey < (Max - from + 1)
            clauses.Add(TableFilter.LessThan("RowKey", Inverted(from.UtcTicks - 1)));
        }
    }

    /// <summary>Filters on the index rows' properties, within the one partition the query reads (bounded by it).</summary>
    private static void AddPropertyFilters(List<string> clauses, RunQuery query, bool flow, bool deployment, bool created)
    {
        if (flow && query.FlowName is { } flowName)
        {
            clauses.Add(TableFilter.Equal("FlowName", flowName));
        }

        if (deployment && query.Deployment is { } deploymentName)
        {
            clauses.Add(TableFilter.Equal("Deployment", deploymentName));
        }

        if (created && query.CreatedFrom is { } from)
        {
            clauses.Add(TableFilter.GreaterThanOrEqual("CreatedAt", from));
        }

        if (created && query.CreatedBefore is { } before)
        {
            clauses.Add(TableFilter.LessThan("CreatedAt", before));
        }
    }

    /// <summary>A page token: the index partition and the last RowKey examined, as base64url text.</summary>
    private static string ToToken(string partition, string rowKey) => Base64Url.EncodeToString(Encoding.UTF8.GetBytes(partition + "\n" + rowKey));

    private static string ParseToken(string token, string partition)
    {
        try
        {
            var text = Encoding.UTF8.GetString(Base64Url.DecodeFromChars(token));
            var newline = text.IndexOf('\n', StringComparison.Ordinal);
            if (newline > 0 && text.AsSpan(0, newline).SequenceEqual(partition) && IndexRowKey().IsMatch(text[(newline + 1)..]))
            {
                return text[(newline + 1)..];
            }
        }
        catch (FormatException)
        {
        }

        throw new ArgumentException("The continuation token does not come from ListRunsAsync with the same State, Deployment and FlowName filters.", nameof(token));
    }

    private static string Inverted(long ticks) => (DateTimeOffset.MaxValue.UtcTicks - ticks).ToString("D19", CultureInfo.InvariantCulture);

    private static Verdict Judge(SdkTableEntity row, StoredRun? stored, RunQuery query)
    {
        if (stored is null)
        {
            // No run (yet): a creation in flight, or one that failed long ago.
            return IsOld(row) ? Verdict.Stale : Verdict.Skip;
        }

        var run = stored.Record;
        if (query.LateCutoff is { } cutoff)
        {
            return JudgeDue(row, run, cutoff);
        }

        if (!row.RowKey.StartsWith(FlowKeys.IndexRow(run), StringComparison.Ordinal))
        {
            return Verdict.Stale; // written by a creation that lost to the existing run
        }

        if (query.Deployment is { } deployment && !string.Equals(run.Deployment, deployment, StringComparison.Ordinal))
        {
            return Verdict.Stale; // a deployment partition holds only that deployment's runs (names map 1:1 to partitions)
        }

        var flowMatches = query.FlowName is null || string.Equals(run.FlowName, query.FlowName, StringComparison.Ordinal);
        if (query.State is not { } state)
        {
            return flowMatches ? Verdict.Show : Verdict.Skip;
        }

        var enteredAt = row.GetInt32("EnteredAt") ?? 0;
        if (enteredAt == run.TransitionCount)
        {
            if (run.State != state)
            {
                return Verdict.Stale; // left by a commit that failed
            }

            return flowMatches ? Verdict.Show : Verdict.Skip;
        }

        if (enteredAt < run.TransitionCount)
        {
            return Verdict.Stale; // the run has left the state since
        }

        // Written for a commit still in flight (or one that failed): not current yet.
        return IsOld(row) ? Verdict.Stale : Verdict.Skip;
    }

    /// <summary>A <c>due</c> row is current while the run is still in the state whose entry wrote it; it shows when the run is Late.</summary>
    private static Verdict JudgeDue(SdkTableEntity row, FlowRunRecord run, DateTimeOffset cutoff)
    {
        if (!row.RowKey.StartsWith(FlowKeys.DueIndexPrefix(run) + "-", StringComparison.Ordinal))
        {
            return Verdict.Stale; // written by a creation that lost to the existing run
        }

        var enteredAt = row.GetInt32("EnteredAt") ?? 0;
        if (enteredAt == run.TransitionCount)
        {
            return !LateRuns.IsCandidate(run) ? Verdict.Stale : LateRuns.IsLateAsOf(run, cutoff) ? Verdict.Show : Verdict.Skip;
        }

        return enteredAt < run.TransitionCount || IsOld(row) ? Verdict.Stale : Verdict.Skip;
    }

    /// <summary>Whether the service wrote the row over an hour ago. Compares with the service's own Timestamp, so it reads the real clock, not an injected one.</summary>
    private static bool IsOld(SdkTableEntity row) => row.Timestamp is { } written && TimeProvider.System.GetUtcNow() - written > InFlightGrace;

    private async Task<ConcurrentDictionary<string, StoredRun?>> ReadRunsAsync(IEnumerable<string> runIds, CancellationToken cancellationToken)
    {
        var result = new ConcurrentDictionary<string, StoredRun?>(StringComparer.Ordinal);
        var options = new ParallelOptions { MaxDegreeOfParallelism = ReadParallelism, CancellationToken = cancellationToken };
        await Parallel.ForEachAsync(runIds.Distinct(StringComparer.Ordinal), options, async (id, ct) =>
        {
            result[id] = await GetRunAsync(id, ct).ConfigureAwait(false);
        }).ConfigureAwait(false);
        return result;
    }

    private static List<SdkTableEntity> CreationIndexRows(FlowRunRecord run)
    {
        List<SdkTableEntity> rows =
        [
            IndexRow(FlowKeys.RecentPartition, FlowKeys.IndexRow(run), run, null),
            IndexRow(FlowKeys.FlowPartition(run.FlowName), FlowKeys.IndexRow(run), run, null),
        ];
        if (run.Deployment is { } deployment)
        {
            rows.Add(IndexRow(FlowKeys.DeploymentPartition(deployment), FlowKeys.IndexRow(run), run, null));
        }

        rows.AddRange(StateIndexRows(run, run.State, run.TransitionCount, LateRuns.IsCandidate(run)).Select(key => IndexRow(key.PartitionKey, key.RowKey, run, run.TransitionCount)));
        return rows;
    }

    /// <summary>
    /// The keys of a run's rows in the partitions of one state: <c>state-{State}</c>, <c>deployment-{name}~{State}</c> for a run of a
    /// deployment, and the <c>due</c> row when <paramref name="due"/> (the run can become Late in that state).
    /// </summary>
    private static IEnumerable<(string PartitionKey, string RowKey)> StateIndexRows(FlowRunRecord run, RunState state, int enteredAt, bool due)
    {
        var rowKey = FlowKeys.StateIndexRow(run, enteredAt);
        yield return (FlowKeys.StatePartition(state), rowKey);
        if (run.Deployment is { } deployment)
        {
            yield return (FlowKeys.DeploymentStatePartition(deployment, state), rowKey);
        }

        if (due)
        {
            yield return (FlowKeys.DuePartition, FlowKeys.DueIndexRow(run, enteredAt));
        }
    }

    private static SdkTableEntity IndexRow(string partition, string rowKey, FlowRunRecord run, int? enteredAt)
    {
        var row = new SdkTableEntity(partition, rowKey)
        {
            ["RunId"] = run.RunId,
            ["FlowName"] = run.FlowName,
        };
        if (run.Deployment is { } deployment)
        {
            row["Deployment"] = deployment;
        }

        FlowEntities.SetTime(row, "CreatedAt", run.CreatedAt);
        if (enteredAt is { } entered)
        {
            row["State"] = run.State.ToString();
            row["EnteredAt"] = entered;
            FlowEntities.SetTime(row, "StateTime", run.StateTime);
        }

        return row;
    }

    /// <summary>The index rows a commit that records transitions changes: the new state's rows, and the left state's rows (if any).</summary>
    private static IndexChange? StateIndexChange(RunCommit commit)
    {
        if (commit.Transitions.Count == 0)
        {
            return null;
        }

        var run = commit.Run;
        var newRows = StateIndexRows(run, run.State, run.TransitionCount, LateRuns.IsCandidate(run)).Select(key => IndexRow(key.PartitionKey, key.RowKey, run, run.TransitionCount)).ToList();
        var enteredOld = run.TransitionCount - commit.Transitions.Count;
        var oldRows = commit.Transitions[0].From is { } left && enteredOld >= 1
            ? StateIndexRows(run, left, enteredOld, LateRuns.CanBeLate(left)).Select(key => new SdkTableEntity(key.PartitionKey, key.RowKey)).ToList()
            : [];
        return new IndexChange(newRows, oldRows);
    }

    private async Task<bool> WriteIndexRowAsync(string runId, SdkTableEntity row, CancellationToken cancellationToken)
    {
        try
        {
            await _index.UpsertEntityAsync(row, SdkTableUpdateMode.Replace, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (RequestFailedException e)
        {
            FlowStorageLog.IndexWriteFailed(_logger, runId, row.PartitionKey, row.RowKey, e);
            return false;
        }
    }

    /// <summary>Deletes index rows, each only if unchanged since read (when it carries an ETag); best-effort.</summary>
    private async Task DeleteIndexRowsAsync(string? runId, IEnumerable<SdkTableEntity> rows, CancellationToken cancellationToken)
    {
        await Task.WhenAll(rows.Select(async row =>
        {
            var id = runId ?? row.GetString("RunId") ?? "?";
            try
            {
                if ((await _index.DeleteEntityAsync(row.PartitionKey, row.RowKey, row.ETag, cancellationToken).ConfigureAwait(false)).Status != 404 && runId is null)
                {
                    FlowStorageLog.StaleIndexRowRemoved(_logger, id, row.PartitionKey, row.RowKey);
                }
            }
            catch (RequestFailedException e)
            {
                FlowStorageLog.IndexDeleteFailed(_logger, id, row.PartitionKey, row.RowKey, e);
            }
        })).ConfigureAwait(false);
    }

    [GeneratedRegex(@"^[0-9]{19}-[A-Za-z0-9_.-]{1,107}\z", RegexOptions.CultureInvariant)]
    private static partial Regex IndexRowKey();

    private readonly record struct IndexChange(IReadOnlyList<SdkTableEntity> NewRows, IReadOnlyList<SdkTableEntity> OldRows);

    private enum Verdict
    {
        Show,
        Skip,
        Stale,
    }
}
