using Microsoft.Extensions.Logging;
using Npgsql;

namespace Flow.Storage.Postgres;

/// <summary>
/// One <c>LISTEN</c> connection per work queue instance, opened on the first wait: notifications carry the logical queue
/// name and wake the waiters of that queue. When the connection breaks (a server restart) it reconnects with back-off.
/// A notification sent while nobody listens is lost, so a wait that finds the connection not (yet, or no longer) listening
/// waits for it to listen and then reports "work may have arrived": the worker polls once more, and finds what was enqueued
/// before the <c>LISTEN</c> took effect. Without a connection within the timeout the wait times out and workers poll as usual.
/// </summary>
internal sealed class PostgresQueueListener : IAsyncDisposable
{
    private static readonly TimeSpan MaxReconnectDelay = TimeSpan.FromSeconds(5);

    private readonly NpgsqlDataSource _dataSource;
    private readonly string _channel;
    private readonly ILogger _logger;
    private readonly Lock _gate = new();
    private readonly Dictionary<string, TaskCompletionSource> _signals = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _stopping = new();
    private TaskCompletionSource _connected = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Task? _loop;

    public PostgresQueueListener(NpgsqlDataSource dataSource, string channel, ILogger logger)
    {
        _dataSource = dataSource;
        _channel = channel;
        _logger = logger;
    }

    /// <summary>Completes when the listening connection is established for the first time (for tests).</summary>
    public TaskCompletionSource Listening { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public async Task<bool> WaitAsync(string queue, TimeSpan timeout, CancellationToken cancellationToken)
    {
        TaskCompletionSource? source;
        Task connected;
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_stopping.IsCancellationRequested, this);
            _loop ??= Task.Run(() => ListenAsync(_stopping.Token), CancellationToken.None);
            connected = _connected.Task;
            if (!_signals.TryGetValue(queue, out source))
            {
                _signals[queue] = source = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            }
        }

        if (!connected.IsCompleted)
        {
            // Not listening: what was notified until now is lost, so once listening the caller must look for itself.
            try
            {
                await connected.WaitAsync(timeout, cancellationToken).ConfigureAwait(false);
                return true;
            }
            catch (TimeoutException)
            {
                return false;
            }
        }

        try
        {
            await source.Task.WaitAsync(timeout, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            return false;
        }

        lock (_gate)
        {
            // Consumed: later waiters wait for the next notification.
            if (_signals.TryGetValue(queue, out var current) && current == source)
            {
                _signals.Remove(queue);
            }
        }

        return true;
    }

    public bool HasPendingSignal(string queue)
    {
        lock (_gate)
        {
            return _signals.TryGetValue(queue, out var source) && source.Task.IsCompleted;
        }
    }

    public async ValueTask DisposeAsync()
    {
        Task? loop;
        lock (_gate)
        {
            if (_stopping.IsCancellationRequested)
            {
                return;
            }

            _stopping.Cancel();
            loop = _loop;
        }

        if (loop is not null)
        {
            await loop.ConfigureAwait(false);
        }

        _stopping.Dispose();
    }

    /// <summary>Wakes the queue's waiters; with none waiting, the next wait returns at once (a notification between a worker's empty poll and its wait is not lost).</summary>
    private void Signal(string queue)
    {
        TaskCompletionSource? source;
        lock (_gate)
        {
            if (!_signals.TryGetValue(queue, out source))
            {
                _signals[queue] = source = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            }
        }

        source.TrySetResult();
    }

    private async Task ListenAsync(CancellationToken stopping)
    {
        var delay = TimeSpan.FromMilliseconds(100);
        while (!stopping.IsCancellationRequested)
        {
            try
            {
                var connection = await _dataSource.OpenConnectionAsync(stopping).ConfigureAwait(false);
                await using var connectionScope = connection.ConfigureAwait(false);
                connection.Notification += (_, e) => Signal(e.Payload);
                using (var listen = new NpgsqlCommand($"LISTEN \"{_channel}\"", connection))
                {
                    await listen.ExecuteNonQueryAsync(stopping).ConfigureAwait(false);
                }

                lock (_gate)
                {
                    _connected.TrySetResult();
                }

                Listening.TrySetResult();
                delay = TimeSpan.FromMilliseconds(100);
                while (!stopping.IsCancellationRequested)
                {
                    await connection.WaitAsync(stopping).ConfigureAwait(false);
                }
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is NpgsqlException or IOException or TimeoutException)
            {
                PostgresStorageLog.ListenFailed(_logger, delay.TotalMilliseconds, e);
                lock (_gate)
                {
                    if (_connected.Task.IsCompleted)
                    {
                        _connected = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                    }
                }

                _dataSource.Clear();
                try
                {
                    await Task.Delay(delay, stopping).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }

                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, MaxReconnectDelay.Ticks));
            }
        }
    }
}
