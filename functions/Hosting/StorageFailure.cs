using System.Net.Sockets;

namespace Flow.Functions.Hosting;

/// <summary>
/// Tells a storage failure that retrying can cure (the service is down or unreachable) from a configuration that can never
/// work: the account rejects the credentials (HTTP 403 <c>AuthenticationFailed</c>) or the account's host name does not
/// exist. Reads the HTTP status and error code the storage clients report (<c>Status</c>, <c>ErrorCode</c>) by name, so it
/// holds for Flow's own clients and for the Azure SDKs' <c>RequestFailedException</c> alike. Messages name the setting,
/// never a secret.
/// </summary>
internal static class StorageFailure
{
    /// <summary>The setting that holds the Azure Storage connection.</summary>
    public const string Setting = "AzureWebJobsStorage";

    /// <summary>Why this failure can never be cured by retrying, or null when it may be.</summary>
    /// <param name="error">The failure.</param>
    /// <param name="attempt">How many times in a row the storage has failed (an unknown host counts only from the third).</param>
    /// <returns>A message naming the setting, or null.</returns>
    public static string? Permanent(Exception error, int attempt)
    {
        for (var e = error; e is not null; e = e.InnerException)
        {
            var (status, code) = (Read<int>(e, "Status"), Read<string>(e, "ErrorCode"));
            if (status == 403 && (code is null || code.Contains("Authentication", StringComparison.OrdinalIgnoreCase) || code.Contains("Authorization", StringComparison.OrdinalIgnoreCase)))
            {
                return $"the storage account refused the credentials ({code ?? "HTTP 403"}): check the account name and key (or the identity's data roles) in the {Setting} setting";
            }

            if (e is SocketException { SocketErrorCode: SocketError.HostNotFound } && attempt >= 3)
            {
                return $"the storage account's host name does not exist ({e.Message}): check the account name or endpoints in the {Setting} setting";
            }
        }

        return null;
    }

    /// <summary>Whether a failure means the storage could not be reached or did not answer (a transport failure, status 0, a timeout).</summary>
    /// <param name="error">The failure.</param>
    /// <returns>True for an outage, false for an answer the storage gave.</returns>
    public static bool IsUnreachable(Exception error)
    {
        for (var e = error; e is not null; e = e.InnerException)
        {
            if (e is HttpRequestException or SocketException or TimeoutException || (e.GetType().GetProperty("Status") is not null && Read<int>(e, "Status") == 0))
            {
                return true;
            }
        }

        return false;
    }

    private static T? Read<T>(Exception e, string property) =>
        e.GetType().GetProperty(property)?.GetValue(e) is T value ? value : default;
}
