namespace Flow.ControlPlane;

/// <summary>The request conflicts with the resource's current state (a paused deployment, a changed version).</summary>
/// <param name="message">What conflicts.</param>
public sealed class ResourceConflictException(string message) : ControlPlaneException(message);
