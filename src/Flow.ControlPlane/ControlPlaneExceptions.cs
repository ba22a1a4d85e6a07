using Flow.Sdk;

namespace Flow.ControlPlane;

/// <summary>
/// The root of the control plane's request errors. The kind of error is the type (invalid, not found, conflict); hosts map the
/// kinds to their own answers (the HTTP API to 400, 404 and 409 problem details).
/// </summary>
public abstract class ControlPlaneException : FlowException
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">What went wrong.</param>
    protected ControlPlaneException(string message)
        : base(message)
    {
    }
}

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

/// <summary>A named resource does not exist.</summary>
/// <param name="message">What is missing.</param>
public sealed class ResourceNotFoundException(string message) : ControlPlaneException(message);

/// <summary>The request conflicts with the resource's current state (a paused deployment, a changed version).</summary>
/// <param name="message">What conflicts.</param>
public sealed class ResourceConflictException(string message) : ControlPlaneException(message);

/// <summary>Collects field errors and throws them together.</summary>
internal sealed class ErrorList
{
    private readonly Dictionary<string, List<string>> _errors = new(StringComparer.Ordinal);

    public bool Any => _errors.Count > 0;

    public void Add(string field, string message)
    {
        if (!_errors.TryGetValue(field, out var list))
        {
            _errors[field] = list = [];
        }

        list.Add(message);
    }

    public IReadOnlyDictionary<string, string[]> ToDictionary() => _errors.ToDictionary(e => e.Key, e => e.Value.ToArray(), StringComparer.Ordinal);

    public void ThrowIfAny()
    {
        if (_errors.Count > 0)
        {
            throw new InvalidRequestException(_errors.ToDictionary(e => e.Key, e => e.Value.ToArray(), StringComparer.Ordinal));
        }
    }
}
