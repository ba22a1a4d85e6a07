namespace Flow.Sdk;

/// <summary>
/// How long to wait before a retry. Either a fixed list (the n-th retry waits the n-th entry; the last
/// entry repeats) or exponential backoff (<c>base × factor^(n-1)</c>, capped at a maximum).
/// </summary>
public sealed record RetryDelay
{
    private RetryDelay()
    {
    }

    /// <summary>The fixed delays, or null for exponential backoff.</summary>
    public IReadOnlyList<TimeSpan>? Delays { get; private init; }

    /// <summary>The first delay of exponential backoff.</summary>
    public TimeSpan Base { get; private init; }

    /// <summary>The growth factor of exponential backoff (≥ 1).</summary>
    public double Factor { get; private init; } = 2;

    /// <summary>The largest delay of exponential backoff.</summary>
    public TimeSpan Max { get; private init; } = TimeSpan.MaxValue;

    /// <summary>No delay between attempts.</summary>
    public static RetryDelay None { get; } = new() { Delays = [TimeSpan.Zero] };

    /// <summary>A fixed list of delays, e.g. <c>RetryDelay.Fixed(10s, 30s, 60s)</c>; the last one repeats when there are more retries than entries.</summary>
    /// <param name="delays">One or more non-negative delays.</param>
    /// <returns>The policy.</returns>
    public static RetryDelay Fixed(params TimeSpan[] delays)
    {
        ArgumentNullException.ThrowIfNull(delays);
        if (delays.Length == 0 || delays.Any(d => d < TimeSpan.Zero))
        {
            throw new ArgumentException("Give at least one delay, none negative.", nameof(delays));
        }

        return new RetryDelay { Delays = delays.ToArray() };
    }

    /// <summary>Exponential backoff: <paramref name="baseDelay"/>, then × <paramref name="factor"/> per retry, at most <paramref name="max"/>.</summary>
    /// <param name="baseDelay">The first delay (positive).</param>
    /// <param name="factor">The growth factor, at least 1. Defaults to 2.</param>
    /// <param name="max">The cap, or null for none.</param>
    /// <returns>The policy.</returns>
    public static RetryDelay Exponential(TimeSpan baseDelay, double factor = 2, TimeSpan? max = null)
    {
        if (baseDelay <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(baseDelay), baseDelay, "The base delay must be positive.");
        }

        if (!(factor >= 1) || double.IsInfinity(factor))
        {
            throw new ArgumentOutOfRangeException(nameof(factor), factor, "The factor must be a finite number of at least 1.");
        }

        return new RetryDelay { Base = baseDelay, Factor = factor, Max = max ?? TimeSpan.MaxValue };
    }

    /// <summary>The delay before retry number <paramref name="retry"/> (1 for the first retry), before jitter.</summary>
    /// <param name="retry">The retry number, from 1.</param>
    /// <returns>The delay.</returns>
    public TimeSpan GetDelay(int retry)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(retry, 1);
        if (Delays is { } delays)
        {
            return delays[Math.Min(retry, delays.Count) - 1];
        }

        var ticks = Base.Ticks * Math.Pow(Factor, retry - 1);
        return ticks >= Max.Ticks || double.IsInfinity(ticks) ? Max : TimeSpan.FromTicks((long)ticks);
    }
}

/// <summary>How a task's result is cached across runs and flows.</summary>
public sealed record CachePolicy
{
    /// <summary>Computes the cache key from the call; null means "hash of the task name and its JSON input".</summary>
    public Func<CacheKeyContext, string>? KeyFunction { get; init; }

    /// <summary>How long a cached result stays valid, or null for ever.</summary>
    public TimeSpan? Expiration { get; init; }

    /// <summary>When true the task always runs and its result replaces the cached one (a cache refresh).</summary>
    public bool Refresh { get; init; }

    /// <summary>Cache by the task name and a hash of its input.</summary>
    /// <param name="expiration">How long a result stays valid, or null for ever.</param>
    /// <returns>The policy.</returns>
    public static CachePolicy Inputs(TimeSpan? expiration = null) => new() { Expiration = expiration };

    /// <summary>Cache by an explicit key.</summary>
    /// <param name="keyFunction">Computes the key from the call.</param>
    /// <param name="expiration">How long a result stays valid, or null for ever.</param>
    /// <returns>The policy.</returns>
    public static CachePolicy Key(Func<CacheKeyContext, string> keyFunction, TimeSpan? expiration = null)
    {
        ArgumentNullException.ThrowIfNull(keyFunction);
        return new() { KeyFunction = keyFunction, Expiration = expiration };
    }
}

/// <summary>What a cache key function sees.</summary>
/// <param name="TaskName">The task name.</param>
/// <param name="InputJson">The task input as JSON.</param>
/// <param name="FlowName">The calling flow.</param>
/// <param name="RunId">The calling run.</param>
public sealed record CacheKeyContext(string TaskName, string InputJson, string FlowName, string RunId);

/// <summary>Where a task executes.</summary>
public enum TaskExecutionMode
{
    /// <summary>In the episode's process, right away (the default; lowest latency).</summary>
    Inline,

    /// <summary>On the pool's task queue, executed by any worker instance (registered tasks only), like a Durable activity.</summary>
    Distributed,
}

/// <summary>
/// Options of one task call. Immutable; start from <see cref="Default"/> or a named factory and
/// refine with <c>with</c>: <c>TaskOptions.WithRetries(3, RetryDelay.Fixed(10s, 30s, 60s)) with { Timeout = 1min }</c>.
/// </summary>
public sealed record TaskOptions
{
    /// <summary>No retries, no timeout, no cache, inline.</summary>
    public static TaskOptions Default { get; } = new();

    /// <summary>How many times a failed attempt is retried. Default 0.</summary>
    public int Retries { get; init; }

    /// <summary>The delay before each retry. Default: none.</summary>
    public RetryDelay RetryDelay { get; init; } = RetryDelay.None;

    /// <summary>
    /// Random extra delay as a fraction of the delay: 0.5 makes a 10 s delay anything from 10 s to 15 s.
    /// Spreads retries of many runs apart. Default 0.
    /// </summary>
    public double RetryJitterFactor { get; init; }

    /// <summary>Which failures are retried; null retries every failure except cancellation of the run.</summary>
    public Func<Exception, bool>? RetryCondition { get; init; }

    /// <summary>The time limit of one attempt; an attempt over it has its token cancelled and fails with <see cref="TimeoutException"/> (retryable). Null: none.</summary>
    public TimeSpan? Timeout { get; init; }

    /// <summary>The cache policy, or null for no caching.</summary>
    public CachePolicy? Cache { get; init; }

    /// <summary>Tags of the task run.</summary>
    public IReadOnlyList<string> Tags { get; init; } = [];

    /// <summary>Where the task runs. Default <see cref="TaskExecutionMode.Inline"/>.</summary>
    public TaskExecutionMode ExecutionMode { get; init; }

    /// <summary>Retries with delays.</summary>
    /// <param name="retries">The number of retries.</param>
    /// <param name="delay">The delays, or null for none.</param>
    /// <returns>The options.</returns>
    public static TaskOptions WithRetries(int retries, RetryDelay? delay = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(retries);
        return new() { Retries = retries, RetryDelay = delay ?? RetryDelay.None };
    }

    /// <summary>Retries only failures of the given exception types (or subtypes).</summary>
    /// <param name="exceptionTypes">The exception types.</param>
    /// <returns>A retry condition for <see cref="RetryCondition"/>.</returns>
    public static Func<Exception, bool> RetryOn(params Type[] exceptionTypes)
    {
        ArgumentNullException.ThrowIfNull(exceptionTypes);
        var types = exceptionTypes.ToArray();
        return e => types.Any(t => t.IsInstanceOfType(e));
    }

    /// <summary>Caching by inputs.</summary>
    /// <param name="expiration">How long a result stays valid, or null for ever.</param>
    /// <returns>The options.</returns>
    public static TaskOptions Cached(TimeSpan? expiration = null) => new() { Cache = CachePolicy.Inputs(expiration) };

    /// <summary>Distributed execution on any worker.</summary>
    /// <returns>The options.</returns>
    public static TaskOptions Distributed() => new() { ExecutionMode = TaskExecutionMode.Distributed };

    /// <summary>Checks the values and throws <see cref="ArgumentException"/> naming the bad one.</summary>
    public void Validate()
    {
        if (Retries < 0)
        {
            throw new ArgumentException($"{nameof(Retries)} must not be negative (was {Retries}).");
        }

        if (!(RetryJitterFactor >= 0) || double.IsInfinity(RetryJitterFactor))
        {
            throw new ArgumentException($"{nameof(RetryJitterFactor)} must be a finite number of at least 0 (was {RetryJitterFactor}).");
        }

        if (Timeout is { } t && t <= TimeSpan.Zero)
        {
            throw new ArgumentException($"{nameof(Timeout)} must be positive (was {t}).");
        }
    }
}

/// <summary>What a state hook sees.</summary>
/// <param name="RunId">The run.</param>
/// <param name="FlowName">The flow.</param>
/// <param name="State">The final state.</param>
/// <param name="Result">The result as JSON when Completed.</param>
/// <param name="Failure">The failure when Failed or Crashed.</param>
/// <param name="Services">The host's services.</param>
public sealed record FlowHookContext(string RunId, string FlowName, RunState State, string? Result, FailureInfo? Failure, IServiceProvider Services)
{
    /// <summary>
    /// The idempotency key of this hook: the id of the run's final transition event (<c>{runId}.t{index}</c>). Hooks run at least
    /// once (docs/hooks.md): a process that dies while a hook runs, or between the final commit and the hook, leaves the hook owed and
    /// a worker runs it again with the same key. A hook with external side effects passes this key on (an Idempotency-Key header, a
    /// unique column) so the receiving system keeps one effect. Empty only when a hook is invoked outside the engine.
    /// </summary>
    public string IdempotencyKey { get; init; } = string.Empty;
}

/// <summary>
/// A state hook: runs at least once after the run's final state is stored (once, unless the process running it dies first: then again
/// with the same <see cref="FlowHookContext.IdempotencyKey"/>). A hook that throws is recorded as failed and not run again; its failure
/// never changes the run's outcome.
/// </summary>
/// <param name="context">The run's outcome.</param>
/// <param name="cancellationToken">Cancels the hook when the host stops.</param>
/// <returns>A task.</returns>
public delegate Task FlowHook(FlowHookContext context, CancellationToken cancellationToken);

/// <summary>Options of a flow. Immutable; defaults are documented on each property.</summary>
public sealed record FlowOptions
{
    /// <summary>The defaults: no retries, no timeout.</summary>
    public static FlowOptions Default { get; } = new();

    /// <summary>How many times a failed run is retried (each retry is a new attempt that replays nothing: tasks run again unless cached). Default 0.</summary>
    public int Retries { get; init; }

    /// <summary>The delay before each flow retry. Default: none.</summary>
    public RetryDelay RetryDelay { get; init; } = RetryDelay.None;

    /// <summary>The time limit of one attempt, measured durably from its start (sleeping counts). Over it, the run fails with <see cref="TimeoutException"/>. Null: none.</summary>
    public TimeSpan? Timeout { get; init; }

    /// <summary>The flow's version, recorded with each run.</summary>
    public string? Version { get; init; }

    /// <summary>A description for people.</summary>
    public string? Description { get; init; }

    /// <summary>Default tags of runs.</summary>
    public IReadOnlyDictionary<string, string> Tags { get; init; } = new Dictionary<string, string>();

    /// <summary>Runs when the run Completed.</summary>
    public FlowHook? OnCompletion { get; init; }

    /// <summary>Runs when the run Failed.</summary>
    public FlowHook? OnFailure { get; init; }

    /// <summary>Runs when the run Crashed.</summary>
    public FlowHook? OnCrashed { get; init; }

    /// <summary>Runs when the run was Cancelled.</summary>
    public FlowHook? OnCancellation { get; init; }
}

/// <summary>Options of a subflow call.</summary>
public sealed record SubflowOptions
{
    /// <summary>Tags for the child run, added to the flow's defaults.</summary>
    public IReadOnlyDictionary<string, string>? Tags { get; init; }
}
