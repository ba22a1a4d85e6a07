using System.Buffers;
using System.Text;

namespace Flow.Storage.Azure.Internal;

/// <summary>
/// Puts message text on the wire the way the Functions queue trigger and the official SDKs' base64 setting do (base64 of the
/// UTF-8 bytes), enforces the service's 64 KiB limit on the encoded text before anything is sent, and reads stored text back.
/// </summary>
internal static class QueueMessageCodec
{
    /// <summary>The largest encoded message text the service accepts (64 KiB).</summary>
    public const int MaxEncodedMessageBytes = 64 * 1024;

    /// <summary>
    /// The message text as it goes on the wire for a base64 queue: base64 of its UTF-8 bytes, what the
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
}
