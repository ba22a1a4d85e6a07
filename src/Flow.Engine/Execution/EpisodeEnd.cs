using Flow.Sdk;

namespace Flow.Engine.Execution;

/// <summary>How the replay core judges a flow whose code finished (or must stop): the driver settles the run accordingly.</summary>
/// <param name="State">Completed, Cancelled or Failed.</param>
/// <param name="Result">The result as JSON when Completed.</param>
/// <param name="Failure">The failure when Failed.</param>
/// <param name="Message">The final transition's message.</param>
/// <param name="MayRetry">Whether the flow's retry policy applies (a failure of the flow code, not of its determinism or size).</param>
internal sealed record EpisodeEnd(RunState State, string? Result, FailureInfo? Failure, string Message, bool MayRetry = false);
