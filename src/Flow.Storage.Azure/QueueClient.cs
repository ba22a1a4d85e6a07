using System.Buffers;
using System.Buffers.Text;
using System.Globalization;
using System.Text;
using Azure;
using Azure.Core;
using Azure.Core.Pipeline;
using Flow.Storage.Azure.Internal;

namespace Flow.Storage.Azure;

/// <summary>
/// One Azure Storage queue: create/delete it, send, receive, peek, update and delete messages, read its
/// approximate length. Thread-safe; get one from <see cref="QueueServiceClient.GetQueueClient(string)"/>.
/// </summary>
/// <remarks>
/// <para>Arguments are checked before any request is sent (queue name, 1..32 messages, visibility 0 s..7 days,
/// 64 KiB encoded message text) and a bad one throws <see cref="ArgumentException"/> or
/// <see cref="ArgumentOutOfRangeException"/> stating the rule. Failures reported by the service throw
/// <see cref="StorageRequestException"/> with the HTTP status and the service's error code (for example
/// <c>QueueNotFound</c>, or <c>MessageNotFound</c> (404) / <c>PopReceiptMismatch</c> (400) for a stale pop receipt).</para>
/// <para>Durations are sent in whole seconds, rounded up (a message is never visible earlier than asked).</para>
/// </remarks>
public sealed class QueueClient
{
    /// <summary>The largest encoded message text the service accepts: 64 KiB (for base64, the length of the base64 text).</summary>
    public const int MaxEncodedMessageSize = QueueMessageCodec.MaxEncodedMessageBytes;

    /// <summary>The most messages one receive or peek returns.</summary>
    public const int MaxMessagesPerCall = 32;

    /// <summary>The longest visibility timeout or delay the service accepts: 7 days.</summary>
    public static readonly TimeSpan MaxVisibilityTimeout = TimeSpan.FromDays(7);

    private const long MaxVisibilitySeconds = 7 * 24 * 3600;
    private const long DefaultTimeToLiveSeconds = 7 * 24 * 3600;
    private const string XmlContentType = "application/xml; charset=utf-8";

    private readonly HttpPipeline _pipeline;
    private readonly QueueMessageEncoding _encoding;
    private readonly string _scheme;
    private readonly string _host;
    private readonly int _port;
    private readonly string _queuePath;
    private readonly string _messagesPath;

    internal QueueClient(QueueServiceClient service, string queueName)
    {
        StorageNames.ValidateQueueName(queueName);
        Name = queueName;
        Uri = new Uri(service.Uri, queueName);
        _pipeline = service.Pipeline;
        _encoding = service.MessageEncoding;
        _scheme = Uri.Scheme;
        _host = Uri.Host;
        _port = Uri.Port;
        _queuePath = Uri.AbsolutePath;
        _messagesPath = _queuePath + "/messages";
    }

    /// <summary>Creates a client for one queue with its own pipeline. Prefer one <see cref="QueueServiceClient"/> per account when using several queues.</summary>
    /// <param name="connection">The storage account; it must have a Queue endpoint.</param>
    /// <param name="queueName">The queue name.</param>
    /// <param name="options">Pipeline options and the message encoding; null for the defaults.</param>
    public QueueClient(StorageConnection connection, string queueName, StorageClientOptions? options = null)
        : this(new QueueServiceClient(connection, options), queueName)
    {
    }

    /// <summary>The queue name.</summary>
    public string Name { get; }

    /// <summary>The queue's address.</summary>
    public Uri Uri { get; }

    /// <summary>How this client encodes message text.</summary>
    public QueueMessageEncoding MessageEncoding => _encoding;

    /// <summary>Creates the queue unless it exists. An existing queue is left unchanged (even when its metadata differs).</summary>
    /// <param name="metadata">Metadata for a new queue (names must be valid C# identifiers), or null.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>True when this call created the queue; false when it already existed.</returns>
    public async Task<bool> CreateIfNotExistsAsync(IReadOnlyDictionary<string, string>? metadata = null, CancellationToken cancellationToken = default)
    {
        using var message = CreateMessage(RequestMethod.Put, _queuePath);
        if (metadata is not null)
        {
            foreach (var (key, value) in metadata)
            {
                ValidateMetadataName(key);
                message.Request.Headers.SetValue("x-ms-meta-" + key, value);
            }
        }

        var response = await SendAsync(message, cancellationToken).ConfigureAwait(false);
        switch (response.Status)
        {
            case 201:
                return true;
            case 204:
                return false; // exists with the same metadata
            case 409 when StorageErrors.ErrorCode(response) is "QueueAlreadyExists":
                return false; // exists with different metadata
            default:
                throw StorageErrors.FromResponse(response, $"Create queue '{Name}'");
        }
    }

    /// <summary>Deletes the queue and its messages.</summary>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <exception cref="StorageRequestException">The queue does not exist (404 <c>QueueNotFound</c>) or the service refused.</exception>
    public async Task DeleteAsync(CancellationToken cancellationToken = default)
    {
        _ = await DeleteCoreAsync(throwIfMissing: true, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Deletes the queue and its messages if it exists.</summary>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>True when the queue existed and was deleted.</returns>
    public Task<bool> DeleteIfExistsAsync(CancellationToken cancellationToken = default) => DeleteCoreAsync(throwIfMissing: false, cancellationToken);

    /// <summary>Reads the queue's approximate message count and metadata.</summary>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>The properties.</returns>
    /// <exception cref="StorageRequestException">The queue does not exist (404 <c>QueueNotFound</c>) or the service refused.</exception>
    public async Task<QueueProperties> GetPropertiesAsync(CancellationToken cancellationToken = default)
    {
        using var message = CreateMessage(RequestMethod.Get, _queuePath);
        message.Request.Uri.AppendQuery("comp", "metadata", escapeValue: false);
        var response = await SendAsync(message, cancellationToken).ConfigureAwait(false);
        if (response.Status != 200)
        {
            throw StorageErrors.FromResponse(response, $"Get properties of queue '{Name}'");
        }

        long count = 0;
        Dictionary<string, string>? metadata = null;
        foreach (var header in response.Headers)
        {
            if (header.Name.Equals("x-ms-approximate-messages-count", StringComparison.OrdinalIgnoreCase))
            {
                _ = long.TryParse(header.Value, NumberStyles.None, CultureInfo.InvariantCulture, out count);
            }
            else if (header.Name.StartsWith("x-ms-meta-", StringComparison.OrdinalIgnoreCase))
            {
                metadata ??= new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
                metadata[header.Name["x-ms-meta-".Length..]] = header.Value;
            }
        }

        return new QueueProperties
        {
            ApproximateMessagesCount = count,
            Metadata = (IReadOnlyDictionary<string, string>?)metadata ?? EmptyMetadata.Instance,
        };
    }

    /// <summary>Sends a text message.</summary>
    /// <param name="messageText">The text; encoded per <see cref="MessageEncoding"/> (base64 of its UTF-8 bytes by default).</param>
    /// <param name="visibilityDelay">How long the message stays invisible after it is added (0 s to 7 days, less than <paramref name="timeToLive"/>); null for none.</param>
    /// <param name="timeToLive">How long the message lives (at least 1 s); null for the service default of 7 days; <see cref="TimeSpan.MaxValue"/> or a negative value such as <see cref="Timeout.InfiniteTimeSpan"/> for never.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>The new message's id, pop receipt and times.</returns>
    /// <exception cref="ArgumentException">The encoded text is larger than 64 KiB (the message states both sizes), or it cannot be sent with <see cref="QueueMessageEncoding.None"/>.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A duration is out of range.</exception>
    /// <exception cref="StorageRequestException">The queue does not exist (404 <c>QueueNotFound</c>) or the service refused.</exception>
    public async Task<SendReceipt> SendMessageAsync(string messageText, TimeSpan? visibilityDelay = null, TimeSpan? timeToLive = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(messageText);
        var (delay, ttl) = ValidateSendTimes(visibilityDelay, timeToLive);
        using var body = QueueMessageCodec.EncodeText(messageText, _encoding, nameof(messageText));
        return await SendCoreAsync(body, delay, ttl, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Sends a binary message (base64-encoded on the wire; with <see cref="QueueMessageEncoding.None"/> the bytes must be UTF-8 text).</summary>
    /// <param name="body">The message bytes (a <see cref="BinaryData"/> converts implicitly).</param>
    /// <param name="visibilityDelay">How long the message stays invisible after it is added (0 s to 7 days, less than <paramref name="timeToLive"/>); null for none.</param>
    /// <param name="timeToLive">How long the message lives (at least 1 s); null for the service default of 7 days; <see cref="TimeSpan.MaxValue"/> or a negative value for never.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>The new message's id, pop receipt and times.</returns>
    /// <exception cref="ArgumentException">The encoded body is larger than 64 KiB (the message states both sizes).</exception>
    /// <exception cref="ArgumentOutOfRangeException">A duration is out of range.</exception>
    /// <exception cref="StorageRequestException">The queue does not exist (404 <c>QueueNotFound</c>) or the service refused.</exception>
    public async Task<SendReceipt> SendMessageAsync(ReadOnlyMemory<byte> body, TimeSpan? visibilityDelay = null, TimeSpan? timeToLive = null, CancellationToken cancellationToken = default)
    {
        var (delay, ttl) = ValidateSendTimes(visibilityDelay, timeToLive);
        using var encoded = QueueMessageCodec.EncodeBytes(body.Span, _encoding, nameof(body));
        return await SendCoreAsync(encoded, delay, ttl, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Receives up to <paramref name="maxMessages"/> visible messages and hides them for <paramref name="visibilityTimeout"/>;
    /// delete each one with its pop receipt once processed, or it reappears (with <see cref="QueueMessageContent.DequeueCount"/> one higher).
    /// </summary>
    /// <param name="maxMessages">1 to 32.</param>
    /// <param name="visibilityTimeout">How long the messages stay hidden (1 s to 7 days); null for the service default of 30 s.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>The messages; empty (not an error) when none is visible.</returns>
    /// <exception cref="ArgumentOutOfRangeException">An argument is out of range.</exception>
    /// <exception cref="StorageRequestException">The queue does not exist (404 <c>QueueNotFound</c>) or the service refused.</exception>
    public async Task<IReadOnlyList<QueueMessage>> ReceiveMessagesAsync(int maxMessages = 1, TimeSpan? visibilityTimeout = null, CancellationToken cancellationToken = default)
    {
        ValidateMaxMessages(maxMessages);
        long? visibility = visibilityTimeout is { } v ? Seconds(v, 1, MaxVisibilitySeconds, nameof(visibilityTimeout)) : null;
        using var message = CreateMessage(RequestMethod.Get, _messagesPath);
        var uri = message.Request.Uri;
        uri.AppendQuery("numofmessages", maxMessages.ToString(CultureInfo.InvariantCulture), escapeValue: false);
        if (visibility is { } seconds)
        {
            uri.AppendQuery("visibilitytimeout", seconds.ToString(CultureInfo.InvariantCulture), escapeValue: false);
        }

        var response = await SendAsync(message, cancellationToken).ConfigureAwait(false);
        if (response.Status != 200)
        {
            throw StorageErrors.FromResponse(response, $"Receive messages from queue '{Name}'");
        }

        return ParseReceived(response.Content.ToMemory(), maxMessages);
    }

    /// <summary>Receives one message, or null when none is visible.</summary>
    /// <param name="visibilityTimeout">How long the message stays hidden (1 s to 7 days); null for the service default of 30 s.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>The message, or null.</returns>
    public async Task<QueueMessage?> ReceiveMessageAsync(TimeSpan? visibilityTimeout = null, CancellationToken cancellationToken = default)
    {
        var messages = await ReceiveMessagesAsync(1, visibilityTimeout, cancellationToken).ConfigureAwait(false);
        return messages.Count == 0 ? null : messages[0];
    }

    /// <summary>Returns up to <paramref name="maxMessages"/> visible messages without hiding them or changing their dequeue count.</summary>
    /// <param name="maxMessages">1 to 32.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>The messages; empty when none is visible.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxMessages"/> is out of range.</exception>
    /// <exception cref="StorageRequestException">The queue does not exist (404 <c>QueueNotFound</c>) or the service refused.</exception>
    public async Task<IReadOnlyList<PeekedQueueMessage>> PeekMessagesAsync(int maxMessages = 1, CancellationToken cancellationToken = default)
    {
        ValidateMaxMessages(maxMessages);
        using var message = CreateMessage(RequestMethod.Get, _messagesPath);
        var uri = message.Request.Uri;
        uri.AppendQuery("peekonly", "true", escapeValue: false);
        uri.AppendQuery("numofmessages", maxMessages.ToString(CultureInfo.InvariantCulture), escapeValue: false);
        var response = await SendAsync(message, cancellationToken).ConfigureAwait(false);
        if (response.Status != 200)
        {
            throw StorageErrors.FromResponse(response, $"Peek messages in queue '{Name}'");
        }

        return ParsePeeked(response.Content.ToMemory(), maxMessages);
    }

    /// <summary>Deletes a received message.</summary>
    /// <param name="messageId">The message id.</param>
    /// <param name="popReceipt">The pop receipt from the latest receive or update of the message.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <exception cref="StorageRequestException">The message is gone (404 <c>MessageNotFound</c>), the pop receipt is stale (400 <c>PopReceiptMismatch</c>; Azure may report 404), or the queue does not exist.</exception>
    public async Task DeleteMessageAsync(string messageId, string popReceipt, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(messageId);
        ArgumentException.ThrowIfNullOrEmpty(popReceipt);
        using var message = CreateMessage(RequestMethod.Delete, MessagePath(messageId));
        message.Request.Uri.AppendQuery("popreceipt", popReceipt, escapeValue: true);
        var response = await SendAsync(message, cancellationToken).ConfigureAwait(false);
        if (response.Status != 204)
        {
            throw StorageErrors.FromResponse(response, $"Delete message '{messageId}' from queue '{Name}'");
        }
    }

    /// <summary>Changes a received message's visibility timeout and, optionally, its text. The old pop receipt stops working.</summary>
    /// <param name="messageId">The message id.</param>
    /// <param name="popReceipt">The pop receipt from the latest receive or update of the message.</param>
    /// <param name="visibilityTimeout">How long from now the message stays hidden (0 s to 7 days; 0 makes it visible at once).</param>
    /// <param name="messageText">New text for the message, or null to keep its content.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>The new pop receipt and visibility time.</returns>
    /// <exception cref="ArgumentException">The encoded text is larger than 64 KiB.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="visibilityTimeout"/> is out of range.</exception>
    /// <exception cref="StorageRequestException">The message is gone (404 <c>MessageNotFound</c>), the pop receipt is stale (400 <c>PopReceiptMismatch</c>; Azure may report 404), or the queue does not exist.</exception>
    public async Task<UpdateReceipt> UpdateMessageAsync(string messageId, string popReceipt, TimeSpan visibilityTimeout, string? messageText = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(messageId);
        ArgumentException.ThrowIfNullOrEmpty(popReceipt);
        var seconds = Seconds(visibilityTimeout, 0, MaxVisibilitySeconds, nameof(visibilityTimeout));
        if (messageText is null)
        {
            return await UpdateCoreAsync(messageId, popReceipt, seconds, null, cancellationToken).ConfigureAwait(false);
        }

        using var body = QueueMessageCodec.EncodeText(messageText, _encoding, nameof(messageText));
        return await UpdateCoreAsync(messageId, popReceipt, seconds, body, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Changes a received message's visibility timeout and replaces its content with <paramref name="body"/>. The old pop receipt stops working.</summary>
    /// <param name="messageId">The message id.</param>
    /// <param name="popReceipt">The pop receipt from the latest receive or update of the message.</param>
    /// <param name="visibilityTimeout">How long from now the message stays hidden (0 s to 7 days).</param>
    /// <param name="body">The new message bytes.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>The new pop receipt and visibility time.</returns>
    public async Task<UpdateReceipt> UpdateMessageAsync(string messageId, string popReceipt, TimeSpan visibilityTimeout, ReadOnlyMemory<byte> body, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(messageId);
        ArgumentException.ThrowIfNullOrEmpty(popReceipt);
        var seconds = Seconds(visibilityTimeout, 0, MaxVisibilitySeconds, nameof(visibilityTimeout));
        using var encoded = QueueMessageCodec.EncodeBytes(body.Span, _encoding, nameof(body));
        return await UpdateCoreAsync(messageId, popReceipt, seconds, encoded, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Deletes every message in the queue.</summary>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <exception cref="StorageRequestException">The queue does not exist (404 <c>QueueNotFound</c>) or the service refused (a very long queue may time out: call again).</exception>
    public async Task ClearMessagesAsync(CancellationToken cancellationToken = default)
    {
        using var message = CreateMessage(RequestMethod.Delete, _messagesPath);
        var response = await SendAsync(message, cancellationToken).ConfigureAwait(false);
        if (response.Status != 204)
        {
            throw StorageErrors.FromResponse(response, $"Clear messages in queue '{Name}'");
        }
    }

    /// <inheritdoc />
    public override string ToString() => $"QueueClient({Uri})";

    internal static QueueMessageContentParts DecodeContent(ReadOnlySpan<byte> raw, QueueMessageEncoding encoding)
    {
        byte[]? rented = null;
        try
        {
            var text = raw;
            if (!XmlText.IsLiteral(raw))
            {
                rented = ArrayPool<byte>.Shared.Rent(raw.Length);
                text = rented.AsSpan(0, XmlText.Unescape(raw, rented));
            }

            if (encoding == QueueMessageEncoding.Base64)
            {
                var decoded = new byte[Base64.GetMaxDecodedFromUtf8Length(text.Length)];
                if (Base64.DecodeFromUtf8(text, decoded, out _, out var written) == OperationStatus.Done)
                {
                    return new QueueMessageContentParts(null, new BinaryData(decoded.AsMemory(0, written)), WasBase64Encoded: true);
                }
            }

            return new QueueMessageContentParts(Encoding.UTF8.GetString(text), null, WasBase64Encoded: false);
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }

    internal static IReadOnlyList<QueueMessage> ParseReceived(ReadOnlyMemory<byte> xml, QueueMessageEncoding encoding, int capacity)
    {
        var reader = new QueueXmlReader(xml.Span);
        List<QueueMessage>? list = null;
        while (reader.TryReadMessage(out var raw))
        {
            var content = DecodeContent(raw.MessageText, encoding);
            (list ??= new List<QueueMessage>(capacity)).Add(new QueueMessage(content.Text, content.Body, content.WasBase64Encoded)
            {
                MessageId = XmlText.ToString(raw.MessageId),
                PopReceipt = XmlText.ToString(raw.PopReceipt),
                DequeueCount = XmlText.ToInt64(raw.DequeueCount),
                InsertionTime = XmlText.ToDate(raw.InsertionTime),
                ExpirationTime = XmlText.ToDate(raw.ExpirationTime),
                NextVisibleTime = XmlText.ToDate(raw.TimeNextVisible),
            });
        }

        return (IReadOnlyList<QueueMessage>?)list ?? [];
    }

    internal static IReadOnlyList<PeekedQueueMessage> ParsePeeked(ReadOnlyMemory<byte> xml, QueueMessageEncoding encoding, int capacity)
    {
        var reader = new QueueXmlReader(xml.Span);
        List<PeekedQueueMessage>? list = null;
        while (reader.TryReadMessage(out var raw))
        {
            var content = DecodeContent(raw.MessageText, encoding);
            (list ??= new List<PeekedQueueMessage>(capacity)).Add(new PeekedQueueMessage(content.Text, content.Body, content.WasBase64Encoded)
            {
                MessageId = XmlText.ToString(raw.MessageId),
                DequeueCount = XmlText.ToInt64(raw.DequeueCount),
                InsertionTime = XmlText.ToDate(raw.InsertionTime),
                ExpirationTime = XmlText.ToDate(raw.ExpirationTime),
            });
        }

        return (IReadOnlyList<PeekedQueueMessage>?)list ?? [];
    }

    internal static SendReceipt ParseSendReceipt(ReadOnlyMemory<byte> xml)
    {
        var reader = new QueueXmlReader(xml.Span);
        if (!reader.TryReadMessage(out var raw) || raw.MessageId.IsEmpty)
        {
            throw new AzureStorageException("The Queue service accepted the message but its response names no message id.");
        }

        return new SendReceipt
        {
            MessageId = XmlText.ToString(raw.MessageId),
            PopReceipt = XmlText.ToString(raw.PopReceipt),
            InsertionTime = XmlText.ToDate(raw.InsertionTime),
            ExpirationTime = XmlText.ToDate(raw.ExpirationTime),
            NextVisibleTime = XmlText.ToDate(raw.TimeNextVisible),
        };
    }

    private IReadOnlyList<QueueMessage> ParseReceived(ReadOnlyMemory<byte> xml, int capacity) => ParseReceived(xml, _encoding, capacity);

    private IReadOnlyList<PeekedQueueMessage> ParsePeeked(ReadOnlyMemory<byte> xml, int capacity) => ParsePeeked(xml, _encoding, capacity);

    private async Task<SendReceipt> SendCoreAsync(PooledBody body, long delaySeconds, long? ttlSeconds, CancellationToken cancellationToken)
    {
        using var message = CreateMessage(RequestMethod.Post, _messagesPath);
        var request = message.Request;
        if (delaySeconds > 0)
        {
            request.Uri.AppendQuery("visibilitytimeout", delaySeconds.ToString(CultureInfo.InvariantCulture), escapeValue: false);
        }

        if (ttlSeconds is { } ttl)
        {
            request.Uri.AppendQuery("messagettl", ttl.ToString(CultureInfo.InvariantCulture), escapeValue: false);
        }

        request.Headers.SetValue("Content-Type", XmlContentType);
        request.Content = RequestContent.Create(body.Memory);
        var response = await SendAsync(message, cancellationToken).ConfigureAwait(false);
        if (response.Status != 201)
        {
            throw StorageErrors.FromResponse(response, $"Send message to queue '{Name}'");
        }

        return ParseSendReceipt(response.Content.ToMemory());
    }

    private async Task<UpdateReceipt> UpdateCoreAsync(string messageId, string popReceipt, long visibilitySeconds, PooledBody? body, CancellationToken cancellationToken)
    {
        using var message = CreateMessage(RequestMethod.Put, MessagePath(messageId));
        var request = message.Request;
        request.Uri.AppendQuery("popreceipt", popReceipt, escapeValue: true);
        request.Uri.AppendQuery("visibilitytimeout", visibilitySeconds.ToString(CultureInfo.InvariantCulture), escapeValue: false);
        if (body is { } b)
        {
            request.Headers.SetValue("Content-Type", XmlContentType);
            request.Content = RequestContent.Create(b.Memory);
        }

        var response = await SendAsync(message, cancellationToken).ConfigureAwait(false);
        if (response.Status != 204)
        {
            throw StorageErrors.FromResponse(response, $"Update message '{messageId}' in queue '{Name}'");
        }

        if (!response.Headers.TryGetValue("x-ms-popreceipt", out var newReceipt) || string.IsNullOrEmpty(newReceipt))
        {
            throw new AzureStorageException($"The Queue service updated message '{messageId}' but returned no new pop receipt.");
        }

        response.Headers.TryGetValue("x-ms-time-next-visible", out var nextVisible);
        return new UpdateReceipt
        {
            PopReceipt = newReceipt,
            NextVisibleTime = nextVisible is not null && DateTimeOffset.TryParseExact(nextVisible, "R", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var when) ? when : default,
        };
    }

    private async Task<bool> DeleteCoreAsync(bool throwIfMissing, CancellationToken cancellationToken)
    {
        using var message = CreateMessage(RequestMethod.Delete, _queuePath);
        var response = await SendAsync(message, cancellationToken).ConfigureAwait(false);
        if (response.Status == 204)
        {
            return true;
        }

        if (response.Status == 404 && !throwIfMissing)
        {
            return false;
        }

        throw StorageErrors.FromResponse(response, $"Delete queue '{Name}'");
    }

    private HttpMessage CreateMessage(RequestMethod method, string path)
    {
        var message = _pipeline.CreateMessage();
        var request = message.Request;
        request.Method = method;
        var uri = request.Uri;
        uri.Scheme = _scheme;
        uri.Host = _host;
        uri.Port = _port;
        uri.Path = path;
        return message;
    }

    private string MessagePath(string messageId) => string.Concat(_messagesPath, "/", Uri.EscapeDataString(messageId));

    /// <summary>Sends through the pipeline; a transport failure that outlived the retries becomes a status-0 <see cref="StorageRequestException"/>.</summary>
    private ValueTask<Response> SendAsync(HttpMessage message, CancellationToken cancellationToken) =>
        _pipeline.SendRequestAsync(message, $"{message.Request.Method} on queue '{Name}'", cancellationToken);

    private static void ValidateMaxMessages(int maxMessages)
    {
        if (maxMessages is < 1 or > MaxMessagesPerCall)
        {
            throw new ArgumentOutOfRangeException(nameof(maxMessages), maxMessages, $"Azure Queue Storage returns 1 to {MaxMessagesPerCall} messages per call; {maxMessages} was asked for.");
        }
    }

    private static (long DelaySeconds, long? TtlSeconds) ValidateSendTimes(TimeSpan? visibilityDelay, TimeSpan? timeToLive)
    {
        long? ttl = null;
        if (timeToLive is { } t)
        {
            if (t == TimeSpan.MaxValue || t < TimeSpan.Zero)
            {
                ttl = -1; // never expires (service version 2017-07-29 and later)
            }
            else if (t == TimeSpan.Zero)
            {
                throw new ArgumentOutOfRangeException(nameof(timeToLive), t, "A message's time to live must be at least 1 second, or TimeSpan.MaxValue (or a negative value such as Timeout.InfiniteTimeSpan) for a message that never expires.");
            }
            else
            {
                ttl = CeilingSeconds(t);
            }
        }

        var delay = visibilityDelay is { } d ? Seconds(d, 0, MaxVisibilitySeconds, nameof(visibilityDelay)) : 0;
        var effectiveTtl = ttl ?? DefaultTimeToLiveSeconds;
        if (delay > 0 && effectiveTtl != -1 && delay >= effectiveTtl)
        {
            throw new ArgumentOutOfRangeException(nameof(visibilityDelay), visibilityDelay,
                $"A message's visibility delay ({delay} s) must be shorter than its time to live ({effectiveTtl} s{(ttl is null ? ", the service default of 7 days" : string.Empty)}), or the message would expire before anyone can see it.");
        }

        return (delay, ttl);
    }

    private static long Seconds(TimeSpan value, long min, long max, string paramName)
    {
        var seconds = value < TimeSpan.Zero ? -1 : CeilingSeconds(value);
        if (seconds < min || seconds > max)
        {
            throw new ArgumentOutOfRangeException(paramName, value, $"{paramName} must be between {min} s and {max} s (7 days); got {value}.");
        }

        return seconds;
    }

    private static long CeilingSeconds(TimeSpan value) =>
        value.Ticks / TimeSpan.TicksPerSecond + (value.Ticks % TimeSpan.TicksPerSecond == 0 ? 0 : 1);

    private static void ValidateMetadataName(string name)
    {
        if (string.IsNullOrEmpty(name) || !(char.IsAsciiLetter(name[0]) || name[0] == '_') || !name.All(static c => char.IsAsciiLetterOrDigit(c) || c == '_'))
        {
            throw new ArgumentException($"'{name}' is not a valid queue metadata name: use letters, digits and underscores, starting with a letter or underscore (a C# identifier).", "metadata");
        }
    }

    private static class EmptyMetadata
    {
        public static readonly IReadOnlyDictionary<string, string> Instance = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
    }
}

/// <summary>The decoded content of a message: exactly one of text and body is set (the other is derived on demand).</summary>
internal readonly record struct QueueMessageContentParts(string? Text, BinaryData? Body, bool WasBase64Encoded);
