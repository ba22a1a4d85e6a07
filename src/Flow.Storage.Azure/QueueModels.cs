using System.Text;

namespace Flow.Storage.Azure;

/// <summary>
/// The content of a queue message, decoded according to the client's <see cref="QueueMessageEncoding"/>. Shared by
/// received (<see cref="QueueMessage"/>) and peeked (<see cref="PeekedQueueMessage"/>) messages.
/// </summary>
public abstract class QueueMessageContent
{
    private string? _text;
    private BinaryData? _body;

    private protected QueueMessageContent(string? text, BinaryData? body, bool wasBase64Encoded)
    {
        _text = text;
        _body = body;
        WasBase64Encoded = wasBase64Encoded;
    }

    /// <summary>The message id assigned by the service.</summary>
    public required string MessageId { get; init; }

    /// <summary>
    /// The message as text. With <see cref="QueueMessageEncoding.Base64"/> this is the UTF-8 decoding of the base64 body
    /// (bytes that are not UTF-8 become U+FFFD; use <see cref="Body"/> for binary data); when the body was not base64
    /// (<see cref="WasBase64Encoded"/> is false) it is the raw text as stored.
    /// </summary>
    public string MessageText => _text ??= _body!.ToString();

    /// <summary>The message bytes: the decoded base64 body, or the UTF-8 bytes of the raw text.</summary>
    public BinaryData Body => _body ??= BinaryData.FromBytes(Encoding.UTF8.GetBytes(_text!));

    /// <summary>
    /// True when the client expects <see cref="QueueMessageEncoding.Base64"/> and the stored text was valid base64.
    /// False when the stored text was not base64 — for example a message someone added as plain text in Storage
    /// Explorer — in which case <see cref="MessageText"/> is that text unchanged (such a message is delivered, never
    /// dropped or thrown on); also false for clients that use <see cref="QueueMessageEncoding.None"/>.
    /// </summary>
    /// <remarks>
    /// Plain text that happens to be valid base64 (such as <c>abcd</c>) cannot be told apart from a base64 message and is decoded.
    /// </remarks>
    public bool WasBase64Encoded { get; }

    /// <summary>How many times the message has been received (Get Messages); peeking does not count.</summary>
    public required long DequeueCount { get; init; }

    /// <summary>When the message was added to the queue.</summary>
    public required DateTimeOffset InsertionTime { get; init; }

    /// <summary>When the message expires; <see cref="DateTimeOffset.MaxValue"/>-like dates (year 9999) mean never.</summary>
    public required DateTimeOffset ExpirationTime { get; init; }
}

/// <summary>A message received from a queue: it is invisible to others until <see cref="NextVisibleTime"/>.</summary>
public sealed class QueueMessage : QueueMessageContent
{
    internal QueueMessage(string? text, BinaryData? body, bool wasBase64Encoded)
        : base(text, body, wasBase64Encoded)
    {
    }

    /// <summary>The receipt that proves this receive: pass it to delete or update the message. Each receive or update issues a new one.</summary>
    public required string PopReceipt { get; init; }

    /// <summary>When the message becomes visible again unless it is deleted or its visibility is extended.</summary>
    public required DateTimeOffset NextVisibleTime { get; init; }

    /// <inheritdoc />
    public override string ToString() => $"QueueMessage({MessageId}, dequeued {DequeueCount}x)";
}

/// <summary>A message seen with Peek Messages: its visibility and dequeue count are unchanged and it has no pop receipt.</summary>
public sealed class PeekedQueueMessage : QueueMessageContent
{
    internal PeekedQueueMessage(string? text, BinaryData? body, bool wasBase64Encoded)
        : base(text, body, wasBase64Encoded)
    {
    }

    /// <inheritdoc />
    public override string ToString() => $"PeekedQueueMessage({MessageId}, dequeued {DequeueCount}x)";
}

/// <summary>What the service returns for a sent message.</summary>
public sealed record SendReceipt
{
    /// <summary>The message id assigned by the service.</summary>
    public required string MessageId { get; init; }

    /// <summary>A pop receipt that allows deleting or updating the message before anyone receives it.</summary>
    public required string PopReceipt { get; init; }

    /// <summary>When the message was added.</summary>
    public required DateTimeOffset InsertionTime { get; init; }

    /// <summary>When the message expires (year 9999 when it never expires).</summary>
    public required DateTimeOffset ExpirationTime { get; init; }

    /// <summary>When the message becomes visible (later than <see cref="InsertionTime"/> when sent with a visibility delay).</summary>
    public required DateTimeOffset NextVisibleTime { get; init; }
}

/// <summary>What the service returns for an updated message: the new pop receipt replaces the old one.</summary>
public sealed record UpdateReceipt
{
    /// <summary>The new pop receipt; the one used for the update is no longer valid.</summary>
    public required string PopReceipt { get; init; }

    /// <summary>When the message becomes visible again.</summary>
    public required DateTimeOffset NextVisibleTime { get; init; }
}

/// <summary>The properties of a queue (Get Queue Metadata).</summary>
public sealed record QueueProperties
{
    /// <summary>The approximate number of messages: never lower than the real count, possibly higher (it may include expired or deleted messages not yet collected).</summary>
    public required long ApproximateMessagesCount { get; init; }

    /// <summary>The queue's user-defined metadata (names as returned by the service, compared case-insensitively).</summary>
    public required IReadOnlyDictionary<string, string> Metadata { get; init; }
}
