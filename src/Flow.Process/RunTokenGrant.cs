namespace Flow.Process;

/// <summary>What a valid run token grants (<see cref="RunTokens.ValidateGrantAsync"/>).</summary>
/// <param name="RunId">The one run it reaches.</param>
/// <param name="HookOnly">
/// True for a hook token: the subprocess was started only to run the finished run's owed state hook; it may read the run and write
/// the hook's record, never a state change (docs/hooks.md).
/// </param>
public sealed record RunTokenGrant(string RunId, bool HookOnly);
