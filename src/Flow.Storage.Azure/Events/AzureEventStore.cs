using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using Flow.Engine.Events;
using Flow.Engine.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using ETag = Azure.ETag;
using RequestFailedException = Azure.RequestFailedException;
using SdkTableClient = Azure.Data.Tables.TableClient;
using SdkTableEntity = Azure.Data.Tables.TableEntity;
using SdkTableServiceClient = Azure.Data.Tables.TableServiceClient;
using SdkTableTransactionAction = Azure.Data.Tables.TableTransactionAction;
using SdkTableTransactionActionType = Azure.Data.Tables.TableTransactionActionType;
using SdkTableUpdateMode = Azure.Data.Tables.TableUpdateMode;

namespace Flow.Storage.Azure;

/// <summary>
/// The event store on Azure Table storage (docs/events.md), in the table <c>{prefix}Events</c>. Run events reach it through
/// the outbox of <see cref="AzureFlowStore"/> (the relay); other events through <see cref="AppendAsync"/>.
/// </summary>
/// <remarks>
/// <para><b>Lists</b>: one partition per day of <see cref="FlowEvent.OccurredAt"/> (<c>d-yyyyMMdd</c>, listed in the <c>days</c>
/// partition), each holding views as RowKey ranges with the event denormalized in every row: <c>a~{inverted ticks}~{id}</c>
/// (all), <c>r~{resource}~…</c> (one per own and related resource) and <c>k~{kind family}~…</c> (the kind up to its first
/// dot). A query walks the days newest first and reads one view by range, bounded by the time range: a resource filter reads
/// its resource view, a kind prefix with a dot its family's view, anything else the <c>a~</c> view (a kind prefix without a dot
/// filters it). Nothing scans the table; a query without <see cref="EventQuery.Since"/> walks every day that holds events.</para>
/// <para><b>The feed</b>: positions handed out by the head row <c>feed/head</c> (an ETag-checked counter), one row per
/// position in partitions of 1,000 (<c>f-{position/1000}</c>), written with insert-if-absent. A reader stops at the first
/// position not written yet, so a slow writer never makes it skip; a position left empty for
/// <see cref="FeedGapTimeout"/> (its writer died) is closed with a tombstone by the reader, again insert-if-absent: if the
/// writer was only slow, its insert then fails and it writes the events at new positions. Clocks decide only how soon a gap
/// is closed, never whether an event is seen.</para>
/// <para><b>Ids</b>: an id row per event (256 partitions by hash), read before writing and written last; an event whose id
/// row exists is skipped. Two writers of one id at the same moment may both write it (the feed is at least once).</para>
/// </remarks>
public sealed partial class AzureEventStore : IEventStore
{
    /// <summary>How long a feed position may stay unwritten before a reader closes it: 15 seconds.</summary>
    public static TimeSpan FeedGapTimeout { get; } = TimeSpan.FromSeconds(15);

    private const int JsonPartChars = 30_000;
    private const int MaxJsonParts = 8;
    private const int MaxFeedRead = 1000;
    private const long BatchBudgetBytes = 3_000_000;
    private const string TokenPrefix = "azev1.";

    private readonly SdkTableClient _table;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<string, bool> _knownDays = new(StringComparer.Ordinal);

    /// <summary>Creates the store.</summary>
    /// <param name="tables">The account's Table service.</param>
    /// <param name="options">Table names; null for the defaults.</param>
    /// <param name="logger">Where relay problems are logged; null for none.</param>
    public AzureEventStore(SdkTableServiceClient tables, AzureFlowStorageOptions? options = null, ILogger<AzureEventStore>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(tables);
        options ??= new AzureFlowStorageOptions();
        options.Validate();
        _table = tables.GetTableClient(options.EventsTable);
        _logger = (ILogger?)logger ?? NullLogger.Instance;
    }

    /// <summary>The events table.</summary>
    public SdkTableClient Table => _table;

    /// <inheritdoc />
    public async Task InitializeAsync(CancellationToken cancellationToken) =>
        await _table.CreateIfNotExistsAsync(cancellationToken).ConfigureAwait(false);

    /// <inheritdoc />
    public Task AppendAsync(IReadOnlyList<FlowEvent> events, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(events);
        var bodies = new List<(FlowEvent Event, string Json)>(events.Count);
        for (var i = 0; i < events.Count; i++)
        {
            EventRules.Validate(events[i], $"events[{i}]");
            var normalized = events[i] with { OccurredAt = StorageContract.NormalizeTime(events[i].OccurredAt) };
            var json = EventJson.Serialize(normalized);
            if (json.Length > JsonPartChars * MaxJsonParts)
            {
                throw new ArgumentException($"is {json.Length:N0} characters as JSON; this store keeps events up to {JsonPartChars * MaxJsonParts:N0}", $"events[{i}]");
            }

            bodies.Add((normalized, json));
        }

        return WriteAsync(bodies, cancellationToken);
    }

    /// <inheritdoc />
    public async Task<EventPage> ListAsync(EventQuery query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        ArgumentOutOfRangeException.ThrowIfLessThan(query.PageSize, 1, nameof(query));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(query.PageSize, EventQuery.MaxPageSize, nameof(query));
        var (afterDay, afterRow) = query.ContinuationToken is { } token ? ParseToken(token) : (null, null);
        var view = query.ResourceId is { } resource
            ? AzureEventKeys.ResourceView(resource)
            : query.KindPrefix is { } kind && kind.Contains('.', StringComparison.Ordinal) ? AzureEventKeys.KindView(AzureEventKeys.Family(kind)) : AzureEventKeys.AllView;
        var days = await DaysAsync(query.Since, query.Until, cancellationToken).ConfigureAwait(false);
        var page = new List<FlowEvent>(query.PageSize);
        string? lastDay = null;
        string? lastRow = null;
        foreach (var day in days)
        {
            if (afterDay is not null && string.CompareOrdinal(day, afterDay) > 0)
            {
                continue; // newer than the page we continue from
            }

            var clauses = new List<string>
            {
                TableFilter.Equal("PartitionKey", "d-" + day),
                TableFilter.GreaterThanOrEqual("RowKey", query.Until is { } until ? view + FlowKeys.InvertedTicks(until.AddTicks(-1)) : view),
                TableFilter.LessThan("RowKey", query.Since is { } since ? view + FlowKeys.InvertedTicks(since.AddTicks(-1)) : view[..^1] + "\u007f"),
            };
            if (afterDay == day && afterRow is not null)
            {
                clauses.Add(TableFilter.GreaterThan("RowKey", afterRow));
            }

            await foreach (var row in _table.QueryAsync<SdkTableEntity>(TableFilter.And([.. clauses]), maxPerPage: Math.Min(1000, query.PageSize + 1), cancellationToken: cancellationToken).ConfigureAwait(false))
            {
                var flowEvent = ReadJson(row);
                if (query.KindPrefix is { } prefix && !flowEvent.Kind.StartsWith(prefix, StringComparison.Ordinal))
                {
                    continue;
                }

                if (page.Count == query.PageSize)
                {
                    return new EventPage(page, ToToken(lastDay!, lastRow!));
                }

                page.Add(flowEvent);
                lastDay = day;
                lastRow = row.RowKey;
            }
        }

        return new EventPage(page, null);
    }

    /// <inheritdoc />
    public async Task<EventFeedPage> ReadFeedAsync(string? cursor, int maxCount, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxCount, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(maxCount, MaxFeedRead);
        var position = 0L;
        if (cursor is not null && (!long.TryParse(cursor, NumberStyles.None, CultureInfo.InvariantCulture, out position) || position < 0))
        {
            throw new ArgumentException($"'{cursor}' is not an event feed cursor of this store", nameof(cursor));
        }

        var events = new List<FlowEvent>();
        var next = position;
        while (events.Count < maxCount)
        {
            var partition = AzureEventKeys.FeedPartition(next);
            var end = Math.Min(((next / AzureEventKeys.FeedRowsPerPartition) + 1) * AzureEventKeys.FeedRowsPerPartition, next + maxCount - events.Count);
            var filter = TableFilter.And(
                TableFilter.Equal("PartitionKey", partition),
                TableFilter.GreaterThanOrEqual("RowKey", AzureEventKeys.FeedRow(next)),
                TableFilter.LessThan("RowKey", AzureEventKeys.FeedRow(end)));
            var gap = false;
            DateTimeOffset? newestAfterGap = null;
            await foreach (var row in _table.QueryAsync<SdkTableEntity>(filter, cancellationToken: cancellationToken).ConfigureAwait(false))
            {
                var at = long.Parse(row.RowKey, NumberStyles.None, CultureInfo.InvariantCulture);
                if (gap || at != next)
                {
                    gap = true;
                    newestAfterGap ??= row.Timestamp;
                    continue;
                }

                if (row.GetBoolean("Skipped") != true)
                {
                    events.Add(ReadJson(row));
                }

                next++;
            }

            if (!gap && next == end && next % AzureEventKeys.FeedRowsPerPartition == 0 && events.Count < maxCount)
            {
                continue; // read on in the next partition
            }

            if (next == end)
            {
                break;
            }

            // Position `next` is not written. Close it if its writer has had FeedGapTimeout to write it (or, below the floor,
            // retention deleted it: go on at the floor).
            if (await CloseGapIfStaleAsync(next, newestAfterGap, cancellationToken).ConfigureAwait(false) is not { } resume)
            {
                break;
            }

            next = resume;
        }

        return new EventFeedPage(events, next.ToString(CultureInfo.InvariantCulture));
    }

    /// <inheritdoc />
    public async Task<string> GetFeedEndAsync(CancellationToken cancellationToken)
    {
        var (head, _) = await ReadHeadAsync(cancellationToken).ConfigureAwait(false);

        // Positions handed out but not written yet reach the feed later: the end is the first of them (looked for among the
        // last 1,000 positions).
        var from = Math.Max(0, head - AzureEventKeys.FeedRowsPerPartition);
        var written = new HashSet<long>();
        foreach (var partition in new[] { AzureEventKeys.FeedPartition(from), AzureEventKeys.FeedPartition(Math.Max(0, head - 1)) }.Distinct(StringComparer.Ordinal))
        {
            var filter = TableFilter.And(
                TableFilter.Equal("PartitionKey", partition),
                TableFilter.GreaterThanOrEqual("RowKey", AzureEventKeys.FeedRow(from)),
                TableFilter.LessThan("RowKey", AzureEventKeys.FeedRow(head)));
            await foreach (var row in _table.QueryAsync<SdkTableEntity>(filter, select: ["RowKey"], cancellationToken: cancellationToken).ConfigureAwait(false))
            {
                written.Add(long.Parse(row.RowKey, NumberStyles.None, CultureInfo.InvariantCulture));
            }
        }

        for (var p = from; p < head; p++)
        {
            if (!written.Contains(p))
            {
                return p.ToString(CultureInfo.InvariantCulture);
            }
        }

        return head.ToString(CultureInfo.InvariantCulture);
    }

    /// <summary>
    /// Stores events (already valid and normalized) unless their ids are stored: feed rows first, then the list rows, then the
    /// id rows, so an event whose id row exists is complete everywhere. Used by <see cref="AppendAsync"/> and the outbox relay.
    /// </summary>
    internal async Task WriteAsync(IReadOnlyList<(FlowEvent Event, string Json)> events, CancellationToken cancellationToken)
    {
        if (events.Count == 0)
        {
            return;
        }

        var fresh = new List<(FlowEvent Event, string Json)>(events.Count);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var exists = await Task.WhenAll(events.Select(e => IdExistsAsync(e.Event.Id, cancellationToken))).ConfigureAwait(false);
        for (var i = 0; i < events.Count; i++)
        {
            if (!exists[i] && seen.Add(events[i].Event.Id))
            {
                fresh.Add(events[i]);
            }
        }

        if (fresh.Count == 0)
        {
            return;
        }

        await WriteFeedAsync(fresh, cancellationToken).ConfigureAwait(false);
        await WriteListRowsAsync(fresh, cancellationToken).ConfigureAwait(false);
        await Task.WhenAll(fresh.Select(e =>
        {
            var (partition, row) = AzureEventKeys.IdRow(e.Event.Id);
            return _table.UpsertEntityAsync(new SdkTableEntity(partition, row) { ["Id"] = e.Event.Id }, SdkTableUpdateMode.Replace, cancellationToken);
        })).ConfigureAwait(false);
    }

    /// <summary>The JSON of an event, split over properties <c>Event</c>, <c>Event1</c>, … of at most 30,000 characters.</summary>
    internal static void WriteJson(SdkTableEntity row, string json)
    {
        for (var part = 0; part * JsonPartChars < json.Length; part++)
        {
            row[part == 0 ? "Event" : "Event" + part.ToString(CultureInfo.InvariantCulture)] = json.Substring(part * JsonPartChars, Math.Min(JsonPartChars, json.Length - (part * JsonPartChars)));
        }
    }

    private static FlowEvent ReadJson(SdkTableEntity row) => EventJson.Deserialize(ReadJsonText(row));

    /// <summary>The JSON of an event written by <see cref="WriteJson"/>.</summary>
    internal static string ReadJsonText(SdkTableEntity row)
    {
        var json = new StringBuilder(row.GetString("Event"));
        for (var part = 1; row.GetString("Event" + part.ToString(CultureInfo.InvariantCulture)) is { } more; part++)
        {
            json.Append(more);
        }

        return json.ToString();
    }

    private async Task<bool> IdExistsAsync(string id, CancellationToken cancellationToken)
    {
        var (partition, row) = AzureEventKeys.IdRow(id);
        var response = await _table.GetEntityIfExistsAsync<SdkTableEntity>(partition, row, select: ["Id"], cancellationToken: cancellationToken).ConfigureAwait(false);
        return response.HasValue;
    }

    private async Task WriteFeedAsync(List<(FlowEvent Event, string Json)> events, CancellationToken cancellationToken)
    {
        var pending = events;
        while (pending.Count > 0)
        {
            var first = await ReserveAsync(pending.Count, cancellationToken).ConfigureAwait(false);
            var retry = new List<(FlowEvent Event, string Json)>();
            var groups = pending.Select((e, i) => (e, Position: first + i)).GroupBy(x => AzureEventKeys.FeedPartition(x.Position));
            foreach (var group in groups)
            {
                foreach (var batch in Batches(group.Select(x =>
                {
                    var row = new SdkTableEntity(group.Key, AzureEventKeys.FeedRow(x.Position)) { ["Id"] = x.e.Event.Id };
                    WriteJson(row, x.e.Json);
                    return (Row: row, Item: x.e);
                })))
                {
                    try
                    {
                        await _table.SubmitTransactionAsync(batch.Select(b => new SdkTableTransactionAction(SdkTableTransactionActionType.Add, b.Row)), cancellationToken).ConfigureAwait(false);
                    }
                    catch (RequestFailedException e) when (e.Status == 409)
                    {
                        // A reader closed one of these positions (we were slower than FeedGapTimeout): write them again further on.
                        FlowStorageLog.FeedPositionsClosed(_logger, batch.Count, e);
                        retry.AddRange(batch.Select(b => b.Item));
                    }
                }
            }

            pending = retry;
        }
    }

    private async Task WriteListRowsAsync(List<(FlowEvent Event, string Json)> events, CancellationToken cancellationToken)
    {
        foreach (var day in events.GroupBy(e => AzureEventKeys.Day(e.Event.OccurredAt)))
        {
            if (!_knownDays.ContainsKey(day.Key))
            {
                await _table.UpsertEntityAsync(new SdkTableEntity(AzureEventKeys.DaysPartition, day.Key), SdkTableUpdateMode.Replace, cancellationToken).ConfigureAwait(false);
                _knownDays[day.Key] = true;
            }

            var partition = "d-" + day.Key;
            var rows = day.SelectMany(e => Views(e.Event).Distinct(StringComparer.Ordinal).Select(view =>
            {
                var row = new SdkTableEntity(partition, AzureEventKeys.ViewRow(view, e.Event.OccurredAt, e.Event.Id)) { ["Kind"] = e.Event.Kind };
                WriteJson(row, e.Json);
                return (Row: row, Item: e);
            }));
            foreach (var batch in Batches(rows))
            {
                await _table.SubmitTransactionAsync(batch.Select(b => new SdkTableTransactionAction(SdkTableTransactionActionType.UpsertReplace, b.Row)), cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private static IEnumerable<string> Views(FlowEvent flowEvent)
    {
        yield return AzureEventKeys.AllView;
        yield return AzureEventKeys.KindView(AzureEventKeys.Family(flowEvent.Kind));
        yield return AzureEventKeys.ResourceView(flowEvent.Resource.Id);
        foreach (var related in flowEvent.Related)
        {
            yield return AzureEventKeys.ResourceView(related.Id);
        }
    }

    /// <summary>Groups rows into transactions of at most 100 operations and about 3 MB.</summary>
    private static IEnumerable<List<(SdkTableEntity Row, T Item)>> Batches<T>(IEnumerable<(SdkTableEntity Row, T Item)> rows)
    {
        var batch = new List<(SdkTableEntity Row, T Item)>();
        long bytes = 0;
        foreach (var row in rows)
        {
            var size = 1024 + (2L * row.Row.Select(p => p.Value).OfType<string>().Sum(s => (long)s.Length));
            if (batch.Count > 0 && (batch.Count == 100 || bytes + size > BatchBudgetBytes))
            {
                yield return batch;
                batch = [];
                bytes = 0;
            }

            batch.Add(row);
            bytes += size;
        }

        if (batch.Count > 0)
        {
            yield return batch;
        }
    }

    /// <summary>Hands out <paramref name="count"/> consecutive feed positions; returns the first.</summary>
    private async Task<long> ReserveAsync(int count, CancellationToken cancellationToken)
    {
        while (true)
        {
            var (next, etag) = await ReadHeadAsync(cancellationToken).ConfigureAwait(false);
            var row = new SdkTableEntity(AzureEventKeys.HeadPartition, AzureEventKeys.HeadRow) { ["Next"] = next + count };
            try
            {
                if (etag is { } match)
                {
                    await _table.UpdateEntityAsync(row, match, SdkTableUpdateMode.Replace, cancellationToken).ConfigureAwait(false);
                }
                else
                {
                    await _table.AddEntityAsync(row, cancellationToken).ConfigureAwait(false);
                }

                return next;
            }
            catch (RequestFailedException e) when (e.Status is 409 or 412)
            {
                // Another writer reserved meanwhile: read the head again.
            }
        }
    }

    private async Task<(long Next, ETag? ETag)> ReadHeadAsync(CancellationToken cancellationToken)
    {
        var response = await _table.GetEntityIfExistsAsync<SdkTableEntity>(AzureEventKeys.HeadPartition, AzureEventKeys.HeadRow, cancellationToken: cancellationToken).ConfigureAwait(false);
        return response.HasValue ? (response.Value!.GetInt64("Next") ?? 0, response.Value.ETag) : (0, null);
    }

    /// <summary>
    /// Closes the unwritten position <paramref name="position"/> with a tombstone when it has stayed empty for
    /// <see cref="FeedGapTimeout"/>: judged by the service's time of a later row, or of the head row when there is none. Returns
    /// the position to read on from — the same one when it is filled now (by the tombstone or by its writer), the floor when
    /// retention deleted it — or null when the reader must stop there.
    /// </summary>
    private async Task<long?> CloseGapIfStaleAsync(long position, DateTimeOffset? newestAfterGap, CancellationToken cancellationToken)
    {
        DateTimeOffset? since = newestAfterGap;
        if (since is null && AzureEventKeys.FeedPartition(position + 1) != AzureEventKeys.FeedPartition(position))
        {
            // A later row may be in the next partition.
            var filter = TableFilter.Equal("PartitionKey", AzureEventKeys.FeedPartition(position + 1));
            await foreach (var row in _table.QueryAsync<SdkTableEntity>(filter, maxPerPage: 1, select: ["RowKey"], cancellationToken: cancellationToken).ConfigureAwait(false))
            {
                since = row.Timestamp;
                break;
            }
        }

        // The floor and the head in one query: a position below the floor was deleted by retention (go on at the floor); one
        // at or past the head was not handed out yet (the end of the feed).
        long floor = 0, head = 0;
        DateTimeOffset? headWritten = null;
        await foreach (var row in _table.QueryAsync<SdkTableEntity>(TableFilter.Equal("PartitionKey", AzureEventKeys.HeadPartition), cancellationToken: cancellationToken).ConfigureAwait(false))
        {
            if (row.RowKey == AzureEventKeys.FloorRow)
            {
                floor = row.GetInt64("Next") ?? 0;
            }
            else if (row.RowKey == AzureEventKeys.HeadRow)
            {
                head = row.GetInt64("Next") ?? 0;
                headWritten = row.Timestamp;
            }
        }

        if (position < floor)
        {
            return floor;
        }

        if (since is null)
        {
            if (head <= position)
            {
                return null; // not handed out yet: the end of the feed
            }

            since = headWritten;
        }

        if (since is not { } written || DateTimeOffset.UtcNow - written < FeedGapTimeout)
        {
            return null;
        }

        try
        {
            await _table.AddEntityAsync(new SdkTableEntity(AzureEventKeys.FeedPartition(position), AzureEventKeys.FeedRow(position)) { ["Skipped"] = true }, cancellationToken).ConfigureAwait(false);
            FlowStorageLog.FeedGapClosed(_logger, position);
        }
        catch (RequestFailedException e) when (e.Status == 409)
        {
            // Its writer wrote it after all: read it.
        }

        return position;
    }

    private async Task<List<string>> DaysAsync(DateTimeOffset? since, DateTimeOffset? until, CancellationToken cancellationToken)
    {
        var clauses = new List<string> { TableFilter.Equal("PartitionKey", AzureEventKeys.DaysPartition) };
        if (since is { } from)
        {
            clauses.Add(TableFilter.GreaterThanOrEqual("RowKey", AzureEventKeys.Day(from)));
        }

        if (until is { } to)
        {
            clauses.Add(TableFilter.LessThanOrEqual("RowKey", AzureEventKeys.Day(to)));
        }

        var days = new List<string>();
        await foreach (var row in _table.QueryAsync<SdkTableEntity>(TableFilter.And([.. clauses]), select: ["RowKey"], cancellationToken: cancellationToken).ConfigureAwait(false))
        {
            days.Add(row.RowKey);
        }

        days.Sort((a, b) => string.CompareOrdinal(b, a));
        return days;
    }

    private static string ToToken(string day, string rowKey) =>
        TokenPrefix + System.Buffers.Text.Base64Url.EncodeToString(Encoding.UTF8.GetBytes(day + "\n" + rowKey));

    private static (string Day, string RowKey) ParseToken(string token)
    {
        if (token.StartsWith(TokenPrefix, StringComparison.Ordinal))
        {
            try
            {
                var text = Encoding.UTF8.GetString(System.Buffers.Text.Base64Url.DecodeFromChars(token.AsSpan(TokenPrefix.Length)));
                var newline = text.IndexOf('\n', StringComparison.Ordinal);
                if (newline == 8 && text[..8].All(char.IsAsciiDigit))
                {
                    return (text[..8], text[9..]);
                }
            }
            catch (FormatException)
            {
            }
        }

        throw new ArgumentException("is not a continuation token of this store", "continuationToken");
    }
}
