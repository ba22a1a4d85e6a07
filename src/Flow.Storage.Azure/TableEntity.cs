using System.Collections;
using System.Globalization;
using Azure;

namespace Flow.Storage.Azure;

/// <summary>
/// One row of an Azure table: its keys, its ETag and timestamp as the service reported them, and typed
/// properties. Supported property types are the Table service's own: <see cref="string"/>, <see cref="int"/>,
/// <see cref="long"/>, <see cref="double"/>, <see cref="bool"/>, <see cref="DateTimeOffset"/> (and <see cref="DateTime"/>,
/// stored as UTC), <see cref="Guid"/> and <see cref="byte"/>[] (binary). A property set to null is not stored.
/// </summary>
public sealed class TableEntity : IEnumerable<KeyValuePair<string, object?>>
{
    private readonly Dictionary<string, object?> _properties;

    /// <summary>Creates an entity with its keys.</summary>
    /// <param name="partitionKey">The PartitionKey.</param>
    /// <param name="rowKey">The RowKey.</param>
    public TableEntity(string partitionKey, string rowKey)
    {
        PartitionKey = partitionKey ?? throw new ArgumentNullException(nameof(partitionKey));
        RowKey = rowKey ?? throw new ArgumentNullException(nameof(rowKey));
        _properties = new Dictionary<string, object?>(StringComparer.Ordinal);
    }

    internal TableEntity(string partitionKey, string rowKey, int capacity)
    {
        PartitionKey = partitionKey;
        RowKey = rowKey;
        _properties = new Dictionary<string, object?>(capacity, StringComparer.Ordinal);
    }

    /// <summary>The PartitionKey: entities with the same one live together and can change together in a transaction.</summary>
    public string PartitionKey { get; set; }

    /// <summary>The RowKey: unique within the partition; entities are sorted by it.</summary>
    public string RowKey { get; set; }

    /// <summary>The entity's version as the service last reported it; pass it to <see cref="TableClient.UpdateEntityAsync"/> for optimistic concurrency.</summary>
    public ETag ETag { get; set; }

    /// <summary>When the service last modified the entity (read-only on the service side; ignored on writes).</summary>
    public DateTimeOffset? Timestamp { get; set; }

    /// <summary>The number of custom properties (keys and system properties excluded).</summary>
    public int Count => _properties.Count;

    /// <summary>The names of the custom properties.</summary>
    public IEnumerable<string> Keys => _properties.Keys;

    /// <summary>Gets or sets a custom property. Setting a value of an unsupported type throws.</summary>
    /// <param name="name">The property name.</param>
    /// <returns>The value, or null when the property is absent.</returns>
    public object? this[string name]
    {
        get => _properties.GetValueOrDefault(name);
        set
        {
            StorageNames.ValidatePropertyName(name);
            if (name is "PartitionKey" or "RowKey" or "Timestamp")
            {
                throw new ArgumentException($"'{name}' is a system property; use the {name} property of the entity instead.", nameof(name));
            }

            _properties[name] = Normalize(value, name);
        }
    }

    /// <summary>True when the entity has the custom property.</summary>
    /// <param name="name">The property name.</param>
    /// <returns>Whether it is present.</returns>
    public bool ContainsKey(string name) => _properties.ContainsKey(name);

    /// <summary>Removes a custom property.</summary>
    /// <param name="name">The property name.</param>
    /// <returns>Whether it was present.</returns>
    public bool Remove(string name) => _properties.Remove(name);

    /// <summary>Gets a custom property's value.</summary>
    /// <param name="name">The property name.</param>
    /// <param name="value">The value.</param>
    /// <returns>Whether it was present.</returns>
    public bool TryGetValue(string name, out object? value) => _properties.TryGetValue(name, out value);

    /// <summary>Reads a string property.</summary>
    /// <param name="name">The property name.</param>
    /// <returns>The value, or null when absent.</returns>
    public string? GetString(string name) => Get(name) switch
    {
        null => null,
        string s => s,
        var other => throw WrongType(name, other, "string"),
    };

    /// <summary>Reads a 32-bit integer property.</summary>
    /// <param name="name">The property name.</param>
    /// <returns>The value, or null when absent.</returns>
    public int? GetInt32(string name) => Get(name) switch
    {
        null => null,
        int i => i,
        long l when l is >= int.MinValue and <= int.MaxValue => (int)l,
        var other => throw WrongType(name, other, "Int32"),
    };

    /// <summary>Reads a 64-bit integer property (an Int32 value widens).</summary>
    /// <param name="name">The property name.</param>
    /// <returns>The value, or null when absent.</returns>
    public long? GetInt64(string name) => Get(name) switch
    {
        null => null,
        long l => l,
        int i => i,
        var other => throw WrongType(name, other, "Int64"),
    };

    /// <summary>Reads a double property (an integer value widens).</summary>
    /// <param name="name">The property name.</param>
    /// <returns>The value, or null when absent.</returns>
    public double? GetDouble(string name) => Get(name) switch
    {
        null => null,
        double d => d,
        int i => i,
        long l => l,
        var other => throw WrongType(name, other, "Double"),
    };

    /// <summary>Reads a Boolean property.</summary>
    /// <param name="name">The property name.</param>
    /// <returns>The value, or null when absent.</returns>
    public bool? GetBoolean(string name) => Get(name) switch
    {
        null => null,
        bool b => b,
        var other => throw WrongType(name, other, "Boolean"),
    };

    /// <summary>Reads a DateTime property.</summary>
    /// <param name="name">The property name.</param>
    /// <returns>The value (UTC), or null when absent.</returns>
    public DateTimeOffset? GetDateTimeOffset(string name) => Get(name) switch
    {
        null => null,
        DateTimeOffset d => d,
        var other => throw WrongType(name, other, "DateTime"),
    };

    /// <summary>Reads a Guid property (a string holding a GUID is accepted).</summary>
    /// <param name="name">The property name.</param>
    /// <returns>The value, or null when absent.</returns>
    public Guid? GetGuid(string name) => Get(name) switch
    {
        null => null,
        Guid g => g,
        string s when Guid.TryParse(s, CultureInfo.InvariantCulture, out var g) => g,
        var other => throw WrongType(name, other, "Guid"),
    };

    /// <summary>Reads a binary property.</summary>
    /// <param name="name">The property name.</param>
    /// <returns>The value, or null when absent.</returns>
    public byte[]? GetBinary(string name) => Get(name) switch
    {
        null => null,
        byte[] b => b,
        var other => throw WrongType(name, other, "Binary"),
    };

    /// <inheritdoc />
    public IEnumerator<KeyValuePair<string, object?>> GetEnumerator() => _properties.GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <inheritdoc />
    public override string ToString() => $"{PartitionKey}/{RowKey} ({_properties.Count} properties)";

    /// <summary>Sets a property that came from the service, skipping validation.</summary>
    internal void SetRaw(string name, object? value) => _properties[name] = value;

    private object? Get(string name) => _properties.GetValueOrDefault(name);

    private static InvalidCastException WrongType(string name, object value, string wanted) =>
        new($"Property '{name}' holds a {TypeName(value)}, not a {wanted}.");

    internal static string TypeName(object value) => value switch
    {
        string => "String",
        int => "Int32",
        long => "Int64",
        double => "Double",
        bool => "Boolean",
        DateTimeOffset => "DateTime",
        Guid => "Guid",
        byte[] => "Binary",
        _ => value.GetType().Name,
    };

    private static object? Normalize(object? value, string name) => value switch
    {
        null => null,
        string or int or long or double or bool or Guid or byte[] => value,
        DateTimeOffset dto => dto.ToUniversalTime(),
        DateTime dt => new DateTimeOffset(dt.Kind == DateTimeKind.Unspecified ? DateTime.SpecifyKind(dt, DateTimeKind.Utc) : dt.ToUniversalTime()),
        float f => (double)f,
        short s => (int)s,
        byte b => (int)b,
        ReadOnlyMemory<byte> m => m.ToArray(),
        _ => throw new ArgumentException(
            $"Property '{name}' has a value of type {value.GetType().Name}; table properties may be string, int, long, double, bool, DateTimeOffset/DateTime, Guid or byte[].",
            nameof(value)),
    };
}

/// <summary>How an update or upsert treats properties the entity does not carry.</summary>
public enum TableUpdateMode
{
    /// <summary>Keep properties that are not in the new entity (HTTP MERGE).</summary>
    Merge = 0,

    /// <summary>Replace the whole entity: properties not in the new entity are removed (HTTP PUT).</summary>
    Replace = 1,
}
