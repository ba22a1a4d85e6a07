using System.Collections.Concurrent;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Text;
using Flow.Engine.Storage;
using SdkTableClient = Azure.Data.Tables.TableClient;
using SdkTableEntity = Azure.Data.Tables.TableEntity;
using SdkTableTransactionAction = Azure.Data.Tables.TableTransactionAction;
using SdkTableTransactionActionType = Azure.Data.Tables.TableTransactionActionType;

namespace Flow.Storage.Azure;

/// <summary>One large text value moved out of its row: the chunk rows that hold it, and whether their keys derive from the content.</summary>
/// <param name="Ref">The chunk rows' RowKey prefix (<c>{owner}~{property}-{id}</c>); row i is <c>{Ref}-{i:D4}</c>.</param>
/// <param name="ContentAddressed">True when the id is a hash of the value: rewriting is idempotent and the rows are never deleted.</param>
/// <param name="Rows">The chunk rows.</param>
internal sealed record ChunkSet(string Ref, bool ContentAddressed, IReadOnlyList<SdkTableEntity> Rows);

/// <summary>
/// Decides which text properties of a set of rows stay inline (readable strings) and which move to chunk rows, so
/// no property passes 64 KiB, no row 1 MiB and no transaction 4 MiB.
/// </summary>
/// <remarks>
/// A value longer than <see cref="InlineChars"/> always moves. Then, while the transaction's estimated JSON size is
/// above <see cref="TransactionBudget"/>, the largest inline value moves. A moved value is stored as UTF-8 bytes in
/// binary properties <c>D00</c>…<c>D10</c> of rows <c>{owner}~{property}-{id}-0000</c>, …; the owner keeps
/// <c>{Property}Chunks</c> (the prefix), <c>{Property}Bytes</c> and <c>{Property}ChunkRows</c>.
/// </remarks>
internal sealed class TextPlan
{
    /// <summary>Values up to this many UTF-16 characters (32 KiB of the 64 KiB property limit) may stay inline.</summary>
    public const int InlineChars = 16 * 1024;

    /// <summary>The estimated JSON size a transaction's inline values and overhead may reach (the service allows 4 MiB).</summary>
    public const long TransactionBudget = 3_400_000;

    private const int OperationOverhead = 700;
    private const int PropertyOverhead = 48;
    private const int SmallText = 512;

    private readonly List<Slot> _slots = [];
    private readonly PayloadBlobs? _payloads;
    private readonly List<PayloadBlob> _blobs = [];
    private long _estimate;

    /// <summary>Creates a plan.</summary>
    /// <param name="payloads">Where values too large for their row go; null: to chunk rows (the layout before payload blobs).</param>
    public TextPlan(PayloadBlobs? payloads = null) => _payloads = payloads;

    /// <summary>The blobs <see cref="Finish"/> moved values to, to upload before the rows that reference them.</summary>
    public IReadOnlyList<PayloadBlob> Blobs => _blobs;

    public void Operation(int properties = 12) => _estimate += OperationOverhead + (properties * PropertyOverhead);

    /// <summary>Sets a text property (null: not stored) and remembers it for the plan.</summary>
    public void Text(SdkTableEntity entity, string property, string? value, bool contentAddressed = false)
    {
        if (value is null)
        {
            return;
        }

        entity[property] = value;
        var wire = JsonWireBytes(value);
        _estimate += wire;
        if (value.Length > SmallText)
        {
            _slots.Add(new Slot(entity, property, value, wire, contentAddressed));
        }
    }

    /// <summary>Moves values to chunk rows (or, with payload blobs, to <see cref="Blobs"/>) as needed; returns the chunk rows to write before the transaction. (Payload sizes are checked before, by <see cref="StorageContract"/>.)</summary>
    public IReadOnlyList<ChunkSet> Finish(KnownChunks known)
    {
        if (_slots.Count == 0)
        {
            return [];
        }

        var chunked = new List<ChunkSet>();
        var inline = new List<Slot>();
        foreach (var slot in _slots)
        {
            if (_payloads is null ? slot.Value.Length > InlineChars : !_payloads.StaysInline(slot.Value))
            {
                Move(slot, known, chunked);
            }
            else
            {
                inline.Add(slot);
            }
        }

        if (_estimate > TransactionBudget)
        {
            foreach (var slot in inline.OrderByDescending(s => s.WireBytes))
            {
                if (_estimate <= TransactionBudget)
                {
                    break;
                }

                Move(slot, known, chunked);
            }
        }

        return chunked;
    }

    private void Move(Slot slot, KnownChunks known, List<ChunkSet> chunked)
    {
        _estimate -= slot.WireBytes;
        if (_payloads is not null)
        {
            _blobs.Add(PayloadBlobs.Offload(slot.Entity, slot.Property, slot.Value, known));
            return;
        }

        slot.Entity.Remove(slot.Property);
        chunked.Add(LargeText.Split(slot.Entity, slot.Property, slot.Value, slot.ContentAddressed, known));
    }

    /// <summary>An upper bound of the UTF-8 JSON size of a string as <see cref="System.Text.Json.Utf8JsonWriter"/> escapes it by default.</summary>
    public static int JsonWireBytes(string value)
    {
        var n = 0;
        foreach (var c in value)
        {
            n += c is >= ' ' and < (char)0x7F and not ('"' or '\\' or '<' or '>' or '&' or '\'' or '+' or '`') ? 1 : 6;
        }

        return n;
    }

    private sealed record Slot(SdkTableEntity Entity, string Property, string Value, int WireBytes, bool ContentAddressed);
}

/// <summary>
/// Remembers content-addressed chunk sets known to exist (written or read by this process) so a commit that carries
/// an unchanged large run field (its parameters, say) neither hashes it again nor rewrites its chunks.
/// </summary>
internal sealed class KnownChunks
{
    private const int MaxEntries = 50_000;
    private readonly ConditionalWeakTable<string, string> _ids = new();
    private readonly ConcurrentDictionary<string, byte> _existing = new(StringComparer.Ordinal);

    public string ContentId(string value, ReadOnlySpan<byte> utf8)
    {
        if (_ids.TryGetValue(value, out var id))
        {
            return id;
        }

        id = Convert.ToHexStringLower(SHA256.HashData(utf8))[..LargeText.ContentIdLength];
        _ids.AddOrUpdate(value, id);
        return id;
    }

    public void Remember(string value, string id) => _ids.AddOrUpdate(value, id);

    public bool Exists(string partitionKey, string chunkRef) => _existing.ContainsKey(partitionKey + "/" + chunkRef);

    public void MarkExisting(string partitionKey, string chunkRef)
    {
        if (_existing.Count >= MaxEntries)
        {
            _existing.Clear();
        }

        _existing.TryAdd(partitionKey + "/" + chunkRef, 0);
    }
}

/// <summary>Splitting large text into chunk rows, writing and deleting them, and reassembling it on read.</summary>
internal static class LargeText
{
    public const string ChunksSuffix = "Chunks";
    public const string BytesSuffix = "Bytes";
    public const string RowsSuffix = "ChunkRows";
    public const int BytesPerProperty = 64 * 1024;
    /// <summary>Eleven 64 KiB properties: about 0.96 MB as base64, which is how Azurite measures the 1 MiB entity limit (Azure counts raw bytes).</summary>
    public const int PropertiesPerRow = 11;
    public const int BytesPerRow = BytesPerProperty * PropertiesPerRow;

    /// <summary>Content ids are 16 hex digits of a SHA-256; random ids are 12, so the two never mix.</summary>
    public const int ContentIdLength = 16;

    // A full chunk row is about 0.96 MB of base64 on the wire: three fit in one 4 MiB transaction.
    private const long BatchWireBudget = 3_800_000;
    private const int RowWireOverhead = 1_200;
    private static readonly string[] DataProperties = [.. Enumerable.Range(0, PropertiesPerRow).Select(i => "D" + i.ToString("D2", CultureInfo.InvariantCulture))];

    public static ChunkSet Split(SdkTableEntity owner, string property, string value, bool contentAddressed, KnownChunks known)
    {
        var bytes = Encoding.UTF8.GetBytes(value);
        var id = contentAddressed ? known.ContentId(value, bytes) : Guid.NewGuid().ToString("N")[..12];
        var chunkRef = owner.RowKey + FlowKeys.ChunkMark + property.ToLowerInvariant() + "-" + id;
        var rowCount = Math.Max(1, (bytes.Length + BytesPerRow - 1) / BytesPerRow);
        owner[property + ChunksSuffix] = chunkRef;
        owner[property + BytesSuffix] = bytes.Length;
        owner[property + RowsSuffix] = rowCount;

        var rows = new List<SdkTableEntity>(rowCount);
        for (var r = 0; r < rowCount; r++)
        {
            var row = new SdkTableEntity(owner.PartitionKey, RowKey(chunkRef, r));
            var offset = r * BytesPerRow;
            for (var p = 0; p < PropertiesPerRow && offset < bytes.Length; p++, offset += BytesPerProperty)
            {
                row[DataProperties[p]] = bytes.AsSpan(offset, Math.Min(BytesPerProperty, bytes.Length - offset)).ToArray();
            }

            rows.Add(row);
        }

        return new ChunkSet(chunkRef, contentAddressed, rows);
    }

    /// <summary>Writes chunk rows (one partition) in as few transactions as fit, concurrently; skips content-addressed sets known to exist.</summary>
    public static async Task WriteAsync(SdkTableClient table, string partitionKey, IReadOnlyList<ChunkSet> sets, KnownChunks known, CancellationToken cancellationToken)
    {
        var pending = sets.Where(s => !(s.ContentAddressed && known.Exists(partitionKey, s.Ref))).ToList();
        if (pending.Count == 0)
        {
            return;
        }

        var batches = new List<List<SdkTableTransactionAction>>();
        List<SdkTableTransactionAction>? current = null;
        long size = 0;
        foreach (var row in pending.SelectMany(s => s.Rows))
        {
            var wire = RowWireOverhead + (row.Sum(p => p.Value is byte[] b ? (b.Length + 2L) / 3 * 4 : 0));
            if (current is null || current.Count == 100 || size + wire > BatchWireBudget)
            {
                current = [];
                batches.Add(current);
                size = 0;
            }

            current.Add(new SdkTableTransactionAction(SdkTableTransactionActionType.UpsertReplace, row));
            size += wire;
        }

        await Task.WhenAll(batches.Select(b => table.SubmitTransactionAsync(b, cancellationToken))).ConfigureAwait(false);
        foreach (var set in pending.Where(s => s.ContentAddressed))
        {
            known.MarkExisting(partitionKey, set.Ref);
        }
    }

    /// <summary>Deletes the rows of chunk sets that are not content-addressed (best-effort; missing rows are fine).</summary>
    public static Task DeleteAsync(SdkTableClient table, IEnumerable<ChunkSet> sets, CancellationToken cancellationToken) =>
        Task.WhenAll(sets.Where(s => !s.ContentAddressed).SelectMany(s => s.Rows)
            .Select(r => table.DeleteEntityAsync(r.PartitionKey, r.RowKey, cancellationToken: cancellationToken)));

    /// <summary>The chunk row keys an owner row points to.</summary>
    public static IEnumerable<string> ChunkRowKeys(SdkTableEntity owner)
    {
        foreach (var (name, value) in owner)
        {
            if (value is string chunkRef && name.EndsWith(ChunksSuffix, StringComparison.Ordinal) && owner.GetInt32(name[..^ChunksSuffix.Length] + RowsSuffix) is { } rows)
            {
                for (var r = 0; r < rows; r++)
                {
                    yield return RowKey(chunkRef, r);
                }
            }
        }
    }

    /// <summary>
    /// Puts the text of every chunked property of <paramref name="owners"/> back in place, from the chunk rows a query
    /// already returned (<paramref name="fetched"/>) or, for any not there, from a range query per value.
    /// </summary>
    public static async Task ResolveAsync(SdkTableClient table, IEnumerable<SdkTableEntity> owners, IReadOnlyDictionary<string, SdkTableEntity>? fetched, KnownChunks known, CancellationToken cancellationToken)
    {
        foreach (var owner in owners)
        {
            List<(string Property, string Ref, int Bytes, int Rows)>? pointers = null;
            foreach (var (name, value) in owner)
            {
                if (value is string chunkRef && name.EndsWith(ChunksSuffix, StringComparison.Ordinal))
                {
                    var property = name[..^ChunksSuffix.Length];
                    pointers ??= [];
                    pointers.Add((property, chunkRef, owner.GetInt32(property + BytesSuffix) ?? 0, owner.GetInt32(property + RowsSuffix) ?? 0));
                }
            }

            if (pointers is null)
            {
                continue;
            }

            foreach (var (property, chunkRef, byteCount, rowCount) in pointers)
            {
                var rows = new SdkTableEntity?[rowCount];
                for (var r = 0; r < rowCount; r++)
                {
                    rows[r] = fetched?.GetValueOrDefault(RowKey(chunkRef, r));
                }

                if (rows.Any(r => r is null))
                {
                    var filter = TableFilter.And(
                        TableFilter.Equal("PartitionKey", owner.PartitionKey),
                        TableFilter.GreaterThanOrEqual("RowKey", chunkRef + "-"),
                        TableFilter.LessThan("RowKey", chunkRef + "."));
                    await foreach (var row in table.QueryAsync<SdkTableEntity>(filter, cancellationToken: cancellationToken).ConfigureAwait(false))
                    {
                        if (int.TryParse(row.RowKey.AsSpan(chunkRef.Length + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var r) && r < rowCount)
                        {
                            rows[r] = row;
                        }
                    }
                }

                var text = Assemble(owner, property, rows, byteCount);
                owner[property] = text;
                var id = chunkRef[(chunkRef.LastIndexOf('-') + 1)..];
                if (id.Length == ContentIdLength && string.Equals(id, known.ContentId(text, Encoding.UTF8.GetBytes(text)), StringComparison.Ordinal))
                {
                    known.MarkExisting(owner.PartitionKey, chunkRef);
                }
            }
        }
    }

    private static string Assemble(SdkTableEntity owner, string property, SdkTableEntity?[] rows, int byteCount)
    {
        var buffer = new byte[byteCount];
        var offset = 0;
        for (var r = 0; r < rows.Length; r++)
        {
            var row = rows[r] ?? throw new FlowStoreException(
                $"The value of '{property}' of row '{owner.PartitionKey}'/'{owner.RowKey}' is missing chunk row {r} of {rows.Length}; the stored data is incomplete.");
            foreach (var name in DataProperties)
            {
                if (row.GetBinary(name) is not { } part)
                {
                    break;
                }

                if (offset + part.Length > byteCount)
                {
                    throw new FlowStoreException($"The chunks of '{property}' of row '{owner.PartitionKey}'/'{owner.RowKey}' hold more than the {byteCount:N0} bytes recorded.");
                }

                part.CopyTo(buffer, offset);
                offset += part.Length;
            }
        }

        if (offset != byteCount)
        {
            throw new FlowStoreException($"The chunks of '{property}' of row '{owner.PartitionKey}'/'{owner.RowKey}' hold {offset:N0} bytes, not the {byteCount:N0} recorded.");
        }

        return Encoding.UTF8.GetString(buffer);
    }

    private static string RowKey(string chunkRef, int row) => chunkRef + "-" + row.ToString("D4", CultureInfo.InvariantCulture);
}
