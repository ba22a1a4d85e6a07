using System.Globalization;
using System.Text;
using System.Text.Json;
using Flow.Engine;
using Flow.Engine.Storage;
using Flow.Storage.Azure.Internal;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using RequestFailedException = Azure.RequestFailedException;
using SdkQueueClient = Azure.Storage.Queues.QueueClient;
using SdkQueueMessage = Azure.Storage.Queues.Models.QueueMessage;
using SdkQueueServiceClient = Azure.Storage.Queues.QueueServiceClient;
using SdkTableClient = Azure.Data.Tables.TableClient;
using SdkTableEntity = Azure.Data.Tables.TableEntity;
using SdkTableServiceClient = Azure.Data.Tables.TableServiceClient;
using SdkTableUpdateMode = Azure.Data.Tables.TableUpdateMode;

namespace Flow.Storage.Azure;

/// <summary>
/// The work queue on Azure Storage queues. Logical queue <c>runs-default</c> is the Azure queue
/// <c>{QueuePrefix}runs-default</c> (<c>flow-runs-default</c>); messages are JSON work items, base64-encoded as the
/// Functions queue trigger expects. Dead letters go where the Functions host puts them, the queue
/// <c>{queue}-poison</c>, and their reasons to the table <c>{TablePrefix}DeadLetters</c> (PartitionKey = logical
/// queue name, RowKey = ISO-8601 time + message id, so oldest first). Thread-safe.
/// Runs on the Azure SDK's <see cref="SdkQueueClient"/> with the SDK's <c>QueueMessageEncoding.None</c> (as <see cref="AzureSdkClients"/>
/// builds it): the work queue puts base64 of the UTF-8 JSON on the wire itself, and reads a message that is not base64 as plain text,
/// as the Functions host does.
/// </summary>
public sealed class AzureWorkQueue : IWorkQueue
{
    /// <summary>The suffix of a queue's poison queue (the Functions host's convention).</summary>
    public const string PoisonSuffix = "-poison";

    // The most UTF-8 bytes of a truncated poison copy: 45 KiB, whose base64 (60 KiB) fits the queue's 64 KiB.
    private const int MaxPoisonTextBytes = 45 * 1024;

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingDefault,
        RespectNullableAnnotations = true,
    };

    // How long a message being dead-lettered stays hidden while it is copied to the poison queue and recorded.
    private static readonly TimeSpan DeadLetterHold = TimeSpan.FromMinutes(1);

    // A time-to-live of -1 s: the message never expires (the SDK's default would be 7 days).
    private static readonly TimeSpan NeverExpires = TimeSpan.FromSeconds(-1);

    private readonly SdkQueueServiceClient _queues;
    private readonly SdkTableClient _deadLetters;
    private readonly AzureFlowStorageOptions _options;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;

    /// <summary>Creates the work queue.</summary>
    /// <param name="queues">The account's Queue service, with the SDK's default message encoding (<c>None</c>): the work queue encodes.</param>
    /// <param name="tables">The account's Table service, for the dead-letter table.</param>
    /// <param name="options">Names and prefixes; null for the defaults.</param>
    /// <param name="logger">Where problems are logged; null for none.</param>
    /// <param name="timeProvider">The clock for dead-letter times; null for the system clock.</param>
    public AzureWorkQueue(SdkQueueServiceClient queues, SdkTableServiceClient tables, AzureFlowStorageOptions? options = null, ILogger<AzureWorkQueue>? logger = null, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(queues);
        ArgumentNullException.ThrowIfNull(tables);
        _options = options ?? new AzureFlowStorageOptions();
        _options.Validate();
        _queues = queues;
        _deadLetters = tables.GetTableClient(_options.DeadLettersTable);
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        _time = timeProvider ?? TimeProvider.System;
    }

    /// <summary>The dead-letter table.</summary>
    public SdkTableClient DeadLettersTable => _deadLetters;

    /// <summary>The Azure queue that carries a logical queue.</summary>
    /// <param name="queue">The logical queue name.</param>
    /// <returns>The Azure queue's client.</returns>
    public SdkQueueClient GetQueueClient(string queue) => _queues.GetQueueClient(AzureName(queue));

    /// <summary>The poison queue of a logical queue.</summary>
    /// <param name="queue">The logical queue name.</param>
    /// <returns>The Azure queue's client.</returns>
    public SdkQueueClient GetPoisonQueueClient(string queue) => _queues.GetQueueClient(AzureName(queue) + PoisonSuffix);

    /// <inheritdoc />
    public async Task EnsureQueueAsync(string queue, CancellationToken cancellationToken)
    {
        var name = AzureName(queue);
        await Task.WhenAll(
            _queues.GetQueueClient(name).CreateIfNotExistsAsync(cancellationToken: cancellationToken),
            _queues.GetQueueClient(name + PoisonSuffix).CreateIfNotExistsAsync(cancellationToken: cancellationToken),
            _deadLetters.CreateIfNotExistsAsync(cancellationToken)).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async Task EnqueueAsync(string queue, WorkItem item, TimeSpan delay, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(item);
        StorageContract.ValidateDelay(delay);
        var client = GetQueueClient(queue);
        var wire = QueueMessageCodec.ToBase64Wire(JsonSerializer.Serialize(item, Json), nameof(item));
        try
        {
            await client.SendMessageAsync(wire, WholeSeconds(delay), NeverExpires, cancellationToken).ConfigureAwait(false);
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            await EnsureQueueAsync(queue, cancellationToken).ConfigureAwait(false);
            await client.SendMessageAsync(wire, WholeSeconds(delay), NeverExpires, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<LeasedWorkItem>> DequeueAsync(string queue, int maxItems, TimeSpan leaseDuration, CancellationToken cancellationToken)
    {
        StorageContract.ValidateDequeue(queue, maxItems, leaseDuration);
        SdkQueueMessage[] messages;
        try
        {
            messages = (await GetQueueClient(queue).ReceiveMessagesAsync(maxItems, WholeSeconds(leaseDuration), cancellationToken).ConfigureAwait(false)).Value;
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            return [];
        }

        var fallbackUntil = _time.GetUtcNow() + leaseDuration;
        return [.. messages.Select(m =>
        {
            var text = QueueMessageCodec.FromBase64Wire(m.Body.ToString());
            return new LeasedWorkItem(queue, Parse(text), m.MessageId, m.PopReceipt, (int)Math.Min(int.MaxValue, m.DequeueCount), m.NextVisibleOn ?? fallbackUntil, text);
        })];
    }

    /// <inheritdoc />
    public async Task<LeasedWorkItem> ExtendLeaseAsync(LeasedWorkItem item, TimeSpan leaseDuration, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(item);
        StorageContract.ValidateLease(leaseDuration);
        return await RenewAsync(item, leaseDuration, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async Task<bool> CompleteAsync(LeasedWorkItem item, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(item);
        try
        {
            await GetQueueClient(item.Queue).DeleteMessageAsync(item.MessageId, item.Receipt, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (RequestFailedException e) when (IsLeaseLost(e))
        {
            return false;
        }
    }

    /// <inheritdoc />
    public async Task<bool> AbandonAsync(LeasedWorkItem item, TimeSpan delay, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(item);
        StorageContract.ValidateDelay(delay);
        try
        {
            await GetQueueClient(item.Queue).UpdateMessageAsync(item.MessageId, item.Receipt, visibilityTimeout: WholeSeconds(delay), cancellationToken: cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (RequestFailedException e) when (IsLeaseLost(e))
        {
            return false;
        }
    }

    /// <inheritdoc />
    public async Task DeadLetterAsync(LeasedWorkItem item, string reason, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(item);
        ArgumentNullException.ThrowIfNull(reason);

        // Prove the lease first (and hold the message a while longer): a lost lease dead-letters nothing.
        var held = await RenewAsync(item, DeadLetterHold, cancellationToken).ConfigureAwait(false);
        var now = StorageContract.NormalizeTime(_time.GetUtcNow());
        var row = new SdkTableEntity(item.Queue, now.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", CultureInfo.InvariantCulture) + "-" + FlowKeys.Escape(item.MessageId))
        {
            ["Queue"] = item.Queue,
            ["MessageId"] = item.MessageId,
            ["DequeueCount"] = item.DequeueCount,
            ["DeadLetteredAt"] = now,
        };
        SetText(row, "RawBody", item.RawBody);
        SetText(row, "Reason", reason);

        await SendToPoisonAsync(item, cancellationToken).ConfigureAwait(false);
        try
        {
            await _deadLetters.UpsertEntityAsync(row, SdkTableUpdateMode.Replace, cancellationToken).ConfigureAwait(false);
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            await _deadLetters.CreateIfNotExistsAsync(cancellationToken).ConfigureAwait(false);
            await _deadLetters.UpsertEntityAsync(row, SdkTableUpdateMode.Replace, cancellationToken).ConfigureAwait(false);
        }

        if (!await CompleteAsync(held, cancellationToken).ConfigureAwait(false))
        {
            FlowStorageLog.DeadLetterDeleteLost(_logger, item.Queue, item.MessageId); // held for a minute, so only a very slow copy gets here
        }
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<DeadLetter>> GetDeadLettersAsync(string queue, int maxItems, CancellationToken cancellationToken)
    {
        StorageContract.ValidateQueueName(queue);
        StorageContract.ValidatePageSize(maxItems);
        var result = new List<DeadLetter>();
        try
        {
            await foreach (var row in _deadLetters.QueryAsync<SdkTableEntity>(SdkTableClient.CreateQueryFilter($"PartitionKey eq {queue}"), maxPerPage: Math.Min(1000, maxItems), cancellationToken: cancellationToken).ConfigureAwait(false))
            {
                result.Add(new DeadLetter(
                    queue,
                    row.GetString("MessageId") ?? string.Empty,
                    GetText(row, "RawBody"),
                    GetText(row, "Reason"),
                    row.GetDateTimeOffset("DeadLetteredAt") ?? row.Timestamp ?? default));
                if (result.Count == maxItems)
                {
                    break;
                }
            }
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            return [];
        }

        return result;
    }

    /// <inheritdoc />
    public async Task<int> GetApproximateCountAsync(string queue, CancellationToken cancellationToken)
    {
        try
        {
            var properties = (await GetQueueClient(queue).GetPropertiesAsync(cancellationToken).ConfigureAwait(false)).Value;
            return properties.ApproximateMessagesCount;
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            return 0;
        }
    }

    /// <summary>Reads a message body as a work item; null when it is not one (malformed JSON, missing kind or run id).</summary>
    /// <param name="body">The message text.</param>
    /// <returns>The item, or null.</returns>
    public static WorkItem? Parse(string body)
    {
        try
        {
            var item = JsonSerializer.Deserialize<WorkItem>(body, Json);
            return item is { Kind.Length: > 0, RunId.Length: > 0 } ? item : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private string AzureName(string queue)
    {
        StorageContract.ValidateQueueName(queue);
        return _options.QueuePrefix + queue;
    }

    private async Task<LeasedWorkItem> RenewAsync(LeasedWorkItem item, TimeSpan leaseDuration, CancellationToken cancellationToken)
    {
        try
        {
            var receipt = (await GetQueueClient(item.Queue).UpdateMessageAsync(item.MessageId, item.Receipt, visibilityTimeout: WholeSeconds(leaseDuration), cancellationToken: cancellationToken).ConfigureAwait(false)).Value;
            return item with { Receipt = receipt.PopReceipt, LeaseUntil = receipt.NextVisibleOn };
        }
        catch (RequestFailedException e) when (IsLeaseLost(e))
        {
            throw new LeaseLostException($"The lease on message {item.MessageId} of queue '{item.Queue}' was lost: it was completed, or its lease ran out and someone else took it.", e);
        }
    }

    private async Task SendToPoisonAsync(LeasedWorkItem item, CancellationToken cancellationToken)
    {
        var poison = GetPoisonQueueClient(item.Queue);

        // A message sent without base64 can hold up to 64 KiB of text, which base64 makes a third larger than a queue takes:
        // the poison copy is then cut to what fits (noting the original size); the dead-letter row keeps the whole body.
        var body = ((Encoding.UTF8.GetByteCount(item.RawBody) + 2L) / 3 * 4) > 64 * 1024
            ? Utf8Text.TruncateNoting(item.RawBody, MaxPoisonTextBytes)
            : item.RawBody;
        var wire = QueueMessageCodec.ToBase64Wire(body, nameof(item));
        try
        {
            await poison.SendMessageAsync(wire, null, NeverExpires, cancellationToken).ConfigureAwait(false);
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            await poison.CreateIfNotExistsAsync(cancellationToken: cancellationToken).ConfigureAwait(false);
            await poison.SendMessageAsync(wire, null, NeverExpires, cancellationToken).ConfigureAwait(false);
        }
    }

    // The service counts visibility in whole seconds and the SDK truncates: round up, so a 0.6 s delay or lease is 1 s, not 0.
    private static TimeSpan WholeSeconds(TimeSpan value) =>
        TimeSpan.FromSeconds((value.Ticks + TimeSpan.TicksPerSecond - 1) / TimeSpan.TicksPerSecond);

    private static bool IsLeaseLost(RequestFailedException e) =>
        e.Status == 404 || (e.Status == 400 && string.Equals(e.ErrorCode, "PopReceiptMismatch", StringComparison.Ordinal));

    // A message's text is at most 64 KiB encoded: as a string (32K characters) or, beyond that, as UTF-8 bytes.
    private static void SetText(SdkTableEntity row, string name, string value)
    {
        if (value.Length <= 32 * 1024)
        {
            row[name] = value;
            return;
        }

        var bytes = Encoding.UTF8.GetBytes(value);
        row[name + "Utf8"] = bytes.Length <= 64 * 1024 ? bytes : bytes[..(64 * 1024)];
    }

    private static string GetText(SdkTableEntity row, string name) =>
        row.GetString(name) ?? (row.GetBinary(name + "Utf8") is { } bytes ? Encoding.UTF8.GetString(bytes) : string.Empty);
}
