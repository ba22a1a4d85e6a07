namespace Flow.ControlPlane.Automations;

/// <summary>The action types of <see cref="AutomationAction.Type"/>.</summary>
public static class AutomationActionTypes
{
    /// <summary>Starts a run of a deployment (one run per firing and action: its id derives from both).</summary>
    public const string RunDeployment = "run-deployment";

    /// <summary>Pauses a deployment.</summary>
    public const string PauseDeployment = "pause-deployment";

    /// <summary>Resumes a deployment.</summary>
    public const string ResumeDeployment = "resume-deployment";

    /// <summary>Pauses a work pool.</summary>
    public const string PausePool = "pause-pool";

    /// <summary>Resumes a work pool.</summary>
    public const string ResumePool = "resume-pool";

    /// <summary>Asks a run to cancel.</summary>
    public const string CancelRun = "cancel-run";

    /// <summary>Moves a run to another state (Crashed or Cancelled).</summary>
    public const string ChangeRunState = "change-run-state";

    /// <summary>Stores an event.</summary>
    public const string SendEvent = "send-event";

    /// <summary>POSTs a JSON body to a URL, HMAC-signed, retried with back-off.</summary>
    public const string CallWebhook = "call-webhook";

    /// <summary>Puts a message on an Azure Storage queue (Azure backend only).</summary>
    public const string QueueMessage = "queue-message";

    /// <summary>All types.</summary>
    public static IReadOnlyList<string> All { get; } =
        [RunDeployment, PauseDeployment, ResumeDeployment, PausePool, ResumePool, CancelRun, ChangeRunState, SendEvent, CallWebhook, QueueMessage];
}
