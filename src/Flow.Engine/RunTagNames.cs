namespace Flow.Engine;

/// <summary>Names of the run tags that Flow itself sets, shared by the engine and the control plane.</summary>
public static class RunTagNames
{
    /// <summary>The tag a scheduled run carries: the id of the schedule that created it.</summary>
    public const string Schedule = "flow.schedule";
}
