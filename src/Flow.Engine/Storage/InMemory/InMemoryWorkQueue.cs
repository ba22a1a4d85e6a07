using System.Text.Json;
using System.Text.Json.Serialization;

namespace Flow.Engine.Storage.InMemory;

/// <summary>
/// An <see cref="IWorkQueue"/> in process memory, for tests and the local test host. It behaves like the
/// durable queues — the same conformance suite proves it: items are stored as JSON bodies, visibility delays and
/// leases follow the injected <see cref="TimeProvider"/> (so a fake clock drives them), every take and every lease
/// change issues a new receipt and invalidates the old one, and an unparseable body comes back with a null item.
/// A receipt stays valid until the item is taken again, its lease is changed, or it is removed — as Azure's pop
/// receipts do. Thread-safe.
/// </summary>
public sealed class InMemoryWorkQueue : IWorkQueue
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, QueueState> _queues = new(StringComparer.Ordinal);
    private readonly TimeProvider _timeProvider;
    private long _sequence;

    /// <summary>Creates an empty set of queues.</summary>
    /// <param name="timeProvider">The clock for delays, leases and dead-letter times; the system clock when null.</param>
    public InMemoryWorkQueue(TimeProvider? timeProvider = null)
    {
        _timeProvider = timeProvider ?? TimeProvider.System;
    }

    /// <inheritdoc />
    public Task EnsureQueueAsync(string queue, CancellationToken cancellationToken)
    {
        StorageContract.ValidateQueueName(queue);
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            _queues.TryAdd(queue, new QueueState());
        }

        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public Task EnqueueAsync(string queue, WorkItem item, TimeSpan delay, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(item);
        return EnqueueRawAsync(queue, JsonSerializer.Serialize(item, WorkItemJson.Default.WorkItem), delay, cancellationToken);
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<LeasedWorkItem>> DequeueAsync(string queue, int maxItems, TimeSpan leaseDuration, CancellationToken cancellationToken)
    {
        StorageContract.ValidateDequeue(queue, maxItems, leaseDuration);
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            var now = _timeProvider.GetUtcNow();
            var taken = Queue(queue).Messages
                .Where(m => m.VisibleAt <= now)
                .OrderBy(m => m.VisibleAt)
                .ThenBy(m => m.Sequence)
                .Take(maxItems)
                .ToArray();
            var leased = new List<LeasedWorkItem>(taken.Length);
            foreach (var message in taken)
            {
                message.DequeueCount++;
                leased.Add(Lease(queue, message, now + leaseDuration));
            }

            return Task.FromResult<IReadOnlyList<LeasedWorkItem>>(leased);
        }
    }

    /// <inheritdoc />
    public Task<LeasedWorkItem> ExtendLeaseAsync(LeasedWorkItem item, TimeSpan leaseDuration, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(item);
        StorageContract.ValidateLease(leaseDuration);
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            var message = Held(item) ?? throw new LeaseLostException(
                $"Message '{item.MessageId}' on queue '{item.Queue}' was taken again or removed since this lease was issued.");
            return Task.FromResult(Lease(item.Queue, message, _timeProvider.GetUtcNow() + leaseDuration));
        }
    }

    /// <inheritdoc />
    public Task<bool> CompleteAsync(LeasedWorkItem item, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(item);
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            return Task.FromResult(Held(item) is { } message && Queue(item.Queue).Messages.Remove(message));
        }
    }

    /// <inheritdoc />
    public Task<bool> AbandonAsync(LeasedWorkItem item, TimeSpan delay, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(item);
        StorageContract.ValidateDelay(delay);
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            if (Held(item) is not { } message)
            {
                return Task.FromResult(false);
            }

            Lease(item.Queue, message, _timeProvider.GetUtcNow() + delay);
            return Task.FromResult(true);
        }
    }

    /// <inheritdoc />
    public Task DeadLetterAsync(LeasedWorkItem item, string reason, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(item);
        ArgumentNullException.ThrowIfNull(reason);
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            var message = Held(item) ?? throw new LeaseLostException(
                $"Message '{item.MessageId}' on queue '{item.Queue}' was taken again or removed since this lease was issued; it was not dead-lettered.");
            var state = Queue(item.Queue);
            state.Messages.Remove(message);
            state.DeadLetters.Add(new DeadLetter(item.Queue, message.Id, message.Body, reason, StorageContract.NormalizeTime(_timeProvider.GetUtcNow())));
        }

        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<DeadLetter>> GetDeadLettersAsync(string queue, int maxItems, CancellationToken cancellationToken)
    {
        StorageContract.ValidateQueueName(queue);
        StorageContract.ValidatePageSize(maxItems);
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            return Task.FromResult<IReadOnlyList<DeadLetter>>(Queue(queue).DeadLetters.Take(maxItems).ToArray());
        }
    }

    /// <inheritdoc />
    public Task<int> GetApproximateCountAsync(string queue, CancellationToken cancellationToken)
    {
        StorageContract.ValidateQueueName(queue);
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            return Task.FromResult(Queue(queue).Messages.Count);
        }
    }

    /// <summary>Adds a message with any body, as a foreign producer or a corrupted message would (for tests of unparseable bodies).</summary>
    /// <param name="queue">The queue.</param>
    /// <param name="body">The body, stored as given.</param>
    /// <param name="delay">The visibility delay.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>A task.</returns>
    internal Task EnqueueRawAsync(string queue, string body, TimeSpan delay, CancellationToken cancellationToken)
    {
        StorageContract.ValidateQueueName(queue);
        ArgumentNullException.ThrowIfNull(body);
        StorageContract.ValidateDelay(delay);
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            var sequence = ++_sequence;
            Queue(queue).Messages.Add(new Message(Guid.NewGuid().ToString("D"), body, sequence) { VisibleAt = _timeProvider.GetUtcNow() + delay });
        }

        return Task.CompletedTask;
    }

    private static WorkItem? Parse(string body)
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

    private QueueState Queue(string queue) =>
        _queues.TryGetValue(queue, out var state)
            ? state
            : throw new InvalidOperationException($"Queue '{queue}' does not exist; call {nameof(EnsureQueueAsync)} first.");

    /// <summary>The message <paramref name="item"/> leases, if its receipt is still the current one.</summary>
    private Message? Held(LeasedWorkItem item) =>
        _queues.TryGetValue(item.Queue, out var state)
            ? state.Messages.Find(m => m.Id == item.MessageId && m.Receipt == item.Receipt)
            : null;

    /// <summary>Hides <paramref name="message"/> until <paramref name="until"/> under a new receipt.</summary>
    private LeasedWorkItem Lease(string queue, Message message, DateTimeOffset until)
    {
        message.VisibleAt = until;
        message.Receipt = Guid.NewGuid().ToString("N");
        return new LeasedWorkItem(queue, Parse(message.Body), message.Id, message.Receipt, message.DequeueCount, until, message.Body);
    }

    private sealed class QueueState
    {
        public List<Message> Messages { get; } = [];

        public List<DeadLetter> DeadLetters { get; } = [];
    }

    private sealed class Message(string id, string body, long sequence)
    {
        public string Id { get; } = id;

        public string Body { get; } = body;

        public long Sequence { get; } = sequence;

        public DateTimeOffset VisibleAt { get; set; }

        public int DequeueCount { get; set; }

        public string? Receipt { get; set; }
    }
}

/// <summary>The JSON form of a work item on an in-memory queue: camelCase, defaults left out, required members enforced.</summary>
[JsonSourceGenerationOptions(
    JsonSerializerDefaults.Web,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingDefault,
    RespectNullableAnnotations = true)]
[JsonSerializable(typeof(WorkItem))]
internal sealed partial class WorkItemJson : JsonSerializerContext;
