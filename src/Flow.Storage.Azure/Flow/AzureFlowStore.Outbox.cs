using System.Threading.Channels;
using Flow.Engine.Events;
using Flow.Engine.Storage;
using Flow.Sdk;
using RequestFailedException = Azure.RequestFailedException;
using SdkTableEntity = Azure.Data.Tables.TableEntity;
using SdkTableTransactionAction = Azure.Data.Tables.TableTransactionAction;
using SdkTableTransactionActionType = Azure.Data.Tables.TableTransactionActionType;

namespace Flow.Storage.Azure;

/// <summary>
/// The outbox (docs/events.md). A transition row is its own outbox entry: the commit that writes it (one entity group
/// transaction, as before) also stores its event as JSON (<c>Event</c>) with <c>EventPending = true</c>, so the commit costs
/// no extra operation and no extra request, and a commit that fails writes no event. The relay copies pending events of a run
/// to <see cref="AzureEventStore"/> (idempotent by event id) and then sets <c>EventPending = false</c> on those rows.
/// </summary>
/// <remarks>
/// <para>The relay runs right after each such commit, in the background (<see cref="AzureFlowStorageOptions.RelayAfterCommit"/>),
/// and in a sweep (<see cref="RelayPendingAsync"/>, every <see cref="AzureFlowStorageOptions.OutboxSweepInterval"/> by
/// <see cref="AzureOutboxRelayService"/>) that finds what a process that died after its commit left behind.</para>
/// <para>The sweep finds runs through outbox markers: a row <c>outbox/{runId}</c> in the events table, written when the run is
/// created (beside its index rows, before the run exists) and deleted by the relay once the run is final with nothing
/// pending — a final run gets no more transitions. A sweep reads each marked run's transition rows: one query per run not yet
/// final.</para>
/// </remarks>
public sealed partial class AzureFlowStore
{
    private const string EventProperty = "Event";
    private const string PendingProperty = "EventPending";
    private const int RelayParallelism = 8;

    private readonly Channel<string> _relayRequests = Channel.CreateUnbounded<string>(new UnboundedChannelOptions { SingleReader = true });
    private int _relayLoopStarted;

    /// <summary>The event store the outbox relays to.</summary>
    public AzureEventStore Events => _events;

    /// <summary>
    /// Relays the pending events of every run with an outbox marker, and removes the markers of final runs with none left.
    /// Safe to run anywhere and concurrently (the relay is idempotent by event id).
    /// </summary>
    /// <param name="cancellationToken">Cancels the sweep.</param>
    /// <returns>The number of events relayed.</returns>
    public async Task<int> RelayPendingAsync(CancellationToken cancellationToken)
    {
        var markers = new List<(string RunId, DateTimeOffset? WrittenAt)>();
        await foreach (var row in _events.Table.QueryAsync<SdkTableEntity>(TableFilter.Equal("PartitionKey", AzureEventKeys.OutboxPartition), cancellationToken: cancellationToken).ConfigureAwait(false))
        {
            markers.Add((row.RowKey, row.Timestamp));
        }

        var relayed = 0;
        await Parallel.ForEachAsync(markers, new ParallelOptions { MaxDegreeOfParallelism = RelayParallelism, CancellationToken = cancellationToken }, async (marker, ct) =>
        {
            var runId = marker.RunId;
            try
            {
                Interlocked.Add(ref relayed, await RelayRunAsync(runId, marker.WrittenAt, ct).ConfigureAwait(false));
            }
            catch (RequestFailedException e)
            {
                FlowStorageLog.OutboxRelayFailed(_logger, runId, e);
            }
        }).ConfigureAwait(false);
        return relayed;
    }

    /// <summary>Relays the pending events of one run; removes its outbox marker when it is final and nothing is pending.</summary>
    /// <param name="runId">The run.</param>
    /// <param name="cancellationToken">Cancels the relay.</param>
    /// <returns>The number of events relayed.</returns>
    public Task<int> RelayRunAsync(string runId, CancellationToken cancellationToken) => RelayRunAsync(runId, null, cancellationToken);

    /// <summary>Relays one run; <paramref name="markerWrittenAt"/> (the marker's service time, from a sweep) lets it remove the marker of
    /// a creation that failed long ago. A marker of a run that does not exist yet is otherwise kept: its creation may be in flight.</summary>
    private async Task<int> RelayRunAsync(string runId, DateTimeOffset? markerWrittenAt, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(runId);
        if (!FlowKeys.IsValidRunId(runId))
        {
            return 0;
        }

        var filter = TableFilter.And(
            TableFilter.Equal("PartitionKey", runId),
            TableFilter.Or(
                TableFilter.Equal("RowKey", FlowKeys.RunRow),
                TableFilter.And(TableFilter.GreaterThanOrEqual("RowKey", FlowKeys.TransitionPrefix), TableFilter.LessThan("RowKey", Successor(FlowKeys.TransitionPrefix)))));
        var (rows, chunks) = await QueryPartitionAsync(_runs, filter, cancellationToken).ConfigureAwait(false);
        var runRow = rows.FirstOrDefault(r => r.RowKey == FlowKeys.RunRow);
        var pending = rows.Where(r => r.RowKey != FlowKeys.RunRow && r.GetBoolean(PendingProperty) == true).OrderBy(r => r.RowKey, StringComparer.Ordinal).ToList();
        if (pending.Count > 0)
        {
            await LargeText.ResolveAsync(_runs, pending, chunks, _known, cancellationToken).ConfigureAwait(false);
            var events = pending.Select(r => r.GetString(EventProperty)).OfType<string>().Select(json => (EventJson.Deserialize(json), json)).ToList();
            await _events.WriteAsync(events, cancellationToken).ConfigureAwait(false);
            foreach (var batch in pending.Chunk(100))
            {
                await _runs.SubmitTransactionAsync(
                    batch.Select(r => new SdkTableTransactionAction(SdkTableTransactionActionType.UpdateMerge, new SdkTableEntity(runId, r.RowKey) { [PendingProperty] = false }, global::Azure.ETag.All)),
                    cancellationToken).ConfigureAwait(false);
            }
        }

        var final = runRow is not null && Enum.TryParse<RunState>(runRow.GetString("State"), out var state) && state.IsFinal();
        var abandoned = runRow is null && pending.Count == 0 && markerWrittenAt is { } written && TimeProvider.System.GetUtcNow() - written > InFlightGrace;
        if (final || abandoned)
        {
            await _events.Table.DeleteEntityAsync(AzureEventKeys.OutboxPartition, runId, cancellationToken: cancellationToken).ConfigureAwait(false);
        }

        return pending.Count;
    }

    /// <summary>The outbox marker row of a run (written at creation).</summary>
    private static SdkTableEntity OutboxMarker(string runId) => new(AzureEventKeys.OutboxPartition, runId);

    /// <summary>Stores the event of <paramref name="transition"/> on its row, pending.</summary>
    private static void AddOutboxEvent(SdkTableEntity transitionRow, FlowRunRecord run, StateTransition transition, TextPlan plan)
    {
        plan.Text(transitionRow, EventProperty, EventJson.Serialize(RunEvents.For(run, transition)));
        transitionRow[PendingProperty] = true;
    }

    /// <summary>Asks the background relay to relay a run's events now (when <see cref="AzureFlowStorageOptions.RelayAfterCommit"/>).</summary>
    private void RequestRelay(string runId)
    {
        if (!_options.RelayAfterCommit)
        {
            return;
        }

        _relayRequests.Writer.TryWrite(runId);
        if (Interlocked.Exchange(ref _relayLoopStarted, 1) == 0)
        {
            _ = Task.Run(RelayLoopAsync);
        }
    }

    private async Task RelayLoopAsync()
    {
        var reader = _relayRequests.Reader;
        while (await reader.WaitToReadAsync().ConfigureAwait(false))
        {
            var runIds = new HashSet<string>(StringComparer.Ordinal);
            while (reader.TryRead(out var runId))
            {
                runIds.Add(runId);
            }

            await Parallel.ForEachAsync(runIds, new ParallelOptions { MaxDegreeOfParallelism = RelayParallelism }, async (runId, ct) =>
            {
                try
                {
                    await RelayRunAsync(runId, ct).ConfigureAwait(false);
                }
                catch (Exception e) when (e is RequestFailedException or FlowStoreException or System.Text.Json.JsonException)
                {
                    FlowStorageLog.OutboxRelayFailed(_logger, runId, e);
                }
            }).ConfigureAwait(false);
        }
    }
}
