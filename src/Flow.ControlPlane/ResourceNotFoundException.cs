namespace Flow.ControlPlane;

/// <summary>A named resource does not exist.</summary>
/// <param name="message">What is missing.</param>
public sealed class ResourceNotFoundException(string message) : ControlPlaneException(message);
