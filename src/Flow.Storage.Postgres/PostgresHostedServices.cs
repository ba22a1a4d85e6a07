using Flow.Engine.Storage;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Flow.Storage.Postgres;

/// <summary>
/// Creates or migrates the schema when the app starts (<see cref="PostgresFlowStorageOptions.MigrateOnStart"/>), so a
/// missing, malformed or unreachable connection fails the start with a message naming the setting.
/// </summary>
public sealed class PostgresMigrationService : IHostedService
{
    private readonly PostgresFlowStore _store;
    private readonly PostgresFlowStorageOptions _options;
    private readonly ILogger _logger;

    /// <summary>Creates the service.</summary>
    /// <param name="store">The store whose schema is migrated.</param>
    /// <param name="options">The options.</param>
    /// <param name="logger">The logger; null for none.</param>
    public PostgresMigrationService(PostgresFlowStore store, IOptions<PostgresFlowStorageOptions> options, ILogger<PostgresMigrationService>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(options);
        _store = store;
        _options = options.Value;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
    }

    /// <inheritdoc />
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (_options.MigrateOnStart)
        {
            await _store.InitializeAsync(cancellationToken).ConfigureAwait(false);
            PostgresStorageLog.Ready(_logger, _options.Schema, _store.Server);
        }
    }

    /// <inheritdoc />
    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}

/// <summary>
/// Retention (on by default): every <see cref="PostgresFlowStorageOptions.RetentionInterval"/> deletes the runs whose final
/// state was reached more than <see cref="PostgresFlowStorageOptions.RetentionDays"/> days ago, with their journals, state
/// histories, inboxes, logs and artifacts, in batches, then the events older than the same time; 0 days turns it off. Several app instances may run it at once
/// (batches skip rows another instance is deleting).
/// </summary>
public sealed class PostgresRetentionService : RunRetentionService
{
    /// <summary>Creates the service.</summary>
    /// <param name="store">The store.</param>
    /// <param name="events">The event store.</param>
    /// <param name="options">The options.</param>
    /// <param name="timeProvider">The clock; null for the system clock.</param>
    /// <param name="logger">The logger; null for none.</param>
    public PostgresRetentionService(PostgresFlowStore store, PostgresEventStore events, IOptions<PostgresFlowStorageOptions> options, TimeProvider? timeProvider = null, ILogger<PostgresRetentionService>? logger = null)
        : base(store, events, RetentionDays(options), options.Value.RetentionInterval, options.Value.RetentionBatchSize, timeProvider, logger)
    {
    }

    private static int RetentionDays(IOptions<PostgresFlowStorageOptions> options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return options.Value.RetentionDays;
    }
}
