namespace Flow.ControlPlane.Automations;

/// <summary>The outcome of one attempt of an action.</summary>
/// <param name="Succeeded">Whether it had its effect.</param>
/// <param name="Permanent">Whether a failure would fail again (no retry).</param>
/// <param name="StatusCode">The HTTP status, for a webhook that answered.</param>
/// <param name="Detail">What it produced (a run id) or why it failed.</param>
public sealed record ActionOutcome(bool Succeeded, bool Permanent, int? StatusCode, string? Detail);
