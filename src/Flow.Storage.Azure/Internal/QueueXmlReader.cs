using System.Buffers;
using System.Buffers.Text;
using System.Text;

namespace Flow.Storage.Azure.Internal;

/// <summary>The fields of one <c>&lt;QueueMessage&gt;</c> element, as raw (still XML-escaped) UTF-8 spans of the response.</summary>
internal ref struct RawQueueMessage
{
    public ReadOnlySpan<byte> MessageId;
    public ReadOnlySpan<byte> PopReceipt;
    public ReadOnlySpan<byte> InsertionTime;
    public ReadOnlySpan<byte> ExpirationTime;
    public ReadOnlySpan<byte> TimeNextVisible;
    public ReadOnlySpan<byte> DequeueCount;
    public ReadOnlySpan<byte> MessageText;
    public bool HasMessageText;
}

/// <summary>
/// A small forward-only reader for the Queue service's <c>QueueMessagesList</c> responses (Put Message, Get
/// Messages, Peek Messages). It works on the buffered UTF-8 response without allocating: element names are
/// matched as bytes, text stays a span until the caller converts it. It understands what a conforming XML
/// writer may produce for these documents — an XML declaration, comments between elements, whitespace,
/// empty elements (<c>&lt;MessageText /&gt;</c>), attributes, entity and character references, CDATA sections —
/// and rejects anything else with an <see cref="AzureStorageException"/> rather than guessing.
/// </summary>
internal ref struct QueueXmlReader
{
    private readonly ReadOnlySpan<byte> _xml;
    private int _pos;

    public QueueXmlReader(ReadOnlySpan<byte> xml)
    {
        _xml = xml.StartsWith("\xEF\xBB\xBF"u8) ? xml[3..] : xml;
        _pos = 0;
    }

    private enum TagKind
    {
        Start,
        End,
        Empty,
    }

    /// <summary>Reads the next <c>&lt;QueueMessage&gt;</c> element; false at the end of the document.</summary>
    public bool TryReadMessage(out RawQueueMessage message)
    {
        message = default;
        while (true)
        {
            if (!NextTag(out var name, out var kind))
            {
                return false;
            }

            if (name.SequenceEqual("QueueMessage"u8))
            {
                if (kind == TagKind.Empty)
                {
                    return true;
                }

                if (kind == TagKind.Start)
                {
                    break;
                }
            }
        }

        while (true)
        {
            if (!NextTag(out var name, out var kind))
            {
                throw Malformed("the document ends inside a QueueMessage element");
            }

            if (kind == TagKind.End)
            {
                if (name.SequenceEqual("QueueMessage"u8))
                {
                    return true;
                }

                throw Malformed("unexpected end tag inside a QueueMessage element");
            }

            var content = kind == TagKind.Start ? ReadContent(name) : default;
            if (name.SequenceEqual("MessageId"u8))
            {
                message.MessageId = content;
            }
            else if (name.SequenceEqual("PopReceipt"u8))
            {
                message.PopReceipt = content;
            }
            else if (name.SequenceEqual("InsertionTime"u8))
            {
                message.InsertionTime = content;
            }
            else if (name.SequenceEqual("ExpirationTime"u8))
            {
                message.ExpirationTime = content;
            }
            else if (name.SequenceEqual("TimeNextVisible"u8))
            {
                message.TimeNextVisible = content;
            }
            else if (name.SequenceEqual("DequeueCount"u8))
            {
                message.DequeueCount = content;
            }
            else if (name.SequenceEqual("MessageText"u8))
            {
                message.MessageText = content;
                message.HasMessageText = true;
            }

            // Unknown elements (a future service version) are skipped.
        }
    }

    private bool NextTag(out ReadOnlySpan<byte> name, out TagKind kind)
    {
        while (true)
        {
            var lt = _xml[_pos..].IndexOf((byte)'<');
            if (lt < 0)
            {
                name = default;
                kind = default;
                _pos = _xml.Length;
                return false;
            }

            _pos += lt + 1;
            if (_pos >= _xml.Length)
            {
                throw Malformed("the document ends inside a tag");
            }

            var rest = _xml[_pos..];
            if (rest[0] == (byte)'?')
            {
                _pos += SkipPast(rest, "?>"u8);
                continue;
            }

            if (rest.StartsWith("!--"u8))
            {
                _pos += SkipPast(rest, "-->"u8);
                continue;
            }

            if (rest[0] == (byte)'!')
            {
                throw Malformed("DTDs and CDATA sections between elements are not expected");
            }

            var gt = FindTagEnd(rest);
            var isEnd = rest[0] == (byte)'/';
            var tag = isEnd ? rest[1..gt] : rest[..gt];
            var isEmpty = !isEnd && gt > 0 && rest[gt - 1] == (byte)'/';
            if (isEmpty)
            {
                tag = tag[..^1];
            }

            var nameEnd = tag.IndexOfAny(" \t\r\n/"u8);
            name = nameEnd < 0 ? tag : tag[..nameEnd];
            kind = isEnd ? TagKind.End : isEmpty ? TagKind.Empty : TagKind.Start;
            _pos += gt + 1;
            return true;
        }
    }

    /// <summary>Returns the raw text of the current element and moves past its end tag.</summary>
    private ReadOnlySpan<byte> ReadContent(ReadOnlySpan<byte> name)
    {
        var start = _pos;
        var p = _pos;
        while (true)
        {
            var lt = _xml[p..].IndexOf((byte)'<');
            if (lt < 0)
            {
                throw Malformed("an element is not closed");
            }

            p += lt;
            var rest = _xml[p..];
            if (rest.StartsWith("<![CDATA["u8))
            {
                p += SkipPast(rest, "]]>"u8);
                continue;
            }

            if (!rest.StartsWith("</"u8))
            {
                throw Malformed("a message field contains markup");
            }

            var content = _xml[start..p];
            var gt = FindTagEnd(rest);
            var endName = rest[2..gt].TrimEnd(" \t\r\n"u8);
            if (!endName.SequenceEqual(name))
            {
                throw Malformed("an end tag does not match its start tag");
            }

            _pos = p + gt + 1;
            return content;
        }
    }

    private static int FindTagEnd(ReadOnlySpan<byte> rest)
    {
        // '>' may appear inside a quoted attribute value.
        byte quote = 0;
        for (var i = 0; i < rest.Length; i++)
        {
            var b = rest[i];
            if (quote != 0)
            {
                if (b == quote)
                {
                    quote = 0;
                }
            }
            else if (b is (byte)'"' or (byte)'\'')
            {
                quote = b;
            }
            else if (b == (byte)'>')
            {
                return i;
            }
        }

        throw Malformed("the document ends inside a tag");
    }

    private static int SkipPast(ReadOnlySpan<byte> rest, ReadOnlySpan<byte> terminator)
    {
        var i = rest.IndexOf(terminator);
        if (i < 0)
        {
            throw Malformed("a declaration, comment or CDATA section is not closed");
        }

        return i + terminator.Length;
    }

    private static AzureStorageException Malformed(string what) =>
        new($"The Queue service returned a message list that Flow cannot read ({what}).");
}

/// <summary>Converts raw XML text (UTF-8, possibly with references and CDATA) into values.</summary>
internal static class XmlText
{
    /// <summary>True when the raw text holds nothing that XML would transform (no references, CDATA or carriage returns).</summary>
    public static bool IsLiteral(ReadOnlySpan<byte> raw) => raw.IndexOfAny("&<\r"u8) < 0;

    public static string ToString(ReadOnlySpan<byte> raw)
    {
        if (raw.IsEmpty)
        {
            return string.Empty;
        }

        if (IsLiteral(raw))
        {
            return Encoding.UTF8.GetString(raw);
        }

        var buffer = ArrayPool<byte>.Shared.Rent(raw.Length);
        try
        {
            var length = Unescape(raw, buffer);
            return Encoding.UTF8.GetString(buffer, 0, length);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    public static DateTimeOffset ToDate(ReadOnlySpan<byte> raw)
    {
        // RFC 1123, e.g. "Fri, 09 Oct 2009 21:04:30 GMT". A missing field stays MinValue.
        return !raw.IsEmpty && Utf8Parser.TryParse(raw.Trim(" \t\r\n"u8), out DateTimeOffset value, out _, 'R') ? value : default;
    }

    public static long ToInt64(ReadOnlySpan<byte> raw) =>
        Utf8Parser.TryParse(raw.Trim(" \t\r\n"u8), out long value, out _) ? value : 0;

    /// <summary>
    /// Writes the character data of <paramref name="raw"/> as UTF-8 into <paramref name="destination"/> (which must be at
    /// least as long as <paramref name="raw"/>: the result is never longer) and returns its length. Resolves the five
    /// predefined entities and character references, copies CDATA sections verbatim and normalizes literal line breaks
    /// (CR LF and lone CR become LF) as an XML parser must.
    /// </summary>
    public static int Unescape(ReadOnlySpan<byte> raw, Span<byte> destination)
    {
        var written = 0;
        var i = 0;
        while (i < raw.Length)
        {
            var next = raw[i..].IndexOfAny("&<\r"u8);
            if (next < 0)
            {
                raw[i..].CopyTo(destination[written..]);
                written += raw.Length - i;
                break;
            }

            raw.Slice(i, next).CopyTo(destination[written..]);
            written += next;
            i += next;
            switch (raw[i])
            {
                case (byte)'\r':
                    destination[written++] = (byte)'\n';
                    i += i + 1 < raw.Length && raw[i + 1] == (byte)'\n' ? 2 : 1;
                    break;
                case (byte)'<':
                {
                    // Only CDATA can start here: ReadContent rejects other markup.
                    var body = raw[(i + 9)..];
                    var end = body.IndexOf("]]>"u8);
                    body[..end].CopyTo(destination[written..]);
                    written += end;
                    i += 9 + end + 3;
                    break;
                }

                default:
                {
                    var semi = raw[i..].IndexOf((byte)';');
                    if (semi < 0)
                    {
                        throw new AzureStorageException("The Queue service returned message text with an unterminated XML reference.");
                    }

                    written += WriteReference(raw.Slice(i + 1, semi - 1), destination[written..]);
                    i += semi + 1;
                    break;
                }
            }
        }

        return written;
    }

    private static int WriteReference(ReadOnlySpan<byte> name, Span<byte> destination)
    {
        byte simple = name switch
        {
            _ when name.SequenceEqual("lt"u8) => (byte)'<',
            _ when name.SequenceEqual("gt"u8) => (byte)'>',
            _ when name.SequenceEqual("amp"u8) => (byte)'&',
            _ when name.SequenceEqual("quot"u8) => (byte)'"',
            _ when name.SequenceEqual("apos"u8) => (byte)'\'',
            _ => 0,
        };
        if (simple != 0)
        {
            destination[0] = simple;
            return 1;
        }

        if (name.Length >= 2 && name[0] == (byte)'#')
        {
            var ok = name[1] is (byte)'x' or (byte)'X'
                ? Utf8Parser.TryParse(name[2..], out uint code, out var consumed, 'X') && consumed == name.Length - 2
                : Utf8Parser.TryParse(name[1..], out code, out consumed) && consumed == name.Length - 1;
            if (ok && Rune.TryCreate(code, out var rune))
            {
                return rune.EncodeToUtf8(destination);
            }
        }

        throw new AzureStorageException($"The Queue service returned message text with an unknown XML reference '&{Encoding.UTF8.GetString(name)};'.");
    }
}
