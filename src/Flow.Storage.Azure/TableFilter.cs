using System.Globalization;
using System.Text;

namespace Flow.Storage.Azure;

/// <summary>
/// Builds OData <c>$filter</c> expressions for table queries with every value escaped and typed, so no
/// caller-supplied text can change the meaning of a filter (no OData injection).
/// </summary>
/// <example>
/// <code>
/// var filter = TableFilter.Create($"PartitionKey eq {runId} and RowKey ge {fromKey}");
/// var same = TableFilter.And(TableFilter.Equal("PartitionKey", runId), TableFilter.GreaterThanOrEqual("RowKey", fromKey));
/// </code>
/// </example>
public static class TableFilter
{
    /// <summary>
    /// Builds a filter from an interpolated string: the literal text is kept, each interpolated value is
    /// turned into a typed, escaped OData literal (strings quoted with quotes doubled, <c>123L</c> for longs,
    /// <c>datetime'…'</c>, <c>guid'…'</c>, <c>X'…'</c> for binary).
    /// </summary>
    /// <param name="filter">The filter, for example <c>$"PartitionKey eq {pk}"</c>.</param>
    /// <returns>The filter text.</returns>
    public static string Create(FormattableString filter)
    {
        ArgumentNullException.ThrowIfNull(filter);
        var args = filter.GetArguments();
        var literals = new object?[args.Length];
        for (var i = 0; i < args.Length; i++)
        {
            literals[i] = Literal(args[i]);
        }

        return string.Format(CultureInfo.InvariantCulture, filter.Format, literals);
    }

    /// <summary>Formats a value as a typed OData literal.</summary>
    /// <param name="value">A string, int, long, double, bool, DateTimeOffset, DateTime, Guid or byte[].</param>
    /// <returns>The literal.</returns>
    /// <exception cref="ArgumentException">The value is null or of an unsupported type.</exception>
    public static string Literal(object? value) => value switch
    {
        null => throw new ArgumentException("Table filters cannot compare with null: the Table service does not store null properties.", nameof(value)),
        string s => "'" + s.Replace("'", "''", StringComparison.Ordinal) + "'",
        bool b => b ? "true" : "false",
        int i => i.ToString(CultureInfo.InvariantCulture),
        long l => l.ToString(CultureInfo.InvariantCulture) + "L",
        double d => FormatDouble(d),
        float f => FormatDouble(f),
        DateTimeOffset dto => "datetime'" + dto.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", CultureInfo.InvariantCulture) + "'",
        DateTime dt => Literal(new DateTimeOffset(dt.Kind == DateTimeKind.Unspecified ? DateTime.SpecifyKind(dt, DateTimeKind.Utc) : dt.ToUniversalTime())),
        Guid g => "guid'" + g.ToString("D") + "'",
        byte[] bytes => "X'" + Convert.ToHexStringLower(bytes) + "'",
        _ => throw new ArgumentException($"A {value.GetType().Name} cannot be used in a table filter; use string, int, long, double, bool, DateTimeOffset, Guid or byte[].", nameof(value)),
    };

    /// <summary><c>property eq value</c>.</summary>
    /// <param name="property">The property name.</param>
    /// <param name="value">The value.</param>
    /// <returns>The filter.</returns>
    public static string Equal(string property, object value) => Compare(property, "eq", value);

    /// <summary><c>property ne value</c>.</summary>
    /// <param name="property">The property name.</param>
    /// <param name="value">The value.</param>
    /// <returns>The filter.</returns>
    public static string NotEqual(string property, object value) => Compare(property, "ne", value);

    /// <summary><c>property gt value</c>.</summary>
    /// <param name="property">The property name.</param>
    /// <param name="value">The value.</param>
    /// <returns>The filter.</returns>
    public static string GreaterThan(string property, object value) => Compare(property, "gt", value);

    /// <summary><c>property ge value</c>.</summary>
    /// <param name="property">The property name.</param>
    /// <param name="value">The value.</param>
    /// <returns>The filter.</returns>
    public static string GreaterThanOrEqual(string property, object value) => Compare(property, "ge", value);

    /// <summary><c>property lt value</c>.</summary>
    /// <param name="property">The property name.</param>
    /// <param name="value">The value.</param>
    /// <returns>The filter.</returns>
    public static string LessThan(string property, object value) => Compare(property, "lt", value);

    /// <summary><c>property le value</c>.</summary>
    /// <param name="property">The property name.</param>
    /// <param name="value">The value.</param>
    /// <returns>The filter.</returns>
    public static string LessThanOrEqual(string property, object value) => Compare(property, "le", value);

    /// <summary>All clauses must hold: <c>(a) and (b) and …</c>.</summary>
    /// <param name="clauses">Filters made by this class.</param>
    /// <returns>The filter.</returns>
    public static string And(params string[] clauses) => Join(" and ", clauses);

    /// <summary>Any clause may hold: <c>(a) or (b) or …</c>.</summary>
    /// <param name="clauses">Filters made by this class.</param>
    /// <returns>The filter.</returns>
    public static string Or(params string[] clauses) => Join(" or ", clauses);

    /// <summary><c>not (clause)</c>.</summary>
    /// <param name="clause">A filter made by this class.</param>
    /// <returns>The filter.</returns>
    public static string Not(string clause)
    {
        ArgumentException.ThrowIfNullOrEmpty(clause);
        return "not (" + clause + ")";
    }

    /// <summary>
    /// Rows of one partition whose RowKey starts with <paramref name="prefix"/>: a range query
    /// (<c>RowKey ge prefix and RowKey lt prefix+1</c>) that the service answers without a scan.
    /// </summary>
    /// <param name="partitionKey">The partition.</param>
    /// <param name="prefix">The RowKey prefix (non-empty).</param>
    /// <returns>The filter.</returns>
    public static string RowKeyPrefix(string partitionKey, string prefix)
    {
        ArgumentException.ThrowIfNullOrEmpty(prefix);
        var upper = new StringBuilder(prefix);
        upper[^1] = (char)(upper[^1] + 1);
        return And(Equal("PartitionKey", partitionKey), GreaterThanOrEqual("RowKey", prefix), LessThan("RowKey", upper.ToString()));
    }

    private static string Compare(string property, string op, object value)
    {
        StorageNames.ValidatePropertyName(property);
        return property + " " + op + " " + Literal(value);
    }

    private static string Join(string separator, string[] clauses)
    {
        ArgumentNullException.ThrowIfNull(clauses);
        if (clauses.Length == 0)
        {
            throw new ArgumentException("At least one clause is needed.", nameof(clauses));
        }

        return clauses.Length == 1 ? clauses[0] : "(" + string.Join(")" + separator + "(", clauses) + ")";
    }

    private static string FormatDouble(double d)
    {
        if (double.IsNaN(d) || double.IsInfinity(d))
        {
            throw new ArgumentException("NaN and infinities cannot be used in a table filter.", nameof(d));
        }

        var s = d.ToString("R", CultureInfo.InvariantCulture);
        return s.AsSpan().IndexOfAny('.', 'E', 'e') >= 0 ? s : s + ".0";
    }
}
