namespace Flow.Client;

/// <summary>The body of <c>POST /api/runs/{id}/cancel</c> (optional).</summary>
/// <param name="Reason">Why; it becomes the run's state message.</param>
public sealed record CancelRunRequest(string? Reason);
