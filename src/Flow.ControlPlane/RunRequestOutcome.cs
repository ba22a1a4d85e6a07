namespace Flow.ControlPlane;

/// <summary>What became of a run request.</summary>
/// <param name="RunId">The run, when accepted.</param>
/// <param name="Created">False when the request named a run that existed (a redelivery).</param>
/// <param name="Rejection">Why it was refused, or null when accepted.</param>
public sealed record RunRequestOutcome(string? RunId, bool Created, RejectedRunRequest? Rejection);
