using System.Buffers;
using System.Buffers.Text;
using System.Text;

namespace Flow.Storage.Azure.Internal;

/// <summary>
/// A request body rented from the array pool: <c>&lt;QueueMessage&gt;&lt;MessageText&gt;…&lt;/MessageText&gt;&lt;/QueueMessage&gt;</c>.
/// Return it with <see cref="Dispose"/> once the request (including its retries) is finished.
/// </summary>
internal readonly struct PooledBody : IDisposable
{
    public PooledBody(byte[] array, int length)
    {
        Array = array;
        Length = length;
    }

    public byte[] Array { get; }

    public int Length { get; }

    public ReadOnlyMemory<byte> Memory => Array.AsMemory(0, Length);

    public void Dispose() => ArrayPool<byte>.Shared.Return(Array);
}

/// <summary>
/// Puts message text on the wire the way the Functions queue trigger and the official SDKs do: base64 of the
/// UTF-8 bytes (<see cref="QueueMessageEncoding.Base64"/>) or the XML-escaped text (<see cref="QueueMessageEncoding.None"/>),
/// and enforces the service's 64 KiB limit on the encoded text before anything is sent.
/// </summary>
internal static class QueueMessageCodec
{
    /// <summary>The largest encoded message text the service accepts (64 KiB).</summary>
    public const int MaxEncodedMessageBytes = 64 * 1024;

    private static ReadOnlySpan<byte> Prefix => "<QueueMessage><MessageText>"u8;

    private static ReadOnlySpan<byte> Suffix => "</MessageText></QueueMessage>"u8;

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>The size in bytes of the encoded message text of <paramref name="text"/>, as the service counts it.</summary>
    public static int EncodedSize(string text, QueueMessageEncoding encoding)
    {
        var utf8 = Encoding.UTF8.GetByteCount(text);
        return encoding == QueueMessageEncoding.Base64 ? Base64Length(utf8) : utf8;
    }

    /// <summary>
    /// The message text as it goes on the wire for <see cref="QueueMessageEncoding.Base64"/>: base64 of its UTF-8 bytes, what the
    /// Functions queue trigger, Storage Explorer and the official SDKs' base64 setting read. Checks the 64 KiB limit first.
    /// </summary>
    /// <param name="text">The message text.</param>
    /// <param name="paramName">The argument named in the error.</param>
    /// <returns>The base64 text.</returns>
    /// <exception cref="ArgumentException">The encoded text is larger than 64 KiB.</exception>
    public static string ToBase64Wire(string text, string paramName)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        CheckSize(Base64Length(bytes.Length), $"base64 of {bytes.Length} UTF-8 bytes", paramName);
        return Convert.ToBase64String(bytes);
    }

    /// <summary>
    /// Reads wire text the way the Functions host does for base64 queues: the UTF-8 decoding of the base64 body, or, when the
    /// stored text is not base64 (a message added as plain text in Storage Explorer), the text as stored.
    /// </summary>
    /// <param name="wire">The message text as stored.</param>
    /// <returns>The message text.</returns>
    public static string FromBase64Wire(string wire)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(Math.Max(1, wire.Length));
        try
        {
            return wire.Length > 0 && Convert.TryFromBase64String(wire, buffer, out var written)
                ? Encoding.UTF8.GetString(buffer, 0, written)
                : wire;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    public static PooledBody EncodeText(string text, QueueMessageEncoding encoding, string paramName)
    {
        if (encoding == QueueMessageEncoding.Base64)
        {
            var byteCount = Encoding.UTF8.GetByteCount(text);
            var encodedLength = Base64Length(byteCount);
            CheckSize(encodedLength, $"base64 of {byteCount} UTF-8 bytes", paramName);
            var array = Rent(encodedLength);
            var span = array.AsSpan(Prefix.Length);
            var written = Encoding.UTF8.GetBytes(text, span);
            Base64.EncodeToUtf8InPlace(span, written, out var b64);
            return Finish(array, b64);
        }

        var size = CheckXmlText(text, paramName, out var escapedLength);
        CheckSize(size, "UTF-8 text", paramName);
        var body = Rent(escapedLength);
        var count = WriteEscaped(text, body.AsSpan(Prefix.Length));
        return Finish(body, count);
    }

    public static PooledBody EncodeBytes(ReadOnlySpan<byte> bytes, QueueMessageEncoding encoding, string paramName)
    {
        if (encoding == QueueMessageEncoding.Base64)
        {
            var encodedLength = Base64Length(bytes.Length);
            CheckSize(encodedLength, $"base64 of {bytes.Length} bytes", paramName);
            var array = Rent(encodedLength);
            Base64.EncodeToUtf8(bytes, array.AsSpan(Prefix.Length), out _, out var written);
            return Finish(array, written);
        }

        string text;
        try
        {
            text = StrictUtf8.GetString(bytes);
        }
        catch (DecoderFallbackException)
        {
            throw new ArgumentException("With QueueMessageEncoding.None a message body must be UTF-8 text; these bytes are not valid UTF-8. Use QueueMessageEncoding.Base64 to send binary data.", paramName);
        }

        return EncodeText(text, encoding, paramName);
    }

    private static int Base64Length(int byteCount) => (int)Math.Min(int.MaxValue, ((byteCount + 2L) / 3) * 4);

    private static void CheckSize(int encodedSize, string what, string paramName)
    {
        if (encodedSize > MaxEncodedMessageBytes)
        {
            throw new ArgumentException(
                $"The message is {encodedSize} bytes once encoded ({what}); Azure Queue Storage accepts at most {MaxEncodedMessageBytes} bytes (64 KiB) of encoded message text.",
                paramName);
        }
    }

    private static byte[] Rent(int contentLength) => ArrayPool<byte>.Shared.Rent(Prefix.Length + contentLength + Suffix.Length);

    private static PooledBody Finish(byte[] array, int contentLength)
    {
        Prefix.CopyTo(array);
        Suffix.CopyTo(array.AsSpan(Prefix.Length + contentLength));
        return new PooledBody(array, Prefix.Length + contentLength + Suffix.Length);
    }

    /// <summary>
    /// Checks that <paramref name="text"/> can travel in an XML document and returns its UTF-8 size; <paramref name="escapedLength"/>
    /// receives the UTF-8 size once XML-escaped.
    /// </summary>
    private static int CheckXmlText(string text, string paramName, out int escapedLength)
    {
        var utf8 = 0;
        var extra = 0;
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (c < 0x80)
            {
                utf8++;
                switch (c)
                {
                    case '&':
                        extra += 4; // &amp;
                        break;
                    case '<':
                    case '>':
                        extra += 3; // &lt; &gt;
                        break;
                    case '\r':
                        extra += 4; // &#13; so the server's XML parser does not turn CR LF into LF
                        break;
                    case '\t' or '\n':
                        break;
                    default:
                        if (c < 0x20)
                        {
                            throw NotXml(i, c, paramName);
                        }

                        break;
                }
            }
            else if (c < 0x800)
            {
                utf8 += 2;
            }
            else if (char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                utf8 += 4;
                i++;
            }
            else if (char.IsSurrogate(c) || c is '\uFFFE' or '\uFFFF')
            {
                throw NotXml(i, c, paramName);
            }
            else
            {
                utf8 += 3;
            }
        }

        escapedLength = utf8 + extra;
        return utf8;
    }

    private static ArgumentException NotXml(int index, char c, string paramName) => new(
        $"The message text contains U+{(int)c:X4} at index {index}, which cannot be sent with QueueMessageEncoding.None (it is not allowed in XML). Use QueueMessageEncoding.Base64.",
        paramName);

    private static int WriteEscaped(string text, Span<byte> destination)
    {
        var written = 0;
        var start = 0;
        for (var i = 0; i < text.Length; i++)
        {
            ReadOnlySpan<byte> entity;
            switch (text[i])
            {
                case '&':
                    entity = "&amp;"u8;
                    break;
                case '<':
                    entity = "&lt;"u8;
                    break;
                case '>':
                    entity = "&gt;"u8;
                    break;
                case '\r':
                    entity = "&#13;"u8;
                    break;
                default:
                    continue;
            }

            written += Encoding.UTF8.GetBytes(text.AsSpan(start, i - start), destination[written..]);
            entity.CopyTo(destination[written..]);
            written += entity.Length;
            start = i + 1;
        }

        written += Encoding.UTF8.GetBytes(text.AsSpan(start), destination[written..]);
        return written;
    }
}
