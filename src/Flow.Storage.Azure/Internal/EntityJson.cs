using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Azure;

namespace Flow.Storage.Azure.Internal;

/// <summary>
/// The Table service's JSON entity format (OData minimal metadata): values of types JSON cannot tell apart
/// carry a <c>Name@odata.type</c> annotation (Int64, Double, DateTime, Guid, Binary).
/// </summary>
internal static class EntityJson
{
    /// <summary>The largest entity the Table service stores: 1 MiB by its size formula.</summary>
    public const int MaxEntityBytes = 1024 * 1024;

    /// <summary>The largest string or binary property: 64 KiB (a string of 32 K UTF-16 characters).</summary>
    public const int MaxPropertyBytes = 64 * 1024;

    /// <summary>At most 252 custom properties (255 with PartitionKey, RowKey and Timestamp).</summary>
    public const int MaxCustomProperties = 252;

    private const string DateTimeFormat = "yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'";
    private static readonly DateTimeOffset MinDateTime = new(1601, 1, 1, 0, 0, 0, TimeSpan.Zero);

    /// <summary>Checks the service's limits before sending, so an oversize entity fails with the limit stated.</summary>
    public static void Validate(TableEntity entity)
    {
        StorageNames.ValidateKey(entity.PartitionKey, "PartitionKey");
        StorageNames.ValidateKey(entity.RowKey, "RowKey");
        if (entity.Count > MaxCustomProperties)
        {
            throw new ArgumentException($"Entity {Describe(entity)} has {entity.Count} properties; Azure tables allow at most {MaxCustomProperties} besides PartitionKey, RowKey and Timestamp.", nameof(entity));
        }

        // The documented size formula: 4 + 2 * len(PK + RK) + sum over properties of (8 + 2 * len(name) + size of value).
        long size = 4 + (2L * (entity.PartitionKey.Length + entity.RowKey.Length));
        foreach (var (name, value) in entity)
        {
            if (value is null)
            {
                continue;
            }

            long valueSize = value switch
            {
                string s => 4 + (2L * s.Length),
                byte[] b => 4 + b.Length,
                bool => 1,
                int => 4,
                Guid => 16,
                _ => 8,
            };

            if (value is string str && 2L * str.Length > MaxPropertyBytes)
            {
                throw new ArgumentException($"Property '{name}' of entity {Describe(entity)} is a string of {str.Length:N0} characters ({2L * str.Length:N0} bytes as UTF-16); Azure tables allow at most {MaxPropertyBytes / 2:N0} characters (64 KiB) per property.", nameof(entity));
            }

            if (value is byte[] bytes && bytes.Length > MaxPropertyBytes)
            {
                throw new ArgumentException($"Property '{name}' of entity {Describe(entity)} is {bytes.Length:N0} bytes; Azure tables allow at most {MaxPropertyBytes:N0} bytes (64 KiB) per binary property.", nameof(entity));
            }

            if (value is DateTimeOffset dto && dto < MinDateTime)
            {
                throw new ArgumentException($"Property '{name}' of entity {Describe(entity)} is {dto:O}; Azure tables store dates from 1601-01-01 UTC on.", nameof(entity));
            }

            size += 8 + (2L * name.Length) + valueSize;
        }

        if (size > MaxEntityBytes)
        {
            throw new ArgumentException($"Entity {Describe(entity)} is {size:N0} bytes by the Table service's size formula; an entity may be at most {MaxEntityBytes:N0} bytes (1 MiB). Split the value across rows or store it elsewhere.", nameof(entity));
        }
    }

    public static void Write(Utf8JsonWriter writer, TableEntity entity)
    {
        writer.WriteStartObject();
        writer.WriteString("PartitionKey", entity.PartitionKey);
        writer.WriteString("RowKey", entity.RowKey);
        foreach (var (name, value) in entity)
        {
            switch (value)
            {
                case null:
                    break;
                case string s:
                    writer.WriteString(name, s);
                    break;
                case int i:
                    writer.WriteNumber(name, i);
                    break;
                case long l:
                    writer.WriteString(name + "@odata.type", "Edm.Int64");
                    writer.WriteString(name, l.ToString(CultureInfo.InvariantCulture));
                    break;
                case double d:
                    writer.WriteString(name + "@odata.type", "Edm.Double");
                    if (double.IsNaN(d))
                    {
                        writer.WriteString(name, "NaN");
                    }
                    else if (double.IsPositiveInfinity(d))
                    {
                        writer.WriteString(name, "Infinity");
                    }
                    else if (double.IsNegativeInfinity(d))
                    {
                        writer.WriteString(name, "-Infinity");
                    }
                    else
                    {
                        writer.WriteNumber(name, d);
                    }

                    break;
                case bool b:
                    writer.WriteBoolean(name, b);
                    break;
                case DateTimeOffset dto:
                    writer.WriteString(name + "@odata.type", "Edm.DateTime");
                    writer.WriteString(name, dto.UtcDateTime.ToString(DateTimeFormat, CultureInfo.InvariantCulture));
                    break;
                case Guid g:
                    writer.WriteString(name + "@odata.type", "Edm.Guid");
                    writer.WriteString(name, g.ToString("D"));
                    break;
                case byte[] bytes:
                    writer.WriteString(name + "@odata.type", "Edm.Binary");
                    writer.WriteBase64String(name, bytes);
                    break;
                default:
                    throw new ArgumentException($"Property '{name}' has an unsupported type {value.GetType().Name}.");
            }
        }

        writer.WriteEndObject();
    }

    public static ReadOnlyMemory<byte> Serialize(TableEntity entity)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            Write(writer, entity);
        }

        return buffer.WrittenMemory;
    }

    /// <summary>Reads one entity object; annotations may come before or after the value they describe.</summary>
    public static TableEntity Read(JsonElement element)
    {
        string? pk = null, rk = null;
        Dictionary<string, string>? types = null;
        foreach (var property in element.EnumerateObject())
        {
            var name = property.Name;
            if (name.EndsWith("@odata.type", StringComparison.Ordinal))
            {
                types ??= new Dictionary<string, string>(StringComparer.Ordinal);
                types[name[..^"@odata.type".Length]] = property.Value.GetString() ?? string.Empty;
            }
            else if (name == "PartitionKey")
            {
                pk = property.Value.GetString();
            }
            else if (name == "RowKey")
            {
                rk = property.Value.GetString();
            }
        }

        var entity = new TableEntity(pk ?? string.Empty, rk ?? string.Empty, 8);
        foreach (var property in element.EnumerateObject())
        {
            var name = property.Name;
            if (name is "PartitionKey" or "RowKey" || name.EndsWith("@odata.type", StringComparison.Ordinal))
            {
                continue;
            }

            if (name.StartsWith("odata.", StringComparison.Ordinal))
            {
                if (name == "odata.etag")
                {
                    entity.ETag = new ETag(property.Value.GetString() ?? string.Empty);
                }

                continue;
            }

            string? type = null;
            types?.TryGetValue(name, out type);
            var value = ReadValue(property.Value, type, name);
            if (name == "Timestamp")
            {
                entity.Timestamp = value as DateTimeOffset? ?? (value is string ts ? ParseDate(ts, name) : null);
                continue;
            }

            entity.SetRaw(name, value);
        }

        return entity;
    }

    private static object? ReadValue(JsonElement value, string? type, string name)
    {
        if (value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        switch (type)
        {
            case "Edm.Int64":
                return value.ValueKind == JsonValueKind.String
                    ? long.Parse(value.GetString()!, NumberStyles.Integer, CultureInfo.InvariantCulture)
                    : value.GetInt64();
            case "Edm.Double":
                if (value.ValueKind == JsonValueKind.String)
                {
                    return value.GetString() switch
                    {
                        "NaN" => double.NaN,
                        "Infinity" or "INF" => double.PositiveInfinity,
                        "-Infinity" or "-INF" => double.NegativeInfinity,
                        var s => double.Parse(s!, NumberStyles.Float, CultureInfo.InvariantCulture),
                    };
                }

                return value.GetDouble();
            case "Edm.DateTime":
                return ParseDate(value.GetString()!, name);
            case "Edm.Guid":
                return Guid.Parse(value.GetString()!, CultureInfo.InvariantCulture);
            case "Edm.Binary":
                return value.GetBytesFromBase64();
            case "Edm.Int32":
                return value.ValueKind == JsonValueKind.String
                    ? int.Parse(value.GetString()!, NumberStyles.Integer, CultureInfo.InvariantCulture)
                    : value.GetInt32();
            case "Edm.Boolean":
                return value.ValueKind == JsonValueKind.String ? bool.Parse(value.GetString()!) : value.GetBoolean();
            case "Edm.String":
                return value.GetString();
            default:
                break;
        }

        return value.ValueKind switch
        {
            JsonValueKind.String => value.GetString(),
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            // Unannotated numbers: an integer literal is Int32 (Int64 always carries an annotation); anything with a
            // fraction or exponent (the service writes doubles as 1.0, never 1) is Double. Box each branch separately.
            JsonValueKind.Number => value.TryGetInt32(out var i) && IsIntegerLiteral(value) ? (object)i : value.GetDouble(),
            _ => value.GetRawText(),
        };
    }

    private static bool IsIntegerLiteral(JsonElement value)
    {
        var raw = value.GetRawText();
        return raw.AsSpan().IndexOfAny('.', 'e', 'E') < 0;
    }

    private static DateTimeOffset ParseDate(string text, string name)
    {
        if (DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var result))
        {
            return result;
        }

        throw new FormatException($"Property '{name}' holds '{text}', which is not an ISO-8601 date and time.");
    }

    private static string Describe(TableEntity entity) =>
        $"'{Truncate(entity.PartitionKey)}'/'{Truncate(entity.RowKey)}'";

    private static string Truncate(string s) => s.Length <= 64 ? s : string.Concat(s.AsSpan(0, 61), "...");

    internal static string EscapeKeyForPath(string key)
    {
        // Keys go inside a quoted OData literal: double the quotes, then percent-encode for the path.
        var quoted = key.Replace("'", "''", StringComparison.Ordinal);
        return Uri.EscapeDataString(quoted);
    }

    internal static string EntityPath(string table, string partitionKey, string rowKey)
    {
        var sb = new StringBuilder(table.Length + partitionKey.Length + rowKey.Length + 32);
        sb.Append(table).Append("(PartitionKey='").Append(EscapeKeyForPath(partitionKey))
            .Append("',RowKey='").Append(EscapeKeyForPath(rowKey)).Append("')");
        return sb.ToString();
    }
}
