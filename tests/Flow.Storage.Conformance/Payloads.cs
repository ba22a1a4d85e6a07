using System.Globalization;
using System.Text;

namespace Flow.Storage.Conformance;

/// <summary>
/// Deterministic test payloads of an exact UTF-8 size that are hard to store exactly: they mix 1- to 4-byte
/// characters, with a surrogate pair across every 1,024-character boundary and a multi-byte character across
/// every 1,024-byte boundary, where stores that split large values into chunks are most likely to cut one in half.
/// </summary>
public static class Payloads
{
    private const int Boundary = 1024;

    // 1, 2, 3 and 4 UTF-8 bytes; quotes, backslashes and control characters are left out so the text can sit in a JSON string as is.
    private static readonly string[] Cycle = ["a", "é", "中", "𝄞", "Z", "ж", "€", " ", "🚀", "7", "ß", "語", "~"];

    // One piece of each UTF-8 size; "😀" (U+1F600) is two UTF-16 code units.
    private static readonly string[] Fillers = ["x", "é", "中", "😀"];

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
            // The next piece from the cycle if it fits, else the first filler that does: no character may start on a
            // boundary (so a multi-byte character or a surrogate pair straddles each one), and no piece may lead into
            // the one position where both boundaries come next and cannot both be straddled.
            var piece = "x";
            foreach (var candidate in (string[])[Cycle[next], .. Fillers])
            {
                var size = Encoding.UTF8.GetByteCount(candidate);
                var chars = builder.Length + candidate.Length;
                var end = bytes + size;
                if (end > endBytes)
                {
                    continue;
                }

                var blocked = chars % Boundary == 0 || end % Boundary == 0 || (chars % Boundary == Boundary - 1 && end % Boundary == Boundary - 4);
                if (end == endBytes || !blocked)
                {
                    piece = candidate;
                    break;
                }
            }

            if (ReferenceEquals(piece, Cycle[next]))
            {
                next = (next + 1) % Cycle.Length;
            }

            builder.Append(piece);
            bytes += Encoding.UTF8.GetByteCount(piece);
        }

        return builder;
    }
}
