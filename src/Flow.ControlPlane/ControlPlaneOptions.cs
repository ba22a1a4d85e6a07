namespace Flow.ControlPlane;

/// <summary>Options of the control plane (section <c>Flow:ControlPlane</c>).</summary>
public sealed class ControlPlaneOptions
{
    /// <summary>The configuration section.</summary>
    public const string SectionName = "Flow:ControlPlane";

    /// <summary>How far ahead the scheduler creates runs. Default 2 minutes: a tick each minute (the Functions timer) keeps a minute of runs queued with visibility delays, so they start on time between ticks.</summary>
    public TimeSpan Horizon { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>After downtime, occurrences older than this are skipped rather than all run at once. Default 1 hour.</summary>
    public TimeSpan CatchUpWindow { get; set; } = TimeSpan.FromHours(1);

    /// <summary>A run not started this long after its scheduled time shows as Late. Default 60 seconds.</summary>
    public TimeSpan LateAfter { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>The most runs one schedule creates in one tick. Default 100.</summary>
    public int MaxRunsPerSchedulePerTick { get; set; } = 100;

    /// <summary>How often a run held by a concurrency limit or a paused pool asks again. Default 2 seconds.</summary>
    public TimeSpan SlotRetryInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Checks the values.</summary>
    /// <exception cref="ArgumentException">A value is out of range.</exception>
    public void Validate()
    {
        Check(Horizon, TimeSpan.FromSeconds(1), TimeSpan.FromDays(7), nameof(Horizon));
        Check(CatchUpWindow, TimeSpan.Zero, TimeSpan.FromDays(30), nameof(CatchUpWindow));
        Check(LateAfter, TimeSpan.Zero, TimeSpan.FromDays(1), nameof(LateAfter));
        Check(SlotRetryInterval, TimeSpan.FromMilliseconds(100), TimeSpan.FromMinutes(10), nameof(SlotRetryInterval));
        if (MaxRunsPerSchedulePerTick is < 1 or > 10_000)
        {
            throw new ArgumentException($"{SectionName}:{nameof(MaxRunsPerSchedulePerTick)} must be 1-10000.", nameof(MaxRunsPerSchedulePerTick));
        }
    }

    private static void Check(TimeSpan value, TimeSpan min, TimeSpan max, string name)
    {
        if (value < min || value > max)
        {
            throw new ArgumentException($"{SectionName}:{name} is {value}; it must be {min} to {max}.", name);
        }
    }
}
