using Microsoft.Extensions.Logging;

namespace Flow.Storage.Postgres;

/// <summary>The PostgreSQL store's and work queue's log messages (event ids 4200-4299).</summary>
internal static partial class PostgresStorageLog
{
    [LoggerMessage(EventId = 4201, Level = LogLevel.Information, Message = "Schema {Schema}: applied migration {Version} ({Name})")]
    public static partial void MigrationApplied(ILogger logger, string schema, int version, string name);

    [LoggerMessage(EventId = 4202, Level = LogLevel.Warning, Message = "PostgreSQL connection failed; retry {Attempt} in {DelayMs:F0} ms on a fresh connection")]
    public static partial void Retrying(ILogger logger, int attempt, double delayMs, Exception exception);

    [LoggerMessage(EventId = 4210, Level = LogLevel.Warning, Message = "Queue notifications: the LISTEN connection failed; reconnecting in {DelayMs:F0} ms (waiting workers fall back to polling)")]
    public static partial void ListenFailed(ILogger logger, double delayMs, Exception exception);

    [LoggerMessage(EventId = 4230, Level = LogLevel.Information, Message = "Flow storage: PostgreSQL schema {Schema} is ready ({Server})")]
    public static partial void Ready(ILogger logger, string schema, string server);
}
