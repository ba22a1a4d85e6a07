namespace Flow.Engine.TestWorker;

/// <summary>The test worker's own settings, bound from <c>CrashTest</c>.</summary>
internal sealed class CrashTestSettings
{
    /// <summary>The configuration section.</summary>
    public const string SectionName = "CrashTest";

    /// <summary>The one flow the worker serves: input = the number of tasks, output = the sum of their squares.</summary>
    public const string FlowName = "twenty-tasks";

    /// <summary>The file each task appends its side-effect line to.</summary>
    public string SideEffectFile { get; set; } = string.Empty;

    /// <summary>How long each task works before its side effect.</summary>
    public TimeSpan TaskDelay { get; set; }

    /// <summary>The call id of the task that stops and waits forever (for the test to kill the process); 0 for none.</summary>
    public int PauseAt { get; set; }

    /// <summary>Whether that task stops before its side effect (true) or right after it (false).</summary>
    public bool PauseBeforeSideEffect { get; set; }

    /// <summary>Whether the flow's OnCompletion hook stops before its side effect and waits forever (it prints "hook started").</summary>
    public bool PauseInHook { get; set; }

    /// <summary>The file the OnCompletion hook appends "{idempotencyKey} {pid} {workerId}" to: the side-effect file plus ".hooks".</summary>
    public string HookFile => SideEffectFile + ".hooks";

    /// <summary>Throws when a required setting is missing.</summary>
    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(SideEffectFile))
        {
            throw new InvalidOperationException($"{SectionName}:{nameof(SideEffectFile)} is required.");
        }
    }
}
