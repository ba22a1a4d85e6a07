using System.Globalization;
using System.Text;

namespace Flow.Engine;

/// <summary>Cuts text to a size in UTF-8 bytes (what stores limit), never inside a character or a surrogate pair.</summary>
public static class Utf8Text
{
    /// <summary>The longest prefix of <paramref name="text"/> whose UTF-8 encoding has at most <paramref name="maxBytes"/> bytes.</summary>
    /// <param name="text">The text.</param>
    /// <param name="maxBytes">The most bytes, at least 0.</param>
    /// <returns>The text itself when it fits, else its longest prefix that fits.</returns>
    public static string Truncate(string text, int maxBytes)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentOutOfRangeException.ThrowIfNegative(maxBytes);
        if (text.Length <= maxBytes / 3)
        {
            return text;
        }

        var bytes = 0;
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            var pair = char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]);
            var size = pair ? 4 : c < 0x80 ? 1 : c < 0x800 ? 2 : 3; // a lone surrogate is written as U+FFFD: 3 bytes
            if (bytes + size > maxBytes)
            {
                return text[..i];
            }

            bytes += size;
            if (pair)
            {
                i++;
            }
        }

        return text;
    }

    /// <summary>
    /// <paramref name="text"/> when it fits in <paramref name="maxBytes"/> UTF-8 bytes; otherwise its longest prefix that fits
    /// together with a note of the original size (<c>… [truncated: the original is 61,440 UTF-8 bytes]</c>).
    /// </summary>
    /// <param name="text">The text.</param>
    /// <param name="maxBytes">The most bytes, at least 100.</param>
    /// <returns>The text, or its prefix with the note.</returns>
    public static string TruncateNoting(string text, int maxBytes)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxBytes, 100);
        var kept = Truncate(text, maxBytes);
        if (kept.Length == text.Length)
        {
            return text;
        }

        var note = string.Create(CultureInfo.InvariantCulture, $"… [truncated: the original is {Encoding.UTF8.GetByteCount(text):N0} UTF-8 bytes]");
        return Truncate(kept, maxBytes - Encoding.UTF8.GetByteCount(note)) + note;
    }
}
