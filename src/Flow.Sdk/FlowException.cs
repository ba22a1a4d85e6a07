namespace Flow.Sdk;

/// <summary>The root of every exception Flow throws.</summary>
public class FlowException : Exception
{
    /// <summary>Creates the exception.</summary>
    public FlowException()
    {
    }

    /// <summary>Creates the exception.</summary>
    /// <param name="message">What went wrong.</param>
    public FlowException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception.</summary>
    /// <param name="message">What went wrong.</param>
    /// <param name="innerException">The cause.</param>
    public FlowException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>
/// Thrown into flow code when a task (or a subflow) failed for good, after its retries. Carries the
/// failure details as they were recorded, so the flow can inspect them and the same exception is
/// thrown again on replay even though the original exception object is long gone.
/// </summary>
public sealed class FlowTaskFailedException : FlowException
{
    /// <summary>Creates the exception.</summary>
    public FlowTaskFailedException()
        : this("unknown", new FailureInfo("unknown", "unknown"))
    {
    }

    /// <summary>Creates the exception.</summary>
    /// <param name="message">What went wrong.</param>
    public FlowTaskFailedException(string message)
        : this("unknown", new FailureInfo("unknown", message))
    {
    }

    /// <summary>Creates the exception.</summary>
    /// <param name="message">What went wrong.</param>
    /// <param name="innerException">The cause.</param>
    public FlowTaskFailedException(string message, Exception innerException)
        : base(message, innerException)
    {
        TaskName = "unknown";
        Failure = FailureInfo.From(innerException);
    }

    /// <summary>Creates the exception for a task's recorded failure.</summary>
    /// <param name="taskName">The task (or subflow) name.</param>
    /// <param name="failure">The recorded failure.</param>
    public FlowTaskFailedException(string taskName, FailureInfo failure)
        : base($"Task '{taskName}' failed: {failure?.Type}: {failure?.Message}")
    {
        ArgumentNullException.ThrowIfNull(failure);
        TaskName = taskName;
        Failure = failure;
    }

    /// <summary>The task (or subflow) name.</summary>
    public string TaskName { get; }

    /// <summary>The recorded failure of the last attempt.</summary>
    public FailureInfo Failure { get; }
}

/// <summary>
/// The flow code asked for a different step than the journal recorded at the same position: the
/// code changed in a way that is not safe for runs already in flight, or it is not deterministic.
/// The run fails with this error and is not retried.
/// </summary>
public sealed class NonDeterminismException : FlowException
{
    /// <summary>Creates the exception.</summary>
    public NonDeterminismException()
    {
    }

    /// <summary>Creates the exception.</summary>
    /// <param name="message">What went wrong.</param>
    public NonDeterminismException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception.</summary>
    /// <param name="message">What went wrong.</param>
    /// <param name="innerException">The cause.</param>
    public NonDeterminismException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
