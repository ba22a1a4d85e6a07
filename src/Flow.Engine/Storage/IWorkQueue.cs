namespace Flow.Engine.Storage;

/// <summary>
/// A unit of work on a queue: "run an episode of run X" or "execute call Y of run X on any worker".
/// Small by design (ids, not data): large inputs stay in the journal and the worker reads them.
/// </summary>
public sealed record WorkItem
{
    /// <summary>The item kinds.</summary>
    public const string RunKind = "run";

    /// <summary>A distributed task execution.</summary>
    public const string TaskKind = "task";

    /// <summary>What to do: <see cref="RunKind"/> or <see cref="TaskKind"/>.</summary>
    public required string Kind { get; init; }

    /// <summary>The run.</summary>
    public required string RunId { get; init; }

    /// <summary>The flow-run attempt the item belongs to (0 for any).</summary>
    public int RunAttempt { get; init; }

    /// <summary>For task items: the call id in the run's journal.</summary>
    public int CallId { get; init; }

    /// <summary>For task items: the journal index of the TaskDispatched event carrying the input.</summary>
    public int JournalIndex { get; init; }

    /// <summary>For task items: the task name.</summary>
    public string? Name { get; init; }

    /// <summary>For task items: the task attempt.</summary>
    public int Attempt { get; init; }

    /// <summary>Why the item was sent (start, wake, timer, retry, recover) — for people reading the queue.</summary>
    public string? Reason { get; init; }

    /// <summary>The W3C <c>traceparent</c> of the span that sent the item (an API request, a schedule tick, an episode), so the work it starts continues that trace; null outside a trace.</summary>
    public string? TraceParent { get; init; }
}

/// <summary>A work item taken from a queue: invisible to others until its lease ends.</summary>
/// <param name="Queue">The queue it came from.</param>
/// <param name="Item">The item.</param>
/// <param name="MessageId">The store's id for the message.</param>
/// <param name="Receipt">The lease receipt (an Azure pop receipt). It changes whenever the item is taken, extended or abandoned and stays good until then (even past <paramref name="LeaseUntil"/>) or until the item is removed.</param>
/// <param name="DequeueCount">How many times the item has been taken, including this time.</param>
/// <param name="LeaseUntil">When the lease ends unless extended.</param>
/// <param name="RawBody">The message body as its producer wrote it (before any transport encoding such as Base64), for dead-letter records.</param>
public sealed record LeasedWorkItem(string Queue, WorkItem? Item, string MessageId, string Receipt, int DequeueCount, DateTimeOffset LeaseUntil, string RawBody);

/// <summary>A work item that could not be processed, with the reason.</summary>
/// <param name="Queue">The queue it came from.</param>
/// <param name="MessageId">The original message id.</param>
/// <param name="RawBody">The body as received.</param>
/// <param name="Reason">Why it was dead-lettered.</param>
/// <param name="Timestamp">When (UTC, to the microsecond).</param>
public sealed record DeadLetter(string Queue, string MessageId, string RawBody, string Reason, DateTimeOffset Timestamp);

/// <summary>
/// The work queue contract: at-least-once delivery with visibility delays and leases. Every
/// implementation passes the same conformance suite. Queue names are logical (e.g. <c>runs-default</c>);
/// a store maps them to its own names.
/// </summary>
/// <remarks>
/// Delivery order is not guaranteed (roughly first in, first out). Arguments out of range throw
/// <see cref="ArgumentException"/> (<see cref="StorageContract"/> has the checks); a queue must be ensured before it is
/// used. Every method throws <see cref="OperationCanceledException"/> when its token is cancelled before it completes.
/// </remarks>
public interface IWorkQueue
{
    /// <summary>Creates the queue (and its dead-letter store) if missing. Idempotent.</summary>
    /// <param name="queue">The logical queue name: 1-40 lowercase letters, digits and single hyphens.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>A task.</returns>
    Task EnsureQueueAsync(string queue, CancellationToken cancellationToken);

    /// <summary>Adds an item that becomes visible after <paramref name="delay"/> (zero: now; at most 7 days). Each call adds a message, even for an equal item.</summary>
    /// <param name="queue">The queue.</param>
    /// <param name="item">The item.</param>
    /// <param name="delay">The visibility delay.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>A task.</returns>
    Task EnqueueAsync(string queue, WorkItem item, TimeSpan delay, CancellationToken cancellationToken);

    /// <summary>Takes up to <paramref name="maxItems"/> visible items, hiding each for <paramref name="leaseDuration"/>. Returns an empty list when none is visible; never blocks waiting.</summary>
    /// <param name="queue">The queue.</param>
    /// <param name="maxItems">1-32.</param>
    /// <param name="leaseDuration">How long the items stay invisible (1 s to 7 days). Each take increments the item's <see cref="LeasedWorkItem.DequeueCount"/> and issues a new receipt.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The items. An item whose body cannot be parsed is returned with a null <see cref="LeasedWorkItem.Item"/> so the caller can dead-letter it.</returns>
    Task<IReadOnlyList<LeasedWorkItem>> DequeueAsync(string queue, int maxItems, TimeSpan leaseDuration, CancellationToken cancellationToken);

    /// <summary>Extends a lease from now. The item keeps its dequeue count and gets a new receipt; the old one stops working.</summary>
    /// <param name="item">The leased item (its current receipt).</param>
    /// <param name="leaseDuration">The new lease length from now.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The item with its new receipt and lease end.</returns>
    /// <exception cref="LeaseLostException">The receipt is no longer good: the item was taken again (after the lease expired), its lease was extended or abandoned with a newer receipt, or it was removed. A lease that expired while nobody took the item can still be extended.</exception>
    Task<LeasedWorkItem> ExtendLeaseAsync(LeasedWorkItem item, TimeSpan leaseDuration, CancellationToken cancellationToken);

    /// <summary>Removes a handled item.</summary>
    /// <param name="item">The leased item.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>True when removed; false when the lease was lost (someone else may process it again).</returns>
    Task<bool> CompleteAsync(LeasedWorkItem item, CancellationToken cancellationToken);

    /// <summary>Gives an item back, visible again after <paramref name="delay"/> (0 to 7 days); its receipt stops working.</summary>
    /// <param name="item">The leased item.</param>
    /// <param name="delay">When it becomes visible again.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>True when released; false when the lease was already lost.</returns>
    Task<bool> AbandonAsync(LeasedWorkItem item, TimeSpan delay, CancellationToken cancellationToken);

    /// <summary>Moves an item to the queue's dead letters with a reason, removing it from the queue.</summary>
    /// <param name="item">The leased item.</param>
    /// <param name="reason">Why.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>A task.</returns>
    /// <exception cref="LeaseLostException">The receipt is no longer good (as for <see cref="ExtendLeaseAsync"/>): the item stays where it is; a dead-letter record may or may not have been written.</exception>
    Task DeadLetterAsync(LeasedWorkItem item, string reason, CancellationToken cancellationToken);

    /// <summary>Lists a queue's dead letters, oldest first.</summary>
    /// <param name="queue">The queue.</param>
    /// <param name="maxItems">The most to return, 1-1000.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The dead letters.</returns>
    Task<IReadOnlyList<DeadLetter>> GetDeadLettersAsync(string queue, int maxItems, CancellationToken cancellationToken);

    /// <summary>The approximate number of items in the queue, visible or not.</summary>
    /// <param name="queue">The queue.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The count.</returns>
    Task<int> GetApproximateCountAsync(string queue, CancellationToken cancellationToken);
}

/// <summary>A queue lease was lost: the item became visible again and may be processed by someone else.</summary>
public sealed class LeaseLostException : FlowStoreException
{
    /// <summary>Creates the exception.</summary>
    public LeaseLostException()
    {
    }

    /// <summary>Creates the exception.</summary>
    /// <param name="message">What went wrong.</param>
    public LeaseLostException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception.</summary>
    /// <param name="message">What went wrong.</param>
    /// <param name="innerException">The cause.</param>
    public LeaseLostException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
