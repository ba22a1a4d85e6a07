using System.Collections.Concurrent;
using Flow.ControlPlane.Automations;
using Flow.Storage.Azure.Internal;
using SdkQueueServiceClient = Azure.Storage.Queues.QueueServiceClient;

namespace Flow.Storage.Azure;

/// <summary>
/// The queue-message action on Azure Storage queues (docs/automations.md): the message is the rendered body, base64-encoded
/// as Azure Functions queue triggers expect; the queue is created on first use. At least once: a retried action may put the
/// same message twice, and the default body carries the action's idempotency key for the consumer to dedupe.
/// </summary>
/// <param name="queues">The account's Queue service.</param>
public sealed class AzureAutomationQueue(SdkQueueServiceClient queues) : IAutomationQueue
{
    private readonly ConcurrentDictionary<string, bool> _created = new(StringComparer.Ordinal);

    /// <inheritdoc />
    public async Task<string> SendAsync(string queue, string body, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(queue);
        ArgumentNullException.ThrowIfNull(body);
        StorageNames.ValidateQueueName(queue);
        var client = queues.GetQueueClient(queue);
        if (!_created.ContainsKey(queue))
        {
            await client.CreateIfNotExistsAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
            _created[queue] = true;
        }

        var receipt = await client.SendMessageAsync(QueueMessageCodec.ToBase64Wire(body, nameof(body)), cancellationToken).ConfigureAwait(false);
        return receipt.Value.MessageId;
    }
}
