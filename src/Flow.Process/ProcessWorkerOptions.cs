namespace Flow.Process;

/// <summary>Process worker settings, bound from <c>Flow:ProcessWorker</c>. Defaults are documented per property.</summary>
public sealed class ProcessWorkerOptions
{
    /// <summary>The configuration section.</summary>
    public const string SectionName = "Flow:ProcessWorker";

    /// <summary>The process pools whose run queues this worker serves. Default: none (the worker does nothing).</summary>
    public IList<string> Pools { get; } = [];

    /// <summary>The Flow API's base address (<c>http://host:7071</c>), handed to each subprocess as <c>FLOW_API_URL</c>. Required.</summary>
    public string? ApiUrl { get; set; }

    /// <summary>The most subprocesses this worker runs at once. Default 8.</summary>
    public int MaxConcurrentRuns { get; set; } = 8;

    /// <summary>How long a process gets between SIGTERM and SIGKILL on cancellation and timeout. Default 10 s.</summary>
    public TimeSpan GracePeriod { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>The longest log line kept; longer lines are cut and marked. Default 4,096 characters.</summary>
    public int MaxLineLength { get; set; } = 4096;

    /// <summary>The most output kept per attempt, in characters; past it lines are dropped and one line says how many. Default 4 MiB.</summary>
    public long MaxOutputPerAttempt { get; set; } = 4L * 1024 * 1024;

    /// <summary>How often captured output is written to the run's logs (and how often the worker looks at the run for a cancellation). Default 250 ms.</summary>
    public TimeSpan FlushInterval { get; set; } = TimeSpan.FromMilliseconds(250);

    /// <summary>The shortest wait between polls of an empty queue; doubles while it stays empty. Default 20 ms.</summary>
    public TimeSpan MinPollInterval { get; set; } = TimeSpan.FromMilliseconds(20);

    /// <summary>The longest wait between polls of an empty queue. Default 1 s.</summary>
    public TimeSpan MaxPollInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>How long a run token handed to a subprocess stays valid. Default 7 days.</summary>
    public TimeSpan TokenLifetime { get; set; } = TimeSpan.FromDays(7);

    /// <summary>
    /// The executables this worker may start (the worker operator's decision; <c>flow worker start --allow</c>): absolute paths,
    /// bare names (resolved on the worker's own PATH when the worker starts) or paths relative to the worker's working directory.
    /// A deployment's command runs only when it resolves to one of these files; a work pool's <c>allowedCommands</c> can narrow
    /// this list, never widen it. An interpreter on the list (bash, python3, dotnet) runs whatever script it is given.
    /// Default: empty, and with <see cref="AllowAnyExecutable"/> false the worker refuses every run.
    /// </summary>
    public IList<string> AllowedExecutables { get; } = [];

    /// <summary>Lets deployments run any executable of this machine (<c>flow worker start --allow-any-executable</c>). Default false.</summary>
    public bool AllowAnyExecutable { get; set; }

    /// <summary>
    /// Variables of the worker's own environment passed on to subprocesses besides PATH, HOME, LANG, LC_*, TZ, TMPDIR and USER
    /// (<see cref="Flow.Engine.ProcessEnvironmentPolicy"/>). Credential names (AzureWebJobs*, Flow__*, AZURE_*, ...) are never
    /// passed, even when listed here. Default: none.
    /// </summary>
    public IList<string> InheritVariables { get; } = [];

    /// <summary>Checks the values.</summary>
    /// <exception cref="ArgumentException">A value is out of range; the message names it.</exception>
    public void Validate()
    {
        if (Pools.Count > 0 && (string.IsNullOrWhiteSpace(ApiUrl) || !Uri.TryCreate(ApiUrl, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https")))
        {
            throw new ArgumentException($"{SectionName}:{nameof(ApiUrl)} must be the Flow API's http(s) address (was '{ApiUrl}').");
        }

        if (Pools.Count > 0 && AllowedExecutables.Count == 0 && !AllowAnyExecutable)
        {
            throw new ArgumentException($"{SectionName}:{nameof(AllowedExecutables)} must list the executables this worker may start (flow worker start --allow PATH), or {SectionName}:{nameof(AllowAnyExecutable)} must be true (--allow-any-executable).");
        }

        if (AllowedExecutables.Any(string.IsNullOrWhiteSpace))
        {
            throw new ArgumentException($"{SectionName}:{nameof(AllowedExecutables)} must not contain empty entries.");
        }

        if (MaxConcurrentRuns is < 1 or > 1000)
        {
            throw new ArgumentException($"{SectionName}:{nameof(MaxConcurrentRuns)} must be 1-1000.");
        }

        if (GracePeriod < TimeSpan.Zero || GracePeriod > TimeSpan.FromHours(1))
        {
            throw new ArgumentException($"{SectionName}:{nameof(GracePeriod)} must be 0 to 1 hour.");
        }

        if (MaxLineLength is < 80 or > 1_000_000 || MaxOutputPerAttempt < 1024)
        {
            throw new ArgumentException($"{SectionName}:{nameof(MaxLineLength)} must be 80-1000000 and {nameof(MaxOutputPerAttempt)} at least 1024.");
        }

        if (FlushInterval < TimeSpan.FromMilliseconds(10) || FlushInterval > TimeSpan.FromSeconds(10))
        {
            throw new ArgumentException($"{SectionName}:{nameof(FlushInterval)} must be 10 ms to 10 s.");
        }
    }
}
