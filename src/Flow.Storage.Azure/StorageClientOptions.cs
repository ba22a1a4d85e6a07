using Azure.Core;
using Azure.Core.Pipeline;

namespace Flow.Storage.Azure;

/// <summary>
/// Options for the Azure SDK Table, Queue and Blob clients Flow builds (<see cref="AzureSdkClients"/>): the Azure.Core pipeline
/// settings (retries of transient failures, network timeout, diagnostics, transport, added policies). Bind from configuration
/// (for example the <c>Flow:Storage</c> section) or set in code.
/// </summary>
/// <remarks>
/// Defaults: up to 5 retries of transient failures (408, 429, 500, 502, 503, 504 and network errors) with
/// exponential back-off from 0.2 s up to 10 s; 30 s network timeout per attempt.
/// </remarks>
public sealed class StorageClientOptions : ClientOptions
{
    /// <summary>Creates options with Flow's defaults.</summary>
    public StorageClientOptions()
    {
        Retry.Mode = RetryMode.Exponential;
        Retry.MaxRetries = 5;
        Retry.Delay = TimeSpan.FromMilliseconds(200);
        Retry.MaxDelay = TimeSpan.FromSeconds(10);
        Retry.NetworkTimeout = TimeSpan.FromSeconds(30);
        Diagnostics.ApplicationId = "flow";
        Diagnostics.IsLoggingContentEnabled = false;
    }

    /// <summary>The policies added with <see cref="AddPolicy"/>, in order; the SDK clients built by <see cref="AzureSdkClients"/> get them too.</summary>
    internal List<(HttpPipelinePolicy Policy, HttpPipelinePosition Position)> AddedPolicies { get; } = [];

    /// <summary>Adds a policy to the pipeline of every client built from these options.</summary>
    /// <param name="policy">The policy.</param>
    /// <param name="position">Where in the pipeline it goes.</param>
    public new void AddPolicy(HttpPipelinePolicy policy, HttpPipelinePosition position)
    {
        base.AddPolicy(policy, position);
        AddedPolicies.Add((policy, position));
    }
}
