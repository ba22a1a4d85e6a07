using System.Net;

namespace Flow.Client;

/// <summary>
/// The API answered with an error: its problem details (<c>application/problem+json</c>) — the status, title, detail and, for
/// invalid requests, the fields at fault with their messages.
/// </summary>
public sealed class FlowApiException : Exception
{
    /// <summary>Creates the exception from a problem.</summary>
    /// <param name="statusCode">The HTTP status.</param>
    /// <param name="problem">The problem details, or null when the body had none.</param>
    public FlowApiException(HttpStatusCode statusCode, ProblemDetailsView? problem)
        : base(problem?.Detail ?? problem?.Title ?? $"HTTP {(int)statusCode}")
    {
        StatusCode = statusCode;
        Title = problem?.Title ?? statusCode.ToString();
        Detail = problem?.Detail;
        Type = problem?.Type;
        Errors = problem?.Errors ?? new Dictionary<string, string[]>();
    }

    /// <summary>Creates the exception with a message.</summary>
    public FlowApiException()
        : this(HttpStatusCode.InternalServerError, null)
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    /// <param name="message">The message.</param>
    public FlowApiException(string message)
        : this(message, null)
    {
    }

    /// <summary>Creates the exception with a message and its cause.</summary>
    /// <param name="message">The message.</param>
    /// <param name="innerException">The cause.</param>
    public FlowApiException(string message, Exception? innerException)
        : base(message, innerException)
    {
        Title = message;
        Errors = new Dictionary<string, string[]>();
    }

    /// <summary>The HTTP status the API answered with.</summary>
    public HttpStatusCode StatusCode { get; }

    /// <summary>The problem's title, e.g. <c>Not found</c>.</summary>
    public string Title { get; }

    /// <summary>The problem's detail: what went wrong, in a sentence.</summary>
    public string? Detail { get; }

    /// <summary>The problem type URI, e.g. <c>https://flow.dev/problems/validation</c>.</summary>
    public string? Type { get; }

    /// <summary>For an invalid request (400): each field at fault (a JSON path or a query parameter) with its messages.</summary>
    public IReadOnlyDictionary<string, string[]> Errors { get; }
}
