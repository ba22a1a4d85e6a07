using System.Globalization;
using System.Text;

namespace Flow.Storage.Conformance;

/// <summary>
/// Deterministic test payloads of an exact UTF-8 size that are hard to store exactly: they mix 1- to 4-byte
/// characters and place a surrogate pair (a 4-byte character) across every 1,024-character and every
/// 1,024-byte boundary, where stores that split large values into chunks are most likely to cut one in half.
/// </summary>
public static class Payloads
{
    private const int Boundary = 1024;
    private const string Astral = "😀"; // U+1F600: two UTF-16 code units, four UTF-8 bytes

    // 1, 2, 3 and 4 UTF-8 bytes; quotes, backslashes and control characters are left out so the text can sit in a JSON string as is.
    private static readonly string[] Cycle = ["a", "é", "中", "𝄞", "Z", "ж", "€", " ", "🚀", "7", "ß", "語", "~"];

    /// <summary>Text of exactly <paramref name="utf8Bytes"/> UTF-8 bytes.</summary>
    /// <param name="utf8Bytes">The size in UTF-8 bytes.</param>
    /// <param name="seed">Varies the content, so two payloads of one size differ.</param>
    /// <returns>The text.</returns>
    public static string Text(int utf8Bytes, int seed = 0) => Append(new StringBuilder(), 0, utf8Bytes, seed).ToString();

    /// <summary>
    /// A JSON document of exactly <paramref name="utf8Bytes"/> UTF-8 bytes (at least 64), with insignificant white space
    /// a JSON-normalizing store would lose: <c>{ "seed" : 7,\n  "text":"…" }</c>.
    /// </summary>
    /// <param name="utf8Bytes">The size in UTF-8 bytes.</param>
    /// <param name="seed">Varies the content, so two payloads of one size differ.</param>
    /// <returns>The JSON text.</returns>
    public static string Json(int utf8Bytes, int seed = 0)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(utf8Bytes, 64);
        var builder = new StringBuilder(utf8Bytes);
        builder.Append(CultureInfo.InvariantCulture, $"{{ \"seed\" : {seed},\n  \"text\":\"");
        const string end = "\" }";
        var prefixBytes = Encoding.UTF8.GetByteCount(builder.ToString());
        Append(builder, prefixBytes, utf8Bytes - end.Length, seed);
        return builder.Append(end).ToString();
    }

    private static StringBuilder Append(StringBuilder builder, int startBytes, int endBytes, int seed)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(endBytes, startBytes);
        var bytes = startBytes;
        var next = Math.Abs(seed) % Cycle.Length;
        while (bytes < endBytes)
        {
            var remaining = endBytes - bytes;
            var chars = builder.Length;
            string piece;
            if ((chars + 1) % Boundary == 0 || bytes % Boundary >= Boundary - 3)
            {
                piece = Astral; // high surrogate at the last code unit before a boundary, or 4 bytes across one
            }
            else
            {
                piece = Cycle[next];
                next = (next + 1) % Cycle.Length;
            }

            var size = Encoding.UTF8.GetByteCount(piece);
            if (size > remaining)
            {
                piece = "x";
                size = 1;
            }

            builder.Append(piece);
            bytes += size;
        }

        return builder;
    }
}
