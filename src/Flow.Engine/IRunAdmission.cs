using Flow.Engine.Storage;

namespace Flow.Engine;

/// <summary>
/// Decides whether a run may start now. The engine asks before an episode first moves a run from Scheduled or
/// Pending to Running (not for resumptions or flow retries); a host registers one in DI to apply deployment and
/// work-pool pauses and concurrency limits. Implementations must be idempotent: the engine may ask again for the
/// same run (after a lost race for the run's version, or when a deferred run comes back).
/// </summary>
public interface IRunAdmission
{
    /// <summary>Decides for one run.</summary>
    /// <param name="run">The run as read, not yet leased.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The decision.</returns>
    ValueTask<AdmissionDecision> AdmitAsync(FlowRunRecord run, CancellationToken cancellationToken);
}

/// <summary>What <see cref="IRunAdmission"/> decided.</summary>
public enum AdmissionKind
{
    /// <summary>Start the run.</summary>
    Admit,

    /// <summary>Leave it waiting and ask again after <see cref="AdmissionDecision.RetryAfter"/>.</summary>
    Defer,

    /// <summary>Cancel it without starting it.</summary>
    Reject,
}

/// <summary>A decision of <see cref="IRunAdmission"/>.</summary>
/// <param name="Kind">The decision.</param>
/// <param name="RetryAfter">For <see cref="AdmissionKind.Defer"/>: when to ask again.</param>
/// <param name="Reason">Why (for logs and, on rejection, the run's state message).</param>
public readonly record struct AdmissionDecision(AdmissionKind Kind, TimeSpan RetryAfter, string? Reason)
{
    /// <summary>Start the run.</summary>
    public static AdmissionDecision Admit { get; } = new(AdmissionKind.Admit, TimeSpan.Zero, null);

    /// <summary>Ask again later.</summary>
    /// <param name="retryAfter">When.</param>
    /// <param name="reason">Why.</param>
    /// <returns>The decision.</returns>
    public static AdmissionDecision Defer(TimeSpan retryAfter, string reason) => new(AdmissionKind.Defer, retryAfter, reason);

    /// <summary>Cancel the run.</summary>
    /// <param name="reason">Why.</param>
    /// <returns>The decision.</returns>
    public static AdmissionDecision Reject(string reason) => new(AdmissionKind.Reject, TimeSpan.Zero, reason);
}
