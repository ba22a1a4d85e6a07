using System.Text.RegularExpressions;

namespace Flow.Storage.Azure;

/// <summary>
/// Azure's naming rules for tables, queues and entity keys, checked before any request is sent so a bad
/// name fails with the rule stated instead of an opaque 400 from the service.
/// </summary>
public static partial class StorageNames
{
    /// <summary>The largest PartitionKey or RowKey, in UTF-16 characters (1 KiB).</summary>
    public const int MaxKeyLength = 1024;

    /// <summary>Throws unless <paramref name="name"/> is a valid table name.</summary>
    /// <param name="name">The table name.</param>
    /// <exception cref="ArgumentException">The name breaks a rule; the message states it.</exception>
    public static void ValidateTableName(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (!TableName().IsMatch(name))
        {
            throw new ArgumentException($"'{name}' is not a valid Azure table name: a table name is 3 to 63 letters and digits and starts with a letter.", nameof(name));
        }

        if (name.Equals("tables", StringComparison.OrdinalIgnoreCase))
        {
            throw new ArgumentException("'tables' is reserved by the Table service and cannot be used as a table name.", nameof(name));
        }
    }

    /// <summary>Throws unless <paramref name="name"/> is a valid queue name.</summary>
    /// <param name="name">The queue name.</param>
    /// <exception cref="ArgumentException">The name breaks a rule; the message states it.</exception>
    public static void ValidateQueueName(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (!QueueName().IsMatch(name) || name.Contains("--", StringComparison.Ordinal))
        {
            throw new ArgumentException($"'{name}' is not a valid Azure queue name: a queue name is 3 to 63 lowercase letters, digits and single hyphens, and starts and ends with a letter or digit.", nameof(name));
        }
    }

    /// <summary>Throws unless <paramref name="key"/> is a valid PartitionKey or RowKey.</summary>
    /// <param name="key">The key.</param>
    /// <param name="which">"PartitionKey" or "RowKey", for the message.</param>
    /// <exception cref="ArgumentException">The key breaks a rule; the message states it.</exception>
    public static void ValidateKey(string key, string which)
    {
        ArgumentNullException.ThrowIfNull(key, which);
        if (key.Length > MaxKeyLength)
        {
            throw new ArgumentException($"The {which} is {key.Length} characters long; Azure allows at most {MaxKeyLength}.", which);
        }

        foreach (var c in key)
        {
            if (c is '/' or '\\' or '#' or '?' || char.IsControl(c))
            {
                throw new ArgumentException($"The {which} '{Printable(key)}' contains '{Printable(c.ToString())}': Azure table keys may not contain '/', '\\', '#', '?' or control characters (U+0000-U+001F, U+007F-U+009F).", which);
            }
        }
    }

    /// <summary>Throws unless <paramref name="name"/> is a valid entity property name.</summary>
    /// <param name="name">The property name.</param>
    /// <exception cref="ArgumentException">The name breaks a rule; the message states it.</exception>
    public static void ValidatePropertyName(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (!PropertyName().IsMatch(name))
        {
            throw new ArgumentException($"'{name}' is not a valid table property name: a property name is 1 to 255 characters, letters, digits and underscores, and starts with a letter or underscore.", nameof(name));
        }
    }

    private static string Printable(string s)
    {
        var chars = s.Select(c => char.IsControl(c) ? '\uFFFD' : c).ToArray();
        return new string(chars);
    }

    [GeneratedRegex("^[A-Za-z][A-Za-z0-9]{2,62}$", RegexOptions.CultureInvariant)]
    private static partial Regex TableName();

    [GeneratedRegex("^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$", RegexOptions.CultureInvariant)]
    private static partial Regex QueueName();

    [GeneratedRegex("^[A-Za-z_][A-Za-z0-9_]{0,254}$", RegexOptions.CultureInvariant)]
    private static partial Regex PropertyName();
}
