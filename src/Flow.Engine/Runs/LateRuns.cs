using Flow.Engine.Storage;
using Flow.Sdk;

namespace Flow.Engine.Runs;

/// <summary>
/// The one rule for <c>Late</c>, a state that is derived, never stored (DESIGN.md §6): a run that is Scheduled or Pending, has
/// never started, and whose scheduled time passed more than the grace period ago. The API's state name, the run statistics
/// and every store's <see cref="RunQuery.LateCutoff"/> listing use this rule and nothing else.
/// </summary>
public static class LateRuns
{
    /// <summary>Whether a run in <paramref name="state"/> can be Late at all: Scheduled or Pending.</summary>
    /// <param name="state">The stored state.</param>
    /// <returns>True for Scheduled and Pending.</returns>
    public static bool CanBeLate(RunState state) => state is RunState.Scheduled or RunState.Pending;

    /// <summary>The cut-off for <paramref name="now"/>: runs scheduled before it are Late (when <see cref="CanBeLate"/> and not started).</summary>
    /// <param name="now">The current time.</param>
    /// <param name="grace">How long after its scheduled time a run may still start without being Late.</param>
    /// <returns><paramref name="now"/> minus <paramref name="grace"/>.</returns>
    public static DateTimeOffset Cutoff(DateTimeOffset now, TimeSpan grace) => now - grace;

    /// <summary>Whether <paramref name="run"/> is Late at <paramref name="now"/>.</summary>
    /// <param name="run">The run.</param>
    /// <param name="now">The current time.</param>
    /// <param name="grace">The grace period (<c>Flow:ControlPlane:LateAfter</c>).</param>
    /// <returns>True when Late.</returns>
    public static bool IsLate(FlowRunRecord run, DateTimeOffset now, TimeSpan grace) => IsLateAsOf(run, Cutoff(now, grace));

    /// <summary>Whether <paramref name="run"/> is Late as of a cut-off (<see cref="Cutoff"/>): Scheduled or Pending, never started, scheduled before <paramref name="cutoff"/>.</summary>
    /// <param name="run">The run.</param>
    /// <param name="cutoff">The current time minus the grace period.</param>
    /// <returns>True when Late.</returns>
    public static bool IsLateAsOf(FlowRunRecord run, DateTimeOffset cutoff)
    {
        ArgumentNullException.ThrowIfNull(run);
        return CanBeLate(run.State) && run.StartedAt is null && run.ScheduledAt < cutoff;
    }

    /// <summary>Whether <paramref name="run"/> may become Late as time passes (it is Scheduled or Pending and never started), so stores keep it in their due index.</summary>
    /// <param name="run">The run.</param>
    /// <returns>True when the run is a Late candidate.</returns>
    public static bool IsCandidate(FlowRunRecord run)
    {
        ArgumentNullException.ThrowIfNull(run);
        return CanBeLate(run.State) && run.StartedAt is null;
    }

    /// <summary>The state name the API shows: <c>Late</c> when <see cref="IsLate"/>, otherwise the stored state.</summary>
    /// <param name="run">The run.</param>
    /// <param name="now">The current time.</param>
    /// <param name="grace">The grace period.</param>
    /// <returns>The display name.</returns>
    public static string StateName(FlowRunRecord run, DateTimeOffset now, TimeSpan grace) => IsLate(run, now, grace) ? "Late" : run.State.ToString();
}
