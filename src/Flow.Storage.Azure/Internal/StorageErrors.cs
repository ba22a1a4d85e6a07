using System.Text.Json;
using System.Xml;
using Azure;

namespace Flow.Storage.Azure.Internal;

/// <summary>Turns a failed service response into a <see cref="StorageRequestException"/>.</summary>
internal static class StorageErrors
{
    public static StorageRequestException FromResponse(Response response, string operation, int? failedIndex = null)
    {
        response.Headers.TryGetValue("x-ms-request-id", out var requestId);
        response.Headers.TryGetValue("x-ms-error-code", out var headerCode);
        var (code, text) = ParseBody(response);
        return Create(response.Status, headerCode ?? code, requestId, text ?? response.ReasonPhrase, operation, failedIndex);
    }

    /// <summary>The storage error code of a failed response: the <c>x-ms-error-code</c> header, else the body's code.</summary>
    public static string? ErrorCode(Response response) =>
        response.Headers.TryGetValue("x-ms-error-code", out var code) ? code : ParseBody(response).Code;

    public static StorageRequestException Create(int status, string? code, string? requestId, string? text, string operation, int? failedIndex = null)
    {
        var message = $"{operation} failed with HTTP {status}{(code is null ? string.Empty : " " + code)}";
        if (!string.IsNullOrWhiteSpace(text))
        {
            message += ": " + FirstLine(text);
        }

        if (failedIndex is not null)
        {
            message += $" (operation {failedIndex} of the transaction)";
        }

        if (!string.IsNullOrEmpty(requestId))
        {
            message += $" [request id {requestId}]";
        }

        return new StorageRequestException(status, code, requestId, message, failedIndex);
    }

    /// <summary>Reads the error code and message from a Table (JSON) or Queue (XML) error body.</summary>
    public static (string? Code, string? Message) ParseBody(Response response)
    {
        var content = response.Content;
        if (content is null || content.ToMemory().IsEmpty)
        {
            return (null, null);
        }

        return ParseBody(content.ToMemory().Span);
    }

    public static (string? Code, string? Message) ParseBody(ReadOnlySpan<byte> body)
    {
        var trimmed = body.TrimStart(" \t\r\n"u8);
        if (trimmed.IsEmpty)
        {
            return (null, null);
        }

        try
        {
            if (trimmed[0] == (byte)'{')
            {
                var reader = new Utf8JsonReader(trimmed);
                using var doc = JsonDocument.ParseValue(ref reader);
                if (doc.RootElement.TryGetProperty("odata.error", out var error) || doc.RootElement.TryGetProperty("error", out error))
                {
                    var code = error.TryGetProperty("code", out var c) ? c.GetString() : null;
                    string? message = null;
                    if (error.TryGetProperty("message", out var m))
                    {
                        message = m.ValueKind == JsonValueKind.Object && m.TryGetProperty("value", out var v) ? v.GetString() : m.ValueKind == JsonValueKind.String ? m.GetString() : null;
                    }

                    return (code, message);
                }

                return (null, null);
            }

            if (trimmed[0] == (byte)'<' || trimmed[0] == 0xEF)
            {
                using var stream = new MemoryStream(trimmed.ToArray());
                using var xml = XmlReader.Create(stream, new XmlReaderSettings { DtdProcessing = DtdProcessing.Prohibit, XmlResolver = null });
                string? code = null, message = null;
                while (xml.Read())
                {
                    if (xml.NodeType != XmlNodeType.Element)
                    {
                        continue;
                    }

                    if (xml.LocalName == "Code")
                    {
                        code = xml.ReadElementContentAsString();
                    }
                    else if (xml.LocalName == "Message")
                    {
                        message = xml.ReadElementContentAsString();
                    }
                }

                return (code, message);
            }
        }
        catch (JsonException)
        {
        }
        catch (XmlException)
        {
        }

        return (null, null);
    }

    private static string FirstLine(string text)
    {
        var newline = text.IndexOf('\n', StringComparison.Ordinal);
        return (newline < 0 ? text : text[..newline]).Trim();
    }
}
