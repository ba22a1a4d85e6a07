using System.Globalization;
using System.Text;
using Azure;

namespace Flow.Storage.Azure.Internal;

/// <summary>
/// The wire format of entity group transactions: an OData <c>$batch</c> request holding one change set,
/// as a multipart/mixed MIME body, and the parsing of the multipart response.
/// </summary>
internal static class TableBatch
{
    public const int MaxOperations = 100;
    public const int MaxPayloadBytes = 4 * 1024 * 1024;

    public readonly record struct Request(string Boundary, byte[] Body);

    public static Request Build(Uri endpoint, string table, IReadOnlyList<TableTransactionAction> actions)
    {
        if (actions.Count == 0)
        {
            throw new ArgumentException("A transaction needs at least one operation.", nameof(actions));
        }

        if (actions.Count > MaxOperations)
        {
            throw new ArgumentException($"A transaction holds at most {MaxOperations} operations; this one has {actions.Count}. Split it into several transactions.", nameof(actions));
        }

        var partitionKey = actions[0].Entity?.PartitionKey ?? throw new ArgumentException("Operation 0 has no entity.", nameof(actions));
        var rowKeys = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < actions.Count; i++)
        {
            var action = actions[i] ?? throw new ArgumentException($"Operation {i} is null.", nameof(actions));
            var entity = action.Entity ?? throw new ArgumentException($"Operation {i} has no entity.", nameof(actions));
            if (!string.Equals(entity.PartitionKey, partitionKey, StringComparison.Ordinal))
            {
                throw new ArgumentException($"All operations of a transaction must share one PartitionKey: operation 0 has '{partitionKey}', operation {i} has '{entity.PartitionKey}'.", nameof(actions));
            }

            if (!rowKeys.Add(entity.RowKey))
            {
                throw new ArgumentException($"A transaction may touch each entity once: RowKey '{entity.RowKey}' appears again in operation {i}.", nameof(actions));
            }

            if (action.ActionType == TableTransactionActionType.Delete)
            {
                StorageNames.ValidateKey(entity.PartitionKey, "PartitionKey");
                StorageNames.ValidateKey(entity.RowKey, "RowKey");
            }
            else
            {
                EntityJson.Validate(entity);
            }
        }

        var batchBoundary = "batch_" + Guid.NewGuid().ToString("N");
        var changesetBoundary = "changeset_" + Guid.NewGuid().ToString("N");
        var tableUri = endpoint.AbsoluteUri + table;
        using var stream = new MemoryStream(256 + (actions.Count * 512));
        void Text(string s)
        {
            var bytes = Encoding.UTF8.GetBytes(s);
            stream.Write(bytes);
        }

        Text($"--{batchBoundary}\r\nContent-Type: multipart/mixed; boundary={changesetBoundary}\r\n\r\n");
        for (var i = 0; i < actions.Count; i++)
        {
            var action = actions[i];
            var entity = action.Entity;
            var (method, url, ifMatch, hasBody) = action.ActionType switch
            {
                TableTransactionActionType.Add => ("POST", tableUri, (string?)null, true),
                TableTransactionActionType.UpsertMerge => ("MERGE", EntityUri(endpoint, table, entity), null, true),
                TableTransactionActionType.UpsertReplace => ("PUT", EntityUri(endpoint, table, entity), null, true),
                TableTransactionActionType.UpdateMerge => ("MERGE", EntityUri(endpoint, table, entity), IfMatch(action.ETag), true),
                TableTransactionActionType.UpdateReplace => ("PUT", EntityUri(endpoint, table, entity), IfMatch(action.ETag), true),
                TableTransactionActionType.Delete => ("DELETE", EntityUri(endpoint, table, entity), IfMatch(action.ETag), false),
                _ => throw new ArgumentException($"Operation {i} has an unknown action type {action.ActionType}.", nameof(actions)),
            };

            var part = new StringBuilder(256);
            part.Append("--").Append(changesetBoundary).Append("\r\n");
            part.Append("Content-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n");
            part.Append("Content-ID: ").Append((i + 1).ToString(CultureInfo.InvariantCulture)).Append("\r\n\r\n");
            part.Append(method).Append(' ').Append(url).Append(" HTTP/1.1\r\n");
            part.Append("Accept: application/json;odata=minimalmetadata\r\n");
            part.Append("DataServiceVersion: 3.0\r\n");
            if (ifMatch is not null)
            {
                part.Append("If-Match: ").Append(ifMatch).Append("\r\n");
            }

            if (action.ActionType == TableTransactionActionType.Add)
            {
                part.Append("Prefer: return-no-content\r\n");
            }

            if (hasBody)
            {
                part.Append("Content-Type: application/json\r\n\r\n");
                Text(part.ToString());
                stream.Write(EntityJson.Serialize(entity).Span);
                Text("\r\n");
            }
            else
            {
                part.Append("\r\n");
                Text(part.ToString());
            }
        }

        Text($"--{changesetBoundary}--\r\n\r\n--{batchBoundary}--\r\n");
        if (stream.Length > MaxPayloadBytes)
        {
            throw new ArgumentException($"The transaction's payload is {stream.Length:N0} bytes; Azure allows at most {MaxPayloadBytes:N0} bytes (4 MiB) per transaction. Split it.", nameof(actions));
        }

        return new Request(batchBoundary, stream.ToArray());
    }

    /// <summary>
    /// Reads the multipart response: one <c>HTTP/1.1 NNN</c> part per operation on success, or the one
    /// failed operation's part (whose error message starts with the operation's index) on failure.
    /// </summary>
    public static IReadOnlyList<TableTransactionResult> ParseResponse(Response response, IReadOnlyList<TableTransactionAction> actions, string operation)
    {
        response.Headers.TryGetValue("x-ms-request-id", out var requestId);
        var text = Encoding.UTF8.GetString(response.Content.ToMemory().Span);
        var parts = ParseParts(text);
        foreach (var part in parts)
        {
            if (part.Status >= 300)
            {
                var (code, message) = StorageErrors.ParseBody(Encoding.UTF8.GetBytes(part.Body));
                var index = FailedIndex(message, part.ContentId, actions.Count);
                if (message is not null && index is not null)
                {
                    var colon = message.IndexOf(':', StringComparison.Ordinal);
                    message = colon > 0 && int.TryParse(message.AsSpan(0, colon), NumberStyles.None, CultureInfo.InvariantCulture, out _) ? message[(colon + 1)..] : message;
                }

                throw StorageErrors.Create(part.Status, code, requestId, message, operation, index);
            }
        }

        if (parts.Count != actions.Count)
        {
            throw StorageErrors.Create(response.Status, "InvalidBatchResponse", requestId,
                $"The service answered {parts.Count} operation results for {actions.Count} operations.", operation);
        }

        var results = new TableTransactionResult[actions.Count];
        for (var i = 0; i < parts.Count; i++)
        {
            var part = parts[i];
            var slot = part.ContentId is int id && id >= 1 && id <= actions.Count ? id - 1 : i;
            results[slot] = new TableTransactionResult(part.Status, part.ETag is null ? default : new ETag(part.ETag));
        }

        return results;
    }

    private sealed record Part(int Status, string? ETag, int? ContentId, string Body);

    private static List<Part> ParseParts(string text)
    {
        var parts = new List<Part>();
        var lines = text.Split('\n');
        int? pendingContentId = null;
        for (var i = 0; i < lines.Length; i++)
        {
            var line = lines[i].TrimEnd('\r');
            if (line.StartsWith("Content-ID:", StringComparison.OrdinalIgnoreCase)
                && int.TryParse(line.AsSpan("Content-ID:".Length).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var cid))
            {
                pendingContentId = cid;
                continue;
            }

            if (!line.StartsWith("HTTP/1.1 ", StringComparison.Ordinal) || line.Length < 12
                || !int.TryParse(line.AsSpan(9, 3), NumberStyles.None, CultureInfo.InvariantCulture, out var status))
            {
                continue;
            }

            string? etag = null;
            int? contentId = pendingContentId;
            pendingContentId = null;
            i++;
            for (; i < lines.Length; i++)
            {
                var header = lines[i].TrimEnd('\r');
                if (header.Length == 0)
                {
                    break;
                }

                var colon = header.IndexOf(':', StringComparison.Ordinal);
                if (colon <= 0)
                {
                    continue;
                }

                var name = header[..colon].Trim();
                var value = header[(colon + 1)..].Trim();
                if (name.Equals("ETag", StringComparison.OrdinalIgnoreCase))
                {
                    etag = value;
                }
                else if (name.Equals("Content-ID", StringComparison.OrdinalIgnoreCase) && int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var id))
                {
                    contentId = id;
                }
            }

            var body = new StringBuilder();
            for (i++; i < lines.Length; i++)
            {
                var bodyLine = lines[i].TrimEnd('\r');
                if (bodyLine.StartsWith("--", StringComparison.Ordinal))
                {
                    i--;
                    break;
                }

                body.Append(bodyLine).Append('\n');
            }

            parts.Add(new Part(status, etag, contentId, body.ToString()));
        }

        return parts;
    }

    private static int? FailedIndex(string? message, int? contentId, int count)
    {
        if (message is not null)
        {
            var colon = message.IndexOf(':', StringComparison.Ordinal);
            if (colon > 0 && int.TryParse(message.AsSpan(0, colon), NumberStyles.None, CultureInfo.InvariantCulture, out var index) && index < count)
            {
                return index;
            }
        }

        return contentId is int id && id >= 1 && id <= count ? id - 1 : null;
    }

    private static string EntityUri(Uri endpoint, string table, TableEntity entity) =>
        endpoint.AbsoluteUri + EntityJson.EntityPath(table, entity.PartitionKey, entity.RowKey);

    private static string IfMatch(ETag etag) => etag == default ? "*" : etag.ToString();
}
