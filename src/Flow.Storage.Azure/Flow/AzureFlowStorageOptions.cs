namespace Flow.Storage.Azure;

/// <summary>
/// Settings of Flow's Azure Storage store and work queue, bound from the configuration section
/// <see cref="SectionName"/> (<c>Flow:Storage:Azure</c>).
/// </summary>
public sealed record AzureFlowStorageOptions
{
    /// <summary>The configuration section the options are read from.</summary>
    public const string SectionName = "Flow:Storage:Azure";

    /// <summary>The default <see cref="MaxPayloadBytes"/>: 16 MiB.</summary>
    public const int DefaultMaxPayloadBytes = 16 * 1024 * 1024;

    /// <summary>
    /// The start of every table name: <c>{prefix}Runs</c>, <c>{prefix}RunIndex</c>, <c>{prefix}Cache</c>,
    /// <c>{prefix}DeadLetters</c>, and the control plane's <c>{prefix}Deployments</c>, <c>{prefix}WorkPools</c>,
    /// <c>{prefix}RunRequestsRejected</c> and <c>{prefix}State</c>. Letters and digits, starting with a letter. Defaults to <c>Flow</c>.
    /// </summary>
    public string TablePrefix { get; init; } = "Flow";

    /// <summary>
    /// The start of every queue name: logical queue <c>runs-default</c> is the Azure queue <c>{prefix}runs-default</c>
    /// and its poison queue <c>{prefix}runs-default-poison</c>. Lowercase letters, digits and hyphens. Defaults to <c>flow-</c>.
    /// </summary>
    public string QueuePrefix { get; init; } = "flow-";

    /// <summary>The largest value (parameters, result, payload, log message…) kept, in UTF-8 bytes. Defaults to 16 MiB.</summary>
    public int MaxPayloadBytes { get; init; } = DefaultMaxPayloadBytes;

    /// <summary>The default <see cref="PayloadBlobThresholdBytes"/>: 32 KiB.</summary>
    public const int DefaultPayloadBlobThresholdBytes = 32 * 1024;

    /// <summary>
    /// Values (parameters, results, journal payloads and details, log messages, artifact data, inbox payloads) larger
    /// than this many UTF-8 bytes are kept as blobs in <see cref="PayloadContainer"/> with a reference in the row;
    /// smaller ones stay in the row (a commit too large for one table transaction also moves its largest values).
    /// 1,024 to 32,768; defaults to 32 KiB.
    /// </summary>
    public int PayloadBlobThresholdBytes { get; init; } = DefaultPayloadBlobThresholdBytes;

    /// <summary>The blob container of large values; a run's blobs are under <c>{runId}/</c>. Defaults to <c>flow-payloads</c>.</summary>
    public string PayloadContainer { get; init; } = "flow-payloads";

    /// <summary>
    /// Runs whose final state was reached more than this many days ago are deleted with every row of their partition,
    /// their index rows and their payload blobs. 0 keeps everything (the only way to turn retention off). Defaults to 30.
    /// </summary>
    public int RetentionDays { get; init; } = 30;

    /// <summary>How often the retention service (scheduler role) looks for runs to delete. Defaults to 1 hour.</summary>
    public TimeSpan RetentionInterval { get; init; } = TimeSpan.FromHours(1);

    /// <summary>How many runs one retention batch deletes (batches repeat until none is left). 1 to 10,000; defaults to 100.</summary>
    public int RetentionBatchSize { get; init; } = 100;

    /// <summary>The configuration setting (or prefix of identity-based settings) holding the storage connection. Defaults to <c>AzureWebJobsStorage</c>.</summary>
    public string ConnectionSetting { get; init; } = StorageConnectionFactory.DefaultSettingName;

    /// <summary>The Runs table's name.</summary>
    public string RunsTable => TablePrefix + "Runs";

    /// <summary>The run index table's name.</summary>
    public string RunIndexTable => TablePrefix + "RunIndex";

    /// <summary>The events table's name (docs/events.md).</summary>
    public string EventsTable => TablePrefix + "Events";

    /// <summary>How often the outbox relay looks for run events that no commit's own relay delivered (a process died between
    /// the commit and the relay). Defaults to 30 seconds; 1 second to 1 hour.</summary>
    public TimeSpan OutboxSweepInterval { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Whether a commit that records state transitions starts relaying their events at once, in the background (the
    /// low-latency path); when false only the sweep relays them. Defaults to true.</summary>
    public bool RelayAfterCommit { get; init; } = true;

    /// <summary>The task result cache table's name.</summary>
    public string CacheTable => TablePrefix + "Cache";

    /// <summary>The dead-letter table's name.</summary>
    public string DeadLettersTable => TablePrefix + "DeadLetters";

    /// <summary>The control plane's deployments table's name.</summary>
    public string DeploymentsTable => TablePrefix + "Deployments";

    /// <summary>The control plane's work pools table's name.</summary>
    public string WorkPoolsTable => TablePrefix + "WorkPools";

    /// <summary>The control plane's table of refused run requests.</summary>
    public string RejectedRequestsTable => TablePrefix + "RunRequestsRejected";

    /// <summary>The control plane's table of versioned state entries.</summary>
    public string StateTable => TablePrefix + "State";

    /// <summary>The control plane's automations table.</summary>
    public string AutomationsTable => TablePrefix + "Automations";

    /// <summary>The control plane's table of automation firings.</summary>
    public string AutomationFiringsTable => TablePrefix + "AutomationFirings";

    /// <summary>Throws unless the names these options produce are valid Azure names and the limits are sane.</summary>
    /// <exception cref="ArgumentException">A setting is unusable; the message names it.</exception>
    public void Validate()
    {
        StorageNames.ValidateTableName(DeadLettersTable);
        StorageNames.ValidateTableName(RejectedRequestsTable);
        StorageNames.ValidateTableName(RunsTable);
        StorageNames.ValidateTableName(EventsTable);
        if (OutboxSweepInterval < TimeSpan.FromSeconds(1) || OutboxSweepInterval > TimeSpan.FromHours(1))
        {
            throw new ArgumentException($"{SectionName}:OutboxSweepInterval is {OutboxSweepInterval}; use 00:00:01 to 01:00:00.", nameof(OutboxSweepInterval));
        }
        StorageNames.ValidateQueueName(QueuePrefix + "a-poison");
        if (MaxPayloadBytes is < 1024 or > 256 * 1024 * 1024)
        {
            throw new ArgumentException($"{SectionName}:MaxPayloadBytes is {MaxPayloadBytes:N0}; use 1,024 to 268,435,456 bytes.", nameof(MaxPayloadBytes));
        }

        if (PayloadBlobThresholdBytes is < 1024 or > 32 * 1024)
        {
            throw new ArgumentException($"{SectionName}:{nameof(PayloadBlobThresholdBytes)} is {PayloadBlobThresholdBytes:N0}; use 1,024 to 32,768 bytes.", nameof(PayloadBlobThresholdBytes));
        }

        if (PayloadContainer is not { Length: >= 3 and <= 63 } || !PayloadContainer.All(c => c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '-')
            || PayloadContainer[0] == '-' || PayloadContainer[^1] == '-' || PayloadContainer.Contains("--", StringComparison.Ordinal))
        {
            throw new ArgumentException($"{SectionName}:{nameof(PayloadContainer)} is '{PayloadContainer}'; use 3-63 lowercase letters, digits and single hyphens, starting and ending with a letter or digit.", nameof(PayloadContainer));
        }

        Flow.Engine.Storage.StorageContract.ValidateRetentionSettings(SectionName, RetentionDays, RetentionInterval, RetentionBatchSize, 10_000);
    }
}
