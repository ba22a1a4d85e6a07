using Azure.Core.Pipeline;
using Flow.Storage.Azure.Internal;

namespace Flow.Storage.Azure;

/// <summary>
/// The entry point to an account's Queue service. Create one per account and process (it owns the HTTP pipeline:
/// connection pooling, retries, signing) and get a <see cref="QueueClient"/> per queue from it; clients are cheap
/// and share the pipeline.
/// </summary>
/// <example>
/// <code>
/// var service = new QueueServiceClient(StorageConnection.Parse(connectionString));
/// var queue = service.GetQueueClient("flow-work");
/// await queue.CreateIfNotExistsAsync();
/// await queue.SendMessageAsync("hello", visibilityDelay: TimeSpan.FromMinutes(5));
/// </code>
/// </example>
public sealed class QueueServiceClient
{
    /// <summary>Creates the client.</summary>
    /// <param name="connection">The storage account; it must have a Queue endpoint.</param>
    /// <param name="options">Pipeline options and the message encoding; null for Flow's defaults (base64 messages).</param>
    /// <exception cref="ArgumentException">The connection has no Queue endpoint.</exception>
    public QueueServiceClient(StorageConnection connection, StorageClientOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(connection);
        Uri = connection.QueueEndpoint
            ?? throw new ArgumentException("The storage connection has no Queue endpoint: give QueueEndpoint or AccountName in the connection string, or a queue service URI for identity-based connections.", nameof(connection));
        options ??= new StorageClientOptions();
        MessageEncoding = options.MessageEncoding;
        Pipeline = StoragePipeline.Build(connection, options, StorageService.Queue);
    }

    /// <summary>The Queue service endpoint, ending with '/'.</summary>
    public Uri Uri { get; }

    /// <summary>How the queue clients from this service encode message text (fixed when the service client is created).</summary>
    public QueueMessageEncoding MessageEncoding { get; }

    internal HttpPipeline Pipeline { get; }

    /// <summary>Returns a client for one queue. No request is sent; the queue need not exist yet.</summary>
    /// <param name="queueName">The queue name: 3 to 63 lowercase letters, digits and single hyphens, starting and ending with a letter or digit.</param>
    /// <returns>The queue client.</returns>
    /// <exception cref="ArgumentException">The name breaks Azure's queue naming rules.</exception>
    public QueueClient GetQueueClient(string queueName) => new(this, queueName);
}
