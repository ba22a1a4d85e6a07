using System.Net;
using System.Text;
using Flow.Client;

namespace Flow.Cli;

/// <summary>The CLI's <see cref="FlowClient"/>: the address and key from options or FLOW_API_URL / FLOW_API_KEY, and its errors as CLI messages.</summary>
internal static class ApiClient
{
    /// <summary>A client of the API at <paramref name="api"/> (else FLOW_API_URL, else http://127.0.0.1:7071) with the key (else FLOW_API_KEY).</summary>
    public static FlowClient Create(string? api, string? apiKey)
    {
        var address = api ?? Environment.GetEnvironmentVariable("FLOW_API_URL") ?? "http://127.0.0.1:7071";
        if (!Uri.TryCreate(address.TrimEnd('/') + "/", UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
        {
            throw new CliException($"'{address}' is not an http(s) address (--api or FLOW_API_URL).");
        }

        return new FlowClient(uri, apiKey ?? Environment.GetEnvironmentVariable("FLOW_API_KEY"));
    }

    /// <summary>What to print for an error answer: the problem's detail, with a hint for a missing key.</summary>
    public static string Describe(FlowApiException e)
    {
        var builder = new StringBuilder(e.Detail ?? $"HTTP {(int)e.StatusCode}");
        if (e.StatusCode == HttpStatusCode.Unauthorized)
        {
            builder.Append(" (set --api-key or FLOW_API_KEY)");
        }

        return builder.ToString();
    }
}
