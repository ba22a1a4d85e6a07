namespace Flow.Client;

/// <summary>One time bucket of <see cref="RunStatsView"/>.</summary>
/// <param name="Start">The bucket's start.</param>
/// <param name="Counts">Runs created in the bucket by state name.</param>
public sealed record RunStatsBucket(DateTimeOffset Start, IReadOnlyDictionary<string, int> Counts);
