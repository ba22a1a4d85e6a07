using Azure.Core;
using Azure.Core.Pipeline;

namespace Flow.Storage.Azure;

/// <summary>
/// Options for Flow's Table and Queue clients: the Azure.Core pipeline settings (retries of transient
/// failures, network timeout, diagnostics) plus the queue message encoding. Bind from configuration
/// (for example the <c>Flow:Storage</c> section) or set in code.
/// </summary>
/// <remarks>
/// Defaults: up to 5 retries of transient failures (408, 429, 500, 502, 503, 504 and network errors) with
/// exponential back-off from 0.2 s up to 10 s; 30 s network timeout per attempt; base64 message encoding
/// (what the Azure Functions queue trigger expects by default).
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

    /// <summary>
    /// How queue message text is put on the wire. <see cref="QueueMessageEncoding.Base64"/> (the default) is what the
    /// Functions queue trigger and the official SDKs' Functions-compatible settings expect.
    /// </summary>
    public QueueMessageEncoding MessageEncoding { get; set; } = QueueMessageEncoding.Base64;

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

/// <summary>How queue message text is encoded on the wire.</summary>
public enum QueueMessageEncoding
{
    /// <summary>UTF-8 bytes of the text, base64-encoded (the Azure Functions default, <c>messageEncoding: base64</c>).</summary>
    Base64 = 0,

    /// <summary>The text as-is, XML-escaped (Functions' <c>messageEncoding: none</c>).</summary>
    None = 1,
}
