namespace Flow.Engine;

/// <summary>Worker settings, bound from <c>Flow:Worker</c>. Defaults are documented per property.</summary>
public sealed class FlowWorkerOptions
{
    /// <summary>The configuration section.</summary>
    public const string SectionName = "Flow:Worker";

    /// <summary>The pools whose queues this worker serves. Default: <c>default</c>.</summary>
    public IList<string> Pools { get; } = ["default"];

    /// <summary>The most episodes (run work items) processed at once. Default 16.</summary>
    public int MaxConcurrentRuns { get; set; } = 16;

    /// <summary>The most distributed task attempts executed at once. Default 16.</summary>
    public int MaxConcurrentTasks { get; set; } = 16;

    /// <summary>The shortest wait between polls of an empty queue; doubles while it stays empty. Default 20 ms.</summary>
    public TimeSpan MinPollInterval { get; set; } = TimeSpan.FromMilliseconds(20);

    /// <summary>The longest wait between polls of an empty queue. Default 1 s.</summary>
    public TimeSpan MaxPollInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Whether the worker also executes distributed tasks. Default true.</summary>
    public bool ExecuteTasks { get; set; } = true;
}
