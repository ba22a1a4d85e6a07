using Flow.Sdk;

namespace Flow.ControlPlane;

/// <summary>
/// The root of the control plane's request errors. The kind of error is the type (invalid, not found, conflict); hosts map the
/// kinds to their own answers (the HTTP API to 400, 404 and 409 problem details).
/// </summary>
public abstract class ControlPlaneException : FlowException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">What went wrong.</param>
    protected ControlPlaneException(string message)
        : base(message)
    {
    }
}
