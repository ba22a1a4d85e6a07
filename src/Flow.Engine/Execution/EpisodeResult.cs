using Flow.Engine.Storage;

namespace Flow.Engine.Execution;

/// <summary>What the host does with the work item after an episode.</summary>
internal enum EpisodeDisposition
{
    /// <summary>Delete it: the run was handled (or needs nothing from this item).</summary>
    Complete,

    /// <summary>Put it back to be delivered again after <see cref="EpisodeResult.RetryAfter"/>.</summary>
    Abandon,
}

/// <summary>How an episode ended, for the host.</summary>
/// <param name="Disposition">What to do with the work item.</param>
/// <param name="Message">The work item as last leased.</param>
/// <param name="RetryAfter">With <see cref="EpisodeDisposition.Abandon"/>: when to deliver it again.</param>
internal sealed record EpisodeResult(EpisodeDisposition Disposition, LeasedWorkItem Message, TimeSpan RetryAfter = default);
