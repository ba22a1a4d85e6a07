namespace Flow.ControlPlane;

/// <summary>A request is malformed: every offending field is listed with what is wrong with it.</summary>
public sealed class InvalidRequestException : ControlPlaneException
{
    /// <summary>Creates the exception for one field.</summary>
    /// <param name="field">The field (a JSON path such as <c>schedules[0].cron</c>).</param>
    /// <param name="message">What is wrong.</param>
    public InvalidRequestException(string field, string message)
        : this(new Dictionary<string, string[]>(StringComparer.Ordinal) { [field] = [message] })
    {
    }

    /// <summary>Creates the exception for several fields.</summary>
    /// <param name="errors">Field → messages.</param>
    public InvalidRequestException(IReadOnlyDictionary<string, string[]> errors)
        : base(Describe(errors)) => Errors = errors;

    /// <summary>Field → messages.</summary>
    public IReadOnlyDictionary<string, string[]> Errors { get; }

    private static string Describe(IReadOnlyDictionary<string, string[]> errors)
    {
        ArgumentNullException.ThrowIfNull(errors);
        return string.Join("; ", errors.SelectMany(e => e.Value.Select(m => $"{e.Key}: {m}")));
    }
}
