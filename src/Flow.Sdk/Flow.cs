namespace Flow.Sdk;

/// <summary>
/// A flow: a durable C# entry point with a typed input and result. Subclass it, give it a name with
/// <see cref="FlowAttribute"/> and register it with <c>services.AddFlow(r =&gt; r.AddFlow&lt;MyFlow&gt;())</c>.
/// Instances are created per episode through dependency injection.
/// </summary>
/// <remarks>
/// <see cref="RunAsync"/> is replayed after every durable wait and after a crash, so it must be
/// deterministic: take time, GUIDs, random numbers, sleeps and logging from the <see cref="FlowContext"/>,
/// do I/O only in tasks, and await only what the context returns. See <see cref="FlowContext"/>.
/// </remarks>
/// <typeparam name="TInput">The parameters' type (deserialized from JSON).</typeparam>
/// <typeparam name="TOutput">The result's type (serialized to JSON).</typeparam>
public abstract class Flow<TInput, TOutput>
{
    /// <summary>The flow's code.</summary>
    /// <param name="context">The flow context: the only door to tasks, time, waits and logging.</param>
    /// <param name="input">The parameters.</param>
    /// <returns>The result.</returns>
    public abstract Task<TOutput> RunAsync(FlowContext context, TInput input);

    /// <summary>Options (retries, timeout, version, hooks); override to change the defaults.</summary>
    public virtual FlowOptions Options => FlowOptions.Default;
}

/// <summary>
/// A registered task type: typed input and result, created through dependency injection, callable by
/// name from any flow and able to run distributed on any worker instance.
/// </summary>
/// <typeparam name="TInput">The input type.</typeparam>
/// <typeparam name="TOutput">The result type.</typeparam>
public abstract class FlowTask<TInput, TOutput>
{
    /// <summary>The task's code. Tasks may do I/O and need not be deterministic; honour the context's cancellation token.</summary>
    /// <param name="context">The task context.</param>
    /// <param name="input">The input.</param>
    /// <returns>The result.</returns>
    public abstract Task<TOutput> RunAsync(TaskContext context, TInput input);

    /// <summary>Default options of calls to this task; a call's own options replace them.</summary>
    public virtual TaskOptions Options => TaskOptions.Default;
}

/// <summary>The result type of tasks and flows that return nothing.</summary>
public readonly record struct Unit
{
    /// <summary>The value.</summary>
    public static Unit Value => default;
}
