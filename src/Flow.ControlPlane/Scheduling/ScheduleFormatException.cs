namespace Flow.ControlPlane.Scheduling;

/// <summary>
/// A cron expression or time zone that cannot be used: the message says which field or value is
/// wrong, for example <c>Invalid cron expression '61 * * * *': minute value 61 is out of range
/// (0-59).</c>
/// </summary>
/// <remarks>
/// Derives from <see cref="FormatException"/> (as Cronos' <c>CronFormatException</c> does) rather
/// than from <see cref="Flow.Sdk.FlowException"/>, so callers that validate user input can catch
/// the framework's parse-error type.
/// </remarks>
public sealed class ScheduleFormatException : FormatException
{
    /// <summary>Creates the exception.</summary>
    public ScheduleFormatException()
        : base("Invalid schedule.")
    {
    }

    /// <summary>Creates the exception.</summary>
    /// <param name="message">What is wrong.</param>
    public ScheduleFormatException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception.</summary>
    /// <param name="message">What is wrong.</param>
    /// <param name="innerException">The cause.</param>
    public ScheduleFormatException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
