using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Flow.Engine.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using static Flow.Storage.Postgres.PgValues;

namespace Flow.Storage.Postgres;

/// <summary>
/// The work queue on PostgreSQL: every logical queue's messages in one table, <c>queue_messages</c>. A dequeue is one
/// statement that picks visible messages with <c>FOR UPDATE SKIP LOCKED</c> (so many workers share a queue without
/// waiting for each other), hides them for the lease (<c>visible_at = now() + lease</c>), increments their dequeue count
/// and issues each a new receipt. Completing, extending and dead-lettering present the receipt; abandoning clears it.
/// Dead letters go to <c>dead_letters</c> in the same transaction as the delete. Visibility uses the database server's
/// clock, so workers on machines with skewed clocks agree. With <see cref="PostgresFlowStorageOptions.ListenNotify"/>,
/// an enqueue without delay sends <c>NOTIFY {schema}_queue, '{queue}'</c>, and <see cref="WaitForWorkAsync"/> wakes on it.
/// Thread-safe; dispose it to close the LISTEN connection.
/// </summary>
public sealed class PostgresWorkQueue : IWorkQueue, IWorkQueueNotifier, IAsyncDisposable
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingDefault,
        RespectNullableAnnotations = true,
    };

    private readonly NpgsqlDataSource _dataSource;
    private readonly PostgresFlowStorageOptions _options;
    private readonly PostgresResilience _resilience;
    private readonly TimeProvider _time;
    private readonly PostgresQueueListener? _listener;
    private readonly string _s;

    /// <summary>Creates the work queue.</summary>
    /// <param name="dataSource">The database (shared with the store).</param>
    /// <param name="options">Schema and notification settings; null for the defaults.</param>
    /// <param name="logger">Where connection problems are logged; null for none.</param>
    /// <param name="timeProvider">The clock for dead-letter times; null for the system clock (visibility follows the server's clock).</param>
    public PostgresWorkQueue(NpgsqlDataSource dataSource, PostgresFlowStorageOptions? options = null, ILogger<PostgresWorkQueue>? logger = null, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(dataSource);
        _options = options ?? new PostgresFlowStorageOptions();
        _options.Validate();
        _dataSource = dataSource;
        var log = (ILogger?)logger ?? NullLogger.Instance;
        _resilience = new PostgresResilience(dataSource, log);
        _time = timeProvider ?? TimeProvider.System;
        _s = PostgresMigrations.Quote(_options.Schema);
        _listener = _options.ListenNotify ? new PostgresQueueListener(dataSource, _options.NotifyChannel, log) : null;
    }

    /// <inheritdoc />
    public async Task EnsureQueueAsync(string queue, CancellationToken cancellationToken)
    {
        StorageContract.ValidateQueueName(queue);
        cancellationToken.ThrowIfCancellationRequested();
        await ExecuteAsync($"INSERT INTO {_s}.queues (name) VALUES ($1) ON CONFLICT DO NOTHING", [Str(queue)], cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public Task EnqueueAsync(string queue, WorkItem item, TimeSpan delay, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(item);
        return EnqueueRawAsync(queue, JsonSerializer.Serialize(item, Json), delay, cancellationToken);
    }

    /// <summary>Adds a message with any body (as a foreign producer would); <see cref="DequeueAsync"/> returns a body that is not a work item with a null item.</summary>
    /// <param name="queue">The queue.</param>
    /// <param name="body">The body, stored as given.</param>
    /// <param name="delay">The visibility delay (zero to 7 days).</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>A task.</returns>
    public async Task EnqueueRawAsync(string queue, string body, TimeSpan delay, CancellationToken cancellationToken)
    {
        StorageContract.ValidateQueueName(queue);
        ArgumentNullException.ThrowIfNull(body);
        StorageContract.ValidateDelay(delay);
        cancellationToken.ThrowIfCancellationRequested();
        var insert = $"INSERT INTO {_s}.queue_messages (queue, body, visible_at, enqueued_at) VALUES ($1, $2, now() + $3, now())";
        if (_options.ListenNotify && delay == TimeSpan.Zero)
        {
            // Delivered when the insert commits (same statement, same transaction).
            await ScalarAsync($"WITH m AS ({insert} RETURNING id) SELECT count(*)::integer FROM (SELECT pg_notify($4, $1) FROM m) n", [Str(queue), Str(body), P(delay), Str(_options.NotifyChannel)], cancellationToken).ConfigureAwait(false);
            return;
        }

        await ExecuteAsync(insert, [Str(queue), Str(body), P(delay)], cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<LeasedWorkItem>> DequeueAsync(string queue, int maxItems, TimeSpan leaseDuration, CancellationToken cancellationToken)
    {
        StorageContract.ValidateDequeue(queue, maxItems, leaseDuration);
        cancellationToken.ThrowIfCancellationRequested();
        var sql = $"""
            WITH next AS (
                SELECT id FROM {_s}.queue_messages
                WHERE queue = $1 AND visible_at <= now()
                ORDER BY visible_at, id
                LIMIT $2
                FOR UPDATE SKIP LOCKED)
            UPDATE {_s}.queue_messages m
            SET visible_at = now() + $3, dequeue_count = m.dequeue_count + 1, receipt = gen_random_uuid()
            FROM next WHERE m.id = next.id
            RETURNING m.id, m.body, m.receipt, m.dequeue_count, m.visible_at
            """;
        return await _resilience.WriteAsync(
            async (connection, ct) =>
            {
                using var command = new NpgsqlCommand(sql, connection);
                command.Parameters.AddRange(new NpgsqlParameter[] { Str(queue), P(maxItems), P(leaseDuration) });
                var reader = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
                await using var readerScope = reader.ConfigureAwait(false);
                var items = new List<LeasedWorkItem>();
                while (await reader.ReadAsync(ct).ConfigureAwait(false))
                {
                    var body = reader.GetString(1);
                    items.Add(new LeasedWorkItem(
                        queue, Parse(body), reader.GetInt64(0).ToString(CultureInfo.InvariantCulture), reader.GetGuid(2).ToString("N"), reader.GetInt32(3), GetTime(reader, 4), body));
                }

                return (IReadOnlyList<LeasedWorkItem>)items;
            },
            cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async Task<LeasedWorkItem> ExtendLeaseAsync(LeasedWorkItem item, TimeSpan leaseDuration, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(item);
        StorageContract.ValidateLease(leaseDuration);
        cancellationToken.ThrowIfCancellationRequested();
        return await RenewAsync(item, leaseDuration, cancellationToken).ConfigureAwait(false)
            ?? throw LeaseLost(item, "its lease was not extended");
    }

    /// <inheritdoc />
    public async Task<bool> CompleteAsync(LeasedWorkItem item, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(item);
        cancellationToken.ThrowIfCancellationRequested();
        if (Key(item) is not { } key)
        {
            return false;
        }

        return await ExecuteAsync($"DELETE FROM {_s}.queue_messages WHERE id = $1 AND receipt = $2", [P(key.Id), P(key.Receipt)], cancellationToken).ConfigureAwait(false) == 1;
    }

    /// <inheritdoc />
    public async Task<bool> AbandonAsync(LeasedWorkItem item, TimeSpan delay, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(item);
        StorageContract.ValidateDelay(delay);
        cancellationToken.ThrowIfCancellationRequested();
        if (Key(item) is not { } key)
        {
            return false;
        }

        // Clearing the receipt ends the lease: nobody holds a receipt for the message until it is taken again.
        var update = $"UPDATE {_s}.queue_messages SET visible_at = now() + $3, receipt = NULL WHERE id = $1 AND receipt = $2 RETURNING queue";
        if (_options.ListenNotify && delay == TimeSpan.Zero)
        {
            return await ScalarAsync($"WITH m AS ({update}) SELECT count(*)::integer FROM (SELECT pg_notify($4, m.queue) FROM m) n", [P(key.Id), P(key.Receipt), P(delay), Str(_options.NotifyChannel)], cancellationToken).ConfigureAwait(false) is 1;
        }

        return await ExecuteAsync(update, [P(key.Id), P(key.Receipt), P(delay)], cancellationToken).ConfigureAwait(false) == 1;
    }

    /// <inheritdoc />
    public async Task DeadLetterAsync(LeasedWorkItem item, string reason, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(item);
        ArgumentNullException.ThrowIfNull(reason);
        cancellationToken.ThrowIfCancellationRequested();
        var key = Key(item) ?? throw LeaseLost(item, "it was not dead-lettered");
        var sql = $"""
            WITH m AS (DELETE FROM {_s}.queue_messages WHERE id = $1 AND receipt = $2 RETURNING id, queue, body, dequeue_count)
            INSERT INTO {_s}.dead_letters (queue, message_id, body, reason, dequeue_count, dead_lettered_at)
            SELECT queue, id::text, body, $3, dequeue_count, $4 FROM m
            """;
        var moved = await ExecuteAsync(sql, [P(key.Id), P(key.Receipt), Str(reason), Time(StorageContract.NormalizeTime(_time.GetUtcNow()))], cancellationToken).ConfigureAwait(false);
        if (moved != 1)
        {
            throw LeaseLost(item, "it was not dead-lettered");
        }
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<DeadLetter>> GetDeadLettersAsync(string queue, int maxItems, CancellationToken cancellationToken)
    {
        StorageContract.ValidateQueueName(queue);
        StorageContract.ValidatePageSize(maxItems);
        cancellationToken.ThrowIfCancellationRequested();
        return await _resilience.ReadAsync(
            async (connection, ct) =>
            {
                using var command = new NpgsqlCommand($"SELECT message_id, body, reason, dead_lettered_at FROM {_s}.dead_letters WHERE queue = $1 ORDER BY id LIMIT $2", connection);
                command.Parameters.AddRange(new NpgsqlParameter[] { Str(queue), P(maxItems) });
                var reader = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
                await using var readerScope = reader.ConfigureAwait(false);
                var letters = new List<DeadLetter>();
                while (await reader.ReadAsync(ct).ConfigureAwait(false))
                {
                    letters.Add(new DeadLetter(queue, reader.GetString(0), reader.GetString(1), reader.GetString(2), GetTime(reader, 3)));
                }

                return (IReadOnlyList<DeadLetter>)letters;
            },
            cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async Task<int> GetApproximateCountAsync(string queue, CancellationToken cancellationToken)
    {
        StorageContract.ValidateQueueName(queue);
        cancellationToken.ThrowIfCancellationRequested();
        return await _resilience.ReadAsync(
            async (connection, ct) =>
            {
                using var command = new NpgsqlCommand($"SELECT count(*)::integer FROM {_s}.queue_messages WHERE queue = $1", connection);
                command.Parameters.Add(Str(queue));
                return (int)(await command.ExecuteScalarAsync(ct).ConfigureAwait(false))!;
            },
            cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Waits until a message is enqueued without delay on <paramref name="queue"/> (by any process: <c>LISTEN</c>/<c>NOTIFY</c>)
    /// or <paramref name="timeout"/> passes. A worker calls it between empty polls instead of sleeping, so an idle worker
    /// reacts at once. Delayed messages send no notification: keep polling at least every few seconds. Returns false at
    /// once when <see cref="PostgresFlowStorageOptions.ListenNotify"/> is off.
    /// </summary>
    /// <param name="queue">The logical queue.</param>
    /// <param name="timeout">The longest wait.</param>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <returns>True when notified, false on timeout.</returns>
    public Task<bool> WaitForWorkAsync(string queue, TimeSpan timeout, CancellationToken cancellationToken)
    {
        StorageContract.ValidateQueueName(queue);
        return _listener is null ? Task.FromResult(false) : _listener.WaitAsync(queue, timeout, cancellationToken);
    }

    /// <summary>Completes once the LISTEN connection listens (for tests).</summary>
    internal Task ListenerReady => _listener?.Listening.Task ?? Task.CompletedTask;

    /// <summary>Whether a notification for <paramref name="queue"/> arrived that no wait has consumed yet (for tests).</summary>
    internal bool HasPendingSignal(string queue) => _listener?.HasPendingSignal(queue) ?? false;

    /// <summary>Reads a message body as a work item; null when it is not one (malformed JSON, missing kind or run id).</summary>
    /// <param name="body">The message body.</param>
    /// <returns>The item, or null.</returns>
    public static WorkItem? Parse(string body)
    {
        try
        {
            return JsonSerializer.Deserialize<WorkItem>(body, Json) is { Kind.Length: > 0, RunId.Length: > 0 } item ? item : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>Closes the LISTEN connection.</summary>
    /// <returns>A task.</returns>
    public async ValueTask DisposeAsync()
    {
        if (_listener is not null)
        {
            await _listener.DisposeAsync().ConfigureAwait(false);
        }
    }

    private async Task<LeasedWorkItem?> RenewAsync(LeasedWorkItem item, TimeSpan leaseDuration, CancellationToken cancellationToken)
    {
        if (Key(item) is not { } key)
        {
            return null;
        }

        return await _resilience.WriteAsync(
            async (connection, ct) =>
            {
                using var command = new NpgsqlCommand(
                    $"UPDATE {_s}.queue_messages SET visible_at = now() + $3, receipt = gen_random_uuid() WHERE id = $1 AND receipt = $2 RETURNING receipt, visible_at", connection);
                command.Parameters.AddRange(new NpgsqlParameter[] { P(key.Id), P(key.Receipt), P(leaseDuration) });
                var reader = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
                await using var readerScope = reader.ConfigureAwait(false);
                return await reader.ReadAsync(ct).ConfigureAwait(false)
                    ? item with { Receipt = reader.GetGuid(0).ToString("N"), LeaseUntil = GetTime(reader, 1) }
                    : null;
            },
            cancellationToken).ConfigureAwait(false);
    }

    private Task<int> ExecuteAsync(string sql, NpgsqlParameter[] parameters, CancellationToken cancellationToken) =>
        _resilience.ExecuteAsync(sql, parameters, cancellationToken);

    private Task<object?> ScalarAsync(string sql, NpgsqlParameter[] parameters, CancellationToken cancellationToken) =>
        _resilience.ScalarAsync(sql, parameters, cancellationToken);

    /// <summary>The message id and receipt of a leased item, or null when they cannot be this queue's (never issued by it).</summary>
    private static (long Id, Guid Receipt)? Key(LeasedWorkItem item) =>
        long.TryParse(item.MessageId, NumberStyles.None, CultureInfo.InvariantCulture, out var id) && Guid.TryParseExact(item.Receipt, "N", out var receipt)
            ? (id, receipt)
            : null;

    private static LeaseLostException LeaseLost(LeasedWorkItem item, string consequence) =>
        new($"The lease on message {item.MessageId} of queue '{item.Queue}' was lost ({consequence}): it was completed or abandoned, or its lease ran out and someone else took it.");
}
