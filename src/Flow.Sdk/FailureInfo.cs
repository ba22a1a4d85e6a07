namespace Flow.Sdk;

/// <summary>
/// What went wrong in a failed attempt, kept as data with the run or task run: the exception's type,
/// message and stack trace, and those of its inner exception chain flattened into the stack.
/// </summary>
/// <param name="Type">The full name of the exception type, e.g. <c>System.InvalidOperationException</c>.</param>
/// <param name="Message">The exception message.</param>
/// <param name="StackTrace">The stack trace, including inner exceptions; may be null.</param>
public sealed record FailureInfo(string Type, string Message, string? StackTrace = null)
{
    /// <summary>Captures an exception.</summary>
    /// <param name="exception">The exception.</param>
    /// <returns>The failure details.</returns>
    public static FailureInfo From(Exception exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        if (exception is FlowTaskFailedException { Failure: { } inner })
        {
            return inner;
        }

        return new FailureInfo(exception.GetType().FullName ?? exception.GetType().Name, exception.Message, exception.ToString());
    }

    /// <inheritdoc />
    public override string ToString() => Type + ": " + Message;
}
