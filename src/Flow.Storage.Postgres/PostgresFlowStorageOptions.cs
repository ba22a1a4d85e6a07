using Flow.Engine.Storage;

namespace Flow.Storage.Postgres;

/// <summary>
/// Settings of Flow's PostgreSQL store and work queue, bound from the configuration section <see cref="SectionName"/>
/// (<c>Flow:Storage:Postgres</c>). Defaults are documented per property.
/// </summary>
public sealed record PostgresFlowStorageOptions
{
    /// <summary>The configuration section the options are read from.</summary>
    public const string SectionName = "Flow:Storage:Postgres";

    /// <summary>The default <see cref="ConnectionStringName"/>: <c>Flow</c> (the setting <c>ConnectionStrings:Flow</c>).</summary>
    public const string DefaultConnectionStringName = "Flow";

    /// <summary>The default <see cref="MaxPayloadBytes"/>: 16 MiB.</summary>
    public const int DefaultMaxPayloadBytes = 16 * 1024 * 1024;

    /// <summary>The default <see cref="MaxItemsPerCommit"/>: 250.</summary>
    public const int DefaultMaxItemsPerCommit = 250;

    /// <summary>
    /// The Npgsql connection string (<c>Host=…;Database=…;Username=…;Password=…</c>). When empty, the connection string
    /// named <see cref="ConnectionStringName"/> is used. Never logged.
    /// </summary>
    public string? ConnectionString { get; init; }

    /// <summary>
    /// The name of the connection string used when <see cref="ConnectionString"/> is empty: the setting
    /// <c>ConnectionStrings:{name}</c>, else the top-level setting <c>{name}</c>. Defaults to <c>Flow</c>.
    /// </summary>
    public string ConnectionStringName { get; init; } = DefaultConnectionStringName;

    /// <summary>
    /// The schema holding every Flow table (created by the migrations when missing): 1-63 lowercase ASCII letters, digits
    /// and underscores, starting with a letter or underscore. Defaults to <c>flow</c>.
    /// </summary>
    public string Schema { get; init; } = "flow";

    /// <summary>Whether the app creates and migrates the schema when it starts (a hosted service runs the migrations). Defaults to true.</summary>
    public bool MigrateOnStart { get; init; } = true;

    /// <summary>
    /// Runs whose final state was reached more than this many days ago are deleted with their journal, state history,
    /// inbox, logs and artifacts (expired cache entries too). 0 keeps everything. Defaults to 30.
    /// </summary>
    public int RetentionDays { get; init; } = 30;

    /// <summary>How often the retention service looks for runs to delete. Defaults to 1 hour.</summary>
    public TimeSpan RetentionInterval { get; init; } = TimeSpan.FromHours(1);

    /// <summary>How many runs one retention statement deletes (it repeats until none is left). Defaults to 500.</summary>
    public int RetentionBatchSize { get; init; } = 500;

    /// <summary>
    /// Whether an enqueue with no delay sends <c>NOTIFY</c>, so workers waiting in
    /// <see cref="PostgresWorkQueue.WaitForWorkAsync"/> (one <c>LISTEN</c> connection per process) wake at once instead of
    /// at their next poll. Defaults to true.
    /// </summary>
    public bool ListenNotify { get; init; } = true;

    /// <summary>The largest value (parameters, result, payload, artifact data, cache value) kept, in UTF-8 bytes. Defaults to 16 MiB.</summary>
    public int MaxPayloadBytes { get; init; } = DefaultMaxPayloadBytes;

    /// <summary>The most items one commit carries (<see cref="IFlowStore.MaxItemsPerCommit"/>); the engine splits larger changes. Defaults to 250.</summary>
    public int MaxItemsPerCommit { get; init; } = DefaultMaxItemsPerCommit;

    /// <summary>The <c>NOTIFY</c> channel of this schema's queues: <c>{Schema}_queue</c>.</summary>
    public string NotifyChannel => Schema + "_queue";

    /// <summary>Throws unless the values are usable.</summary>
    /// <exception cref="ArgumentException">A setting is unusable; the message names it.</exception>
    public void Validate()
    {
        if (!IsValidSchemaName(Schema))
        {
            throw new ArgumentException(
                $"{SectionName}:{nameof(Schema)} '{Schema}' is not usable: use 1-57 lowercase ASCII letters, digits and underscores, starting with a letter or underscore.",
                nameof(Schema));
        }

        if (MaxPayloadBytes is < 1024 * 1024 or > 256 * 1024 * 1024)
        {
            throw new ArgumentException($"{SectionName}:{nameof(MaxPayloadBytes)} is {MaxPayloadBytes:N0}; use 1,048,576 to 268,435,456 bytes.", nameof(MaxPayloadBytes));
        }

        if (MaxItemsPerCommit is < 10 or > 1000)
        {
            throw new ArgumentException($"{SectionName}:{nameof(MaxItemsPerCommit)} is {MaxItemsPerCommit}; use 10 to 1,000.", nameof(MaxItemsPerCommit));
        }

        Flow.Engine.Storage.StorageContract.ValidateRetentionSettings(SectionName, RetentionDays, RetentionInterval, RetentionBatchSize, 100_000);
    }

    // 57 so that the NOTIFY channel "{schema}_queue" stays within PostgreSQL's 63-byte identifiers.
    private static bool IsValidSchemaName(string? name) =>
        name is { Length: > 0 and <= 57 }
        && (char.IsAsciiLetterLower(name[0]) || name[0] == '_')
        && name.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '_');
}
