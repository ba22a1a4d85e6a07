namespace Flow.Functions;

/// <summary>Options of the Flow app (section <c>Flow:App</c>).</summary>
public sealed class FlowAppOptions
{
    /// <summary>The configuration section.</summary>
    public const string SectionName = "Flow:App";

    /// <summary>
    /// The roles this process plays standalone, comma-separated: <c>api</c> (the HTTP API), <c>scheduler</c> (the schedule tick
    /// and the run-request queue), <c>worker</c> (runs flows from the in-app pools' queues). Default: all three. Several
    /// processes sharing one store can split them. Under the Functions host the host owns the triggers and this is ignored.
    /// </summary>
    public string Roles { get; set; } = "api,scheduler,worker";

    /// <summary>The API key standalone clients send in the <c>X-Flow-Api-Key</c> header (or as <c>Authorization: Bearer KEY</c>). Required standalone unless <see cref="AllowAnonymousLoopback"/>.</summary>
    public string? ApiKey { get; set; }

    /// <summary>Local development only: without an API key, accept requests from loopback addresses while the app listens only on loopback.</summary>
    public bool AllowAnonymousLoopback { get; set; }

    /// <summary>A deployments file (YAML or JSON) applied at start, relative to the working directory; none when empty.</summary>
    public string? DeploymentsFile { get; set; }

    /// <summary>
    /// Assemblies with flows to load at start (paths, relative to the working directory): each public <c>IFlowModule</c> in them
    /// registers its flows and tasks. The plug-in point for flows kept in their own project; <c>./flow.sh start</c> loads the samples.
    /// </summary>
    public IReadOnlyList<string> FlowAssemblies { get; set; } = [];

    /// <summary>Standalone: how often the scheduler ticks. Default 5 seconds.</summary>
    public TimeSpan SchedulerTickInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Standalone: the longest pause between polls of an empty run-request queue. Default 2 seconds.</summary>
    public TimeSpan RunRequestMaxPollInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Standalone: deliveries of a run request before it goes to the poison queue (the Functions host's maxDequeueCount). Default 5.</summary>
    public int RunRequestMaxDequeueCount { get; set; } = 5;

    /// <summary>The largest JSON request body the API reads, in bytes. Default 1 MiB.</summary>
    public int MaxRequestBodyBytes { get; set; } = 1024 * 1024;

    /// <summary>
    /// How long the storage may take to answer the health probe (a single read); when two probes in a row take longer, it counts
    /// as down: /api/health then says <c>degraded</c>, and API calls answer 503 with <c>Retry-After</c> at once instead of
    /// waiting. Default 1 second.
    /// </summary>
    public TimeSpan StorageTimeout { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>How often the storage is probed while it answers (while it is down: every second). Default 5 seconds.</summary>
    public TimeSpan StorageProbeInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Whether a role is on.</summary>
    /// <param name="role">The role.</param>
    /// <returns>True when on.</returns>
    public bool Has(string role) => Roles.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).Contains(role, StringComparer.OrdinalIgnoreCase);

    /// <summary>Checks the values.</summary>
    /// <exception cref="InvalidOperationException">A value is invalid; the message names the setting.</exception>
    public void Validate()
    {
        var roles = Roles.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        var unknown = roles.Where(r => r is not ("api" or "scheduler" or "worker")).ToList();
        if (unknown.Count > 0 || roles.Length == 0)
        {
            throw new InvalidOperationException($"{SectionName}:Roles is '{Roles}'; use a comma-separated list of api, scheduler and worker.");
        }

        if (SchedulerTickInterval < TimeSpan.FromMilliseconds(100) || SchedulerTickInterval > TimeSpan.FromMinutes(10))
        {
            throw new InvalidOperationException($"{SectionName}:SchedulerTickInterval must be 100 ms to 10 minutes.");
        }

        if (RunRequestMaxDequeueCount is < 1 or > 100)
        {
            throw new InvalidOperationException($"{SectionName}:RunRequestMaxDequeueCount must be 1-100.");
        }

        if (MaxRequestBodyBytes is < 1024 or > 100 * 1024 * 1024)
        {
            throw new InvalidOperationException($"{SectionName}:MaxRequestBodyBytes must be 1 KiB to 100 MiB.");
        }

        if (StorageTimeout < TimeSpan.FromMilliseconds(100) || StorageTimeout > TimeSpan.FromMinutes(1) || StorageProbeInterval < TimeSpan.FromMilliseconds(100) || StorageProbeInterval > TimeSpan.FromMinutes(10))
        {
            throw new InvalidOperationException($"{SectionName}:StorageTimeout must be 100 ms to 1 minute and {SectionName}:StorageProbeInterval 100 ms to 10 minutes.");
        }

        if (ApiKey is { Length: > 0 and < 16 })
        {
            throw new InvalidOperationException($"{SectionName}:ApiKey is too short; use at least 16 characters.");
        }
    }
}
