using System.Text.Json;
using Flow.Engine.Storage.InMemory;

namespace Flow.Engine.Storage;

/// <summary>
/// An <see cref="IWorkQueue"/> for hosts that own message delivery, such as the Azure Functions queue trigger: the host
/// received the message, keeps it invisible while the invocation runs, deletes it when the invocation succeeds and
/// delivers it again (finally to its poison queue) when it fails. Items made by <see cref="Wrap"/> are settled here
/// without touching the message: extending a lease and completing are no-ops (the host does both), giving an item back
/// with a delay enqueues a copy with that delay (the host then deletes the original), and dead-lettering throws
/// <see cref="DeadLetterRequestedException"/> so the invocation fails. Every other call, and items the engine dequeued
/// itself, go to the inner queue.
/// </summary>
public sealed class DeliveredWorkQueue : IWorkQueue
{
    private const string ReceiptPrefix = "delivered:";
    private readonly IWorkQueue _inner;
    private readonly TimeProvider _time;

    /// <summary>Wraps a queue.</summary>
    /// <param name="inner">The queue the host delivers from and the engine enqueues to.</param>
    /// <param name="timeProvider">The clock; the system clock when null.</param>
    public DeliveredWorkQueue(IWorkQueue inner, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(inner);
        _inner = inner;
        _time = timeProvider ?? TimeProvider.System;
    }

    /// <summary>The wrapped queue.</summary>
    public IWorkQueue Inner => _inner;

    /// <summary>Makes a work item of a message the host delivered.</summary>
    /// <param name="queue">The queue's logical name (as given to <see cref="IWorkQueue"/>, e.g. <c>runs-default</c>).</param>
    /// <param name="rawBody">The message text (a JSON work item).</param>
    /// <param name="messageId">The message id.</param>
    /// <param name="dequeueCount">How many times the host delivered it, from 1.</param>
    /// <param name="leaseDuration">How long the host keeps it invisible.</param>
    /// <returns>The item; its <see cref="LeasedWorkItem.Item"/> is null when the text is not a work item.</returns>
    public LeasedWorkItem Wrap(string queue, string rawBody, string messageId, int dequeueCount, TimeSpan leaseDuration)
    {
        ArgumentNullException.ThrowIfNull(rawBody);
        ArgumentException.ThrowIfNullOrEmpty(messageId);
        return new LeasedWorkItem(queue, ParseWorkItem(rawBody), messageId, ReceiptPrefix + messageId, Math.Max(1, dequeueCount), _time.GetUtcNow() + leaseDuration, rawBody);
    }

    /// <summary>Parses a JSON work item (<c>{"kind":"run","runId":"..."}</c>, camelCase).</summary>
    /// <param name="body">The text.</param>
    /// <returns>The item, or null when the text is not one.</returns>
    public static WorkItem? ParseWorkItem(string body)
    {
        try
        {
            return JsonSerializer.Deserialize(body, WorkItemJson.Default.WorkItem) is { Kind.Length: > 0, RunId.Length: > 0 } item ? item : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static bool IsDelivered(LeasedWorkItem item) => item.Receipt.StartsWith(ReceiptPrefix, StringComparison.Ordinal);

    /// <inheritdoc />
    public Task EnsureQueueAsync(string queue, CancellationToken cancellationToken) => _inner.EnsureQueueAsync(queue, cancellationToken);

    /// <inheritdoc />
    public Task EnqueueAsync(string queue, WorkItem item, TimeSpan delay, CancellationToken cancellationToken) => _inner.EnqueueAsync(queue, item, delay, cancellationToken);

    /// <inheritdoc />
    public Task<IReadOnlyList<LeasedWorkItem>> DequeueAsync(string queue, int maxItems, TimeSpan leaseDuration, CancellationToken cancellationToken) =>
        _inner.DequeueAsync(queue, maxItems, leaseDuration, cancellationToken);

    /// <inheritdoc />
    public Task<LeasedWorkItem> ExtendLeaseAsync(LeasedWorkItem item, TimeSpan leaseDuration, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(item);
        if (!IsDelivered(item))
        {
            return _inner.ExtendLeaseAsync(item, leaseDuration, cancellationToken);
        }

        cancellationToken.ThrowIfCancellationRequested();
        return Task.FromResult(item with { LeaseUntil = _time.GetUtcNow() + leaseDuration });
    }

    /// <inheritdoc />
    public Task<bool> CompleteAsync(LeasedWorkItem item, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(item);
        return IsDelivered(item) ? Task.FromResult(true) : _inner.CompleteAsync(item, cancellationToken);
    }

    /// <inheritdoc />
    public async Task<bool> AbandonAsync(LeasedWorkItem item, TimeSpan delay, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(item);
        if (!IsDelivered(item))
        {
            return await _inner.AbandonAsync(item, delay, cancellationToken).ConfigureAwait(false);
        }

        if (item.Item is null)
        {
            throw new DeadLetterRequestedException("The message is not a Flow work item and cannot be delivered again.");
        }

        await _inner.EnqueueAsync(item.Queue, item.Item, delay, cancellationToken).ConfigureAwait(false);
        return true;
    }

    /// <inheritdoc />
    public Task DeadLetterAsync(LeasedWorkItem item, string reason, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(item);
        return IsDelivered(item) ? throw new DeadLetterRequestedException(reason) : _inner.DeadLetterAsync(item, reason, cancellationToken);
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<DeadLetter>> GetDeadLettersAsync(string queue, int maxItems, CancellationToken cancellationToken) =>
        _inner.GetDeadLettersAsync(queue, maxItems, cancellationToken);

    /// <inheritdoc />
    public Task<int> GetApproximateCountAsync(string queue, CancellationToken cancellationToken) => _inner.GetApproximateCountAsync(queue, cancellationToken);
}

/// <summary>A host-delivered work item cannot be processed; the host should stop delivering it (its poison queue takes it).</summary>
public sealed class DeadLetterRequestedException : FlowStoreException
{
    /// <summary>Creates the exception.</summary>
    public DeadLetterRequestedException()
    {
    }

    /// <summary>Creates the exception.</summary>
    /// <param name="message">Why.</param>
    public DeadLetterRequestedException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception.</summary>
    /// <param name="message">Why.</param>
    /// <param name="innerException">The cause.</param>
    public DeadLetterRequestedException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
