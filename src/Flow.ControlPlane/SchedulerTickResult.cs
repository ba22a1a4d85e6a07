namespace Flow.ControlPlane;

/// <summary>What one scheduler tick did.</summary>
/// <param name="Created">Runs created.</param>
/// <param name="Existing">Occurrences whose run already existed (another scheduler or an earlier tick made it).</param>
public sealed record SchedulerTickResult(int Created, int Existing);
