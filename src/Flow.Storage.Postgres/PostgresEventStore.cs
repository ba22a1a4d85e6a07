using System.Buffers.Text;
using System.Globalization;
using System.Text;
using Flow.Engine.Events;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using static Flow.Storage.Postgres.PgValues;

namespace Flow.Storage.Postgres;

/// <summary>
/// The event store on PostgreSQL (docs/events.md): the <c>events</c> table, into which <see cref="PostgresFlowStore"/> inserts a
/// run's events in the statement of the commit that makes the change (an outbox with no relay), and <see cref="AppendAsync"/>
/// inserts external events. Ids are the primary key (<c>ON CONFLICT DO NOTHING</c>: the first stays).
/// </summary>
/// <remarks>
/// <para><b>Listing</b> is keyset pagination on <c>(occurred_at DESC, id)</c>: <c>events_newest</c> serves the unfiltered
/// list and time ranges, <c>events_by_kind (kind, occurred_at)</c> a kind prefix (a range on <c>kind</c>), and the GIN index
/// <c>events_by_resource</c> on <c>resource_ids</c> (the event's own and related resource ids) a resource filter.</para>
/// <para><b>The feed</b> is ordered by <c>(xid, seq)</c>, where <c>xid</c> is the id of the transaction that inserted the row
/// (<c>pg_current_xact_id()</c>) and <c>seq</c> an identity. A sequence alone is not a safe feed cursor: transactions commit
/// in another order than they draw numbers, so a reader could pass number 7 before the transaction holding number 6
/// commits, and never see it. The feed therefore only shows rows whose transaction id is below
/// <c>pg_snapshot_xmin(pg_current_snapshot())</c> — every transaction below that horizon has ended, so no row can still appear
/// below it — and a cursor is the last <c>(xid, seq)</c> read. A row of a transaction still running is shown once that
/// transaction and every older one have ended (a long transaction anywhere in the cluster delays the feed; it never
/// makes it skip). Clocks play no part.</para>
/// </remarks>
public sealed class PostgresEventStore : IEventStore, IEventRetention
{
    private const string TokenPrefix = "pgev1.";
    private const int MaxFeedRead = 1000;

    private readonly PostgresFlowStorageOptions _options;
    private readonly ILogger _logger;
    private readonly PostgresResilience _resilience;
    private readonly NpgsqlDataSource _dataSource;
    private readonly string _s;

    /// <summary>Creates the store.</summary>
    /// <param name="dataSource">The database (the one the flow store uses).</param>
    /// <param name="options">Schema and limits; null for the defaults.</param>
    /// <param name="logger">Where retries are logged; null for none.</param>
    public PostgresEventStore(NpgsqlDataSource dataSource, PostgresFlowStorageOptions? options = null, ILogger<PostgresEventStore>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(dataSource);
        _options = options ?? new PostgresFlowStorageOptions();
        _options.Validate();
        _dataSource = dataSource;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        _resilience = new PostgresResilience(dataSource, _logger);
        _s = PostgresMigrations.Quote(_options.Schema);
    }

    /// <inheritdoc />
    public Task InitializeAsync(CancellationToken cancellationToken) =>
        new PostgresFlowStore(_dataSource, _options).InitializeAsync(cancellationToken);

    /// <inheritdoc />
    public async Task AppendAsync(IReadOnlyList<FlowEvent> events, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(events);
        for (var i = 0; i < events.Count; i++)
        {
            EventRules.Validate(events[i], $"events[{i}]");
        }

        cancellationToken.ThrowIfCancellationRequested();
        if (events.Count == 0)
        {
            return;
        }

        // The first of two events with one id in the same call stays, as when they come in two calls.
        var distinct = events.DistinctBy(e => e.Id, StringComparer.Ordinal).Select(Normalize).ToList();
        var parameters = new List<NpgsqlParameter>();
        var sql = PostgresEventSql.Insert(_s, distinct, parameters, string.Empty);
        await _resilience.ExecuteAsync(sql, [.. parameters], cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async Task<EventPage> ListAsync(EventQuery query, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(query);
        ArgumentOutOfRangeException.ThrowIfLessThan(query.PageSize, 1, nameof(query));
        ArgumentOutOfRangeException.ThrowIfGreaterThan(query.PageSize, EventQuery.MaxPageSize, nameof(query));
        var after = query.ContinuationToken is { } token ? ParseToken(token) : ((DateTimeOffset, string)?)null;
        var clauses = new List<string>();
        var parameters = new List<NpgsqlParameter>();
        string Next(NpgsqlParameter parameter)
        {
            parameters.Add(parameter);
            return "$" + parameters.Count.ToString(CultureInfo.InvariantCulture);
        }

        if (query.KindPrefix is { Length: > 0 } prefix)
        {
            // A range on the kind (COLLATE "C") that the kind index serves, exact by starts_with; the upper bound only when the
            // prefix ends in ASCII, where byte order and ordinal order agree.
            var low = Next(Str(prefix));
            clauses.Add($"kind >= {low} AND starts_with(kind, {low})");
            if (prefix[^1] < 0x7F)
            {
                clauses.Add($"kind < {Next(Str(string.Concat(prefix.AsSpan(0, prefix.Length - 1), ((char)(prefix[^1] + 1)).ToString())))}");
            }
        }

        if (query.ResourceId is { } resource)
        {
            clauses.Add($"resource_ids @> ARRAY[{Next(Str(resource))}]::text[]");
        }

        if (query.Since is { } since)
        {
            clauses.Add($"occurred_at >= {Next(Time(since))}");
        }

        if (query.Until is { } until)
        {
            clauses.Add($"occurred_at < {Next(Time(until))}");
        }

        if (after is { } a)
        {
            var at = Next(Time(a.Item1));
            clauses.Add($"(occurred_at < {at} OR (occurred_at = {at} AND id > {Next(Str(a.Item2))}))");
        }

        var where = clauses.Count == 0 ? string.Empty : "WHERE " + string.Join(" AND ", clauses);
        var sql = $"SELECT body FROM {_s}.events {where} ORDER BY occurred_at DESC, id LIMIT {Next(P(query.PageSize + 1))}";
        var rows = await _resilience.QueryAsync(sql, parameters, r => EventJson.Deserialize(r.GetString(0)), cancellationToken).ConfigureAwait(false);
        if (rows.Count <= query.PageSize)
        {
            return new EventPage(rows, null);
        }

        rows.RemoveAt(rows.Count - 1);
        return new EventPage(rows, ToToken(rows[^1]));
    }

    /// <inheritdoc />
    public async Task<EventFeedPage> ReadFeedAsync(string? cursor, int maxCount, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxCount, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(maxCount, MaxFeedRead);
        var (xid, seq) = cursor is null ? (0UL, 0L) : ParseCursor(cursor);
        var sql = $"""
            SELECT xid::text, seq, body FROM {_s}.events
            WHERE (xid, seq) > ($1::text::xid8, $2) AND xid < pg_snapshot_xmin(pg_current_snapshot())
            ORDER BY xid, seq
            LIMIT $3
            """;
        var rows = await _resilience.QueryAsync(
            sql,
            [Str(xid.ToString(CultureInfo.InvariantCulture)), P(seq), P(maxCount)],
            r => (Xid: ulong.Parse(r.GetString(0), CultureInfo.InvariantCulture), Seq: r.GetInt64(1), Event: EventJson.Deserialize(r.GetString(2))),
            cancellationToken).ConfigureAwait(false);
        if (rows.Count == 0)
        {
            return new EventFeedPage([], cursor ?? Cursor(0, 0));
        }

        return new EventFeedPage([.. rows.Select(r => r.Event)], Cursor(rows[^1].Xid, rows[^1].Seq));
    }

    /// <inheritdoc />
    public async Task<string> GetFeedEndAsync(CancellationToken cancellationToken)
    {
        // Every row below the horizon is visible now; a row at or above it reaches the feed later, so it is after (xmin, 0).
        var rows = await _resilience.QueryAsync("SELECT pg_snapshot_xmin(pg_current_snapshot())::text", [], r => ulong.Parse(r.GetString(0), CultureInfo.InvariantCulture), cancellationToken).ConfigureAwait(false);
        return Cursor(rows[0], 0);
    }

    /// <inheritdoc />
    /// <remarks>One statement; rows another instance is deleting at the same moment are skipped. The feed reads by
    /// <c>(xid, seq)</c> greater than the cursor, so a cursor in the deleted part goes on at the oldest event left.</remarks>
    public Task<int> DeleteEventsBeforeAsync(DateTimeOffset occurredBefore, int batchSize, CancellationToken cancellationToken)
    {
        EventRules.ValidateRetentionBatch(batchSize);
        var sql = $"""
            DELETE FROM {_s}.events WHERE id IN (
                SELECT id FROM {_s}.events WHERE occurred_at < $1 ORDER BY occurred_at LIMIT $2 FOR UPDATE SKIP LOCKED)
            """;
        return _resilience.ExecuteAsync(sql, [P(occurredBefore), P(batchSize)], cancellationToken);
    }

    private static FlowEvent Normalize(FlowEvent flowEvent) =>
        flowEvent with { OccurredAt = Flow.Engine.Storage.StorageContract.NormalizeTime(flowEvent.OccurredAt) };

    private static string Cursor(ulong xid, long seq) => string.Create(CultureInfo.InvariantCulture, $"{xid}:{seq}");

    private static (ulong Xid, long Seq) ParseCursor(string cursor)
    {
        var colon = cursor.IndexOf(':', StringComparison.Ordinal);
        if (colon > 0
            && ulong.TryParse(cursor.AsSpan(0, colon), NumberStyles.None, CultureInfo.InvariantCulture, out var xid)
            && long.TryParse(cursor.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var seq))
        {
            return (xid, seq);
        }

        throw new ArgumentException($"'{cursor}' is not an event feed cursor of this store", nameof(cursor));
    }

    private static string ToToken(FlowEvent last) =>
        TokenPrefix + Base64Url.EncodeToString(Encoding.UTF8.GetBytes(last.OccurredAt.UtcTicks.ToString(CultureInfo.InvariantCulture) + "|" + last.Id));

    private static (DateTimeOffset, string) ParseToken(string token)
    {
        if (token.StartsWith(TokenPrefix, StringComparison.Ordinal))
        {
            try
            {
                var text = Encoding.UTF8.GetString(Base64Url.DecodeFromChars(token.AsSpan(TokenPrefix.Length)));
                var bar = text.IndexOf('|', StringComparison.Ordinal);
                if (bar > 0 && long.TryParse(text.AsSpan(0, bar), NumberStyles.None, CultureInfo.InvariantCulture, out var ticks) && ticks <= DateTimeOffset.MaxValue.UtcTicks)
                {
                    return (new DateTimeOffset(ticks, TimeSpan.Zero), text[(bar + 1)..]);
                }
            }
            catch (FormatException)
            {
            }
        }

        throw new ArgumentException("is not a continuation token of this store", "continuationToken");
    }
}
