using Azure;
using Azure.Core;
using SdkBlobClientOptions = Azure.Storage.Blobs.BlobClientOptions;
using SdkBlobServiceClient = Azure.Storage.Blobs.BlobServiceClient;
using SdkQueueClientOptions = Azure.Storage.Queues.QueueClientOptions;
using SdkQueueServiceClient = Azure.Storage.Queues.QueueServiceClient;
using SdkTableClientOptions = Azure.Data.Tables.TableClientOptions;
using SdkTableServiceClient = Azure.Data.Tables.TableServiceClient;

namespace Flow.Storage.Azure;

/// <summary>
/// Builds the Azure SDK service clients (<c>Azure.Data.Tables.TableServiceClient</c>, <c>Azure.Storage.Queues.QueueServiceClient</c>,
/// <c>Azure.Storage.Blobs.BlobServiceClient</c>) for a <see cref="StorageConnection"/>: an account key, a shared access signature or a
/// Microsoft Entra ID token credential, on the connection's endpoints. The retry layer is the SDK pipeline's, configured from
/// <see cref="StorageClientOptions"/> (exponential, 5 retries, 0.2-10 s, 30 s network timeout by default); nothing retries on top of it.
/// Queue clients use the SDK's <c>QueueMessageEncoding.None</c>: <see cref="AzureWorkQueue"/> base64-encodes its messages itself.
/// </summary>
public static class AzureSdkClients
{
    /// <summary>Creates the Table service client.</summary>
    /// <param name="connection">The connection; its Table endpoint must be set.</param>
    /// <param name="options">Retry, timeout and transport settings; null for Flow's defaults.</param>
    /// <returns>The client.</returns>
    /// <exception cref="StorageConfigurationException">The connection has no Table endpoint.</exception>
    public static SdkTableServiceClient CreateTableService(StorageConnection connection, StorageClientOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(connection);
        var endpoint = WithoutTrailingSlash(connection.TableEndpoint
            ?? throw new StorageConfigurationException("TableEndpoint", "The storage connection has no Table service endpoint: give AccountName, TableEndpoint or tableServiceUri."));
        var sdkOptions = Configure(new SdkTableClientOptions(), options);
        if (connection.TokenCredential is { } token)
        {
            return new SdkTableServiceClient(endpoint, token, sdkOptions);
        }

        if (connection.CreateTableSharedKey() is { } key)
        {
            return new SdkTableServiceClient(endpoint, key, sdkOptions);
        }

        return new SdkTableServiceClient(endpoint, new AzureSasCredential(connection.SharedAccessSignature!), sdkOptions);
    }

    /// <summary>Creates the Queue service client (message encoding <c>None</c>: callers encode).</summary>
    /// <param name="connection">The connection; its Queue endpoint must be set.</param>
    /// <param name="options">Retry, timeout and transport settings; null for Flow's defaults.</param>
    /// <returns>The client.</returns>
    /// <exception cref="StorageConfigurationException">The connection has no Queue endpoint.</exception>
    public static SdkQueueServiceClient CreateQueueService(StorageConnection connection, StorageClientOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(connection);
        var endpoint = WithoutTrailingSlash(connection.QueueEndpoint
            ?? throw new StorageConfigurationException("QueueEndpoint", "The storage connection has no Queue service endpoint: give AccountName, QueueEndpoint or queueServiceUri."));
        var sdkOptions = Configure(new SdkQueueClientOptions { MessageEncoding = global::Azure.Storage.Queues.QueueMessageEncoding.None }, options);
        if (connection.TokenCredential is { } token)
        {
            return new SdkQueueServiceClient(endpoint, token, sdkOptions);
        }

        if (connection.SharedKey is { } key)
        {
            return new SdkQueueServiceClient(endpoint, key, sdkOptions);
        }

        return new SdkQueueServiceClient(endpoint, new AzureSasCredential(connection.SharedAccessSignature!), sdkOptions);
    }

    /// <summary>Creates the Blob service client.</summary>
    /// <param name="connection">The connection; its Blob endpoint must be set.</param>
    /// <param name="options">Retry, timeout and transport settings; null for Flow's defaults.</param>
    /// <returns>The client.</returns>
    /// <exception cref="StorageConfigurationException">The connection has no Blob endpoint.</exception>
    public static SdkBlobServiceClient CreateBlobService(StorageConnection connection, StorageClientOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(connection);
        var endpoint = WithoutTrailingSlash(connection.BlobEndpoint
            ?? throw new StorageConfigurationException("BlobEndpoint", "The storage connection has no Blob service endpoint: give AccountName, BlobEndpoint or blobServiceUri."));
        var sdkOptions = Configure(new SdkBlobClientOptions(), options);
        if (connection.TokenCredential is { } token)
        {
            return new SdkBlobServiceClient(endpoint, token, sdkOptions);
        }

        if (connection.SharedKey is { } key)
        {
            return new SdkBlobServiceClient(endpoint, key, sdkOptions);
        }

        return new SdkBlobServiceClient(endpoint, new AzureSasCredential(connection.SharedAccessSignature!), sdkOptions);
    }

    // The SDKs append "/Tables", "/{queue}" to the endpoint as given: a trailing slash would double the separator.
    private static Uri WithoutTrailingSlash(Uri endpoint) =>
        endpoint.AbsolutePath.Length > 1 && endpoint.AbsoluteUri.EndsWith('/') ? new Uri(endpoint.AbsoluteUri.TrimEnd('/')) : endpoint;

    /// <summary>Copies Flow's retry, timeout, transport and diagnostics settings onto an SDK client's options.</summary>
    private static T Configure<T>(T target, StorageClientOptions? source)
        where T : ClientOptions
    {
        source ??= new StorageClientOptions();
        target.Retry.Mode = source.Retry.Mode;
        target.Retry.MaxRetries = source.Retry.MaxRetries;
        target.Retry.Delay = source.Retry.Delay;
        target.Retry.MaxDelay = source.Retry.MaxDelay;
        target.Retry.NetworkTimeout = source.Retry.NetworkTimeout;
        target.Diagnostics.ApplicationId = source.Diagnostics.ApplicationId;
        target.Diagnostics.IsLoggingContentEnabled = source.Diagnostics.IsLoggingContentEnabled;
        if (source.Transport is not null)
        {
            target.Transport = source.Transport;
        }

        foreach (var (policy, position) in source.AddedPolicies)
        {
            target.AddPolicy(policy, position);
        }

        return target;
    }
}
