using Microsoft.Extensions.Logging;
using Npgsql;
using Polly;
using Polly.Retry;

namespace Flow.Storage.Postgres;

/// <summary>
/// How the store and queue survive a broken connection (a server restart, a failover): Npgsql pools connections, and after
/// a restart every idle one is dead. On the first transient failure the pool's idle connections are dropped, so the next
/// operation opens a fresh one. Reads are retried (Polly: exponential back-off with jitter from 100 ms, 5 retries, about
/// 3 s in all); writes are retried only when no connection could be opened (nothing was sent), because a write whose
/// answer was lost may have committed.
/// </summary>
internal sealed class PostgresResilience
{
    private readonly NpgsqlDataSource _dataSource;
    private readonly ILogger _logger;
    private readonly ResiliencePipeline _retry;

    public PostgresResilience(NpgsqlDataSource dataSource, ILogger logger)
    {
        _dataSource = dataSource;
        _logger = logger;
        _retry = new ResiliencePipelineBuilder()
            .AddRetry(new RetryStrategyOptions
            {
                ShouldHandle = new PredicateBuilder().Handle<Exception>(PostgresConnection.IsTransient),
                MaxRetryAttempts = 5,
                Delay = TimeSpan.FromMilliseconds(100),
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                OnRetry = args =>
                {
                    PostgresStorageLog.Retrying(_logger, args.AttemptNumber + 1, args.RetryDelay.TotalMilliseconds, args.Outcome.Exception!);
                    return default;
                },
            })
            .Build();
    }

    /// <summary>Runs an idempotent operation on a pooled connection, retrying on a fresh one when the connection breaks.</summary>
    public async Task<T> ReadAsync<T>(Func<NpgsqlConnection, CancellationToken, Task<T>> operation, CancellationToken cancellationToken) =>
        await _retry.ExecuteAsync(
            async ct =>
            {
                var connection = await _dataSource.OpenConnectionAsync(ct).ConfigureAwait(false);
                await using var connectionScope = connection.ConfigureAwait(false);
                return await Observe(operation(connection, ct)).ConfigureAwait(false);
            },
            cancellationToken).ConfigureAwait(false);

    /// <summary>Runs an idempotent operation that needs no connection of its own (it opens what it needs), with retries.</summary>
    public async Task<T> ReadAsync<T>(Func<CancellationToken, Task<T>> operation, CancellationToken cancellationToken) =>
        await _retry.ExecuteAsync(async ct => await Observe(operation(ct)).ConfigureAwait(false), cancellationToken).ConfigureAwait(false);

    /// <summary>Runs a write once; only opening the connection is retried. A transient failure after that is thrown (the caller's episode fails and is retried).</summary>
    public async Task<T> WriteAsync<T>(Func<NpgsqlConnection, CancellationToken, Task<T>> operation, CancellationToken cancellationToken)
    {
        var connection = await _retry.ExecuteAsync(
            async ct => await Observe(_dataSource.OpenConnectionAsync(ct).AsTask()).ConfigureAwait(false), cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            return await Observe(operation(connection, cancellationToken)).ConfigureAwait(false);
        }
    }

    /// <summary>Runs one write statement once (see <see cref="WriteAsync{T}"/>).</summary>
    /// <returns>The number of rows it affected.</returns>
    public Task<int> ExecuteAsync(string sql, NpgsqlParameter[] parameters, CancellationToken cancellationToken) =>
        WriteAsync(
            async (connection, ct) =>
            {
                using var command = Command(sql, connection, parameters);
                return await command.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
            },
            cancellationToken);

    /// <summary>Runs one write statement once (see <see cref="WriteAsync{T}"/>).</summary>
    /// <returns>The first column of its first row, or null.</returns>
    public Task<object?> ScalarAsync(string sql, NpgsqlParameter[] parameters, CancellationToken cancellationToken) =>
        WriteAsync(
            async (connection, ct) =>
            {
                using var command = Command(sql, connection, parameters);
                return await command.ExecuteScalarAsync(ct).ConfigureAwait(false);
            },
            cancellationToken);

    /// <summary>Runs a query (retried like every read) and maps each row with <paramref name="read"/>.</summary>
    public async Task<List<T>> QueryAsync<T>(string sql, IReadOnlyList<NpgsqlParameter> parameters, Func<System.Data.Common.DbDataReader, T> read, CancellationToken cancellationToken) =>
        await ReadAsync(
            async (connection, ct) =>
            {
                using var command = Command(sql, connection, parameters.Select(p => p.Clone()));

                var reader = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
                await using var readerScope = reader.ConfigureAwait(false);
                var rows = new List<T>();
                while (await reader.ReadAsync(ct).ConfigureAwait(false))
                {
                    rows.Add(read(reader));
                }

                return rows;
            },
            cancellationToken).ConfigureAwait(false);

    /// <summary>A command with positional parameters ($1, $2, …).</summary>
    public static NpgsqlCommand Command(string sql, NpgsqlConnection connection, IEnumerable<NpgsqlParameter> parameters)
    {
        var command = new NpgsqlCommand(sql, connection);
        command.Parameters.AddRange(parameters.ToArray());
        return command;
    }

    /// <summary>Drops the pool's idle connections when an operation fails transiently: after a restart they are all dead.</summary>
    private async Task<T> Observe<T>(Task<T> operation)
    {
        try
        {
            return await operation.ConfigureAwait(false);
        }
        catch (Exception e) when (PostgresConnection.IsTransient(e))
        {
            _dataSource.Clear();
            throw;
        }
    }
}
