using System.Data.Common;
using Flow.Sdk;
using Npgsql;
using NpgsqlTypes;

namespace Flow.Storage.Postgres;

/// <summary>Conversions between Flow's values and PostgreSQL's, in one place.</summary>
internal static class PgValues
{
    /// <summary>
    /// PostgreSQL text cannot hold U+0000; it is stored as U+2400 (SYMBOL FOR NULL). Every other character is kept
    /// exactly. (JSON payloads never contain a raw U+0000: JSON escapes it.)
    /// </summary>
    public static string? Text(string? value) =>
        value is null || !value.Contains('\0', StringComparison.Ordinal) ? value : value.Replace('\0', '\u2400');

    /// <summary>A positional parameter; null becomes SQL NULL (its type inferred from where it is used).</summary>
    public static NpgsqlParameter P(object? value) => new() { Value = value ?? DBNull.Value };

    /// <summary>A text parameter (U+0000 replaced, see <see cref="Text"/>).</summary>
    public static NpgsqlParameter Str(string? value) => new() { NpgsqlDbType = NpgsqlDbType.Text, Value = (object?)Text(value) ?? DBNull.Value };

    /// <summary>A timestamptz parameter (an instant; Flow's times are already UTC microseconds).</summary>
    public static NpgsqlParameter Time(DateTimeOffset? value) =>
        new() { NpgsqlDbType = NpgsqlDbType.TimestampTz, Value = value is { } time ? time.UtcDateTime : DBNull.Value };

    /// <summary>A text[] parameter.</summary>
    public static NpgsqlParameter Texts(IEnumerable<string?> values) =>
        new() { NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Text, Value = values.Select(Text).ToArray() };

    /// <summary>An integer[] parameter.</summary>
    public static NpgsqlParameter Ints(IEnumerable<int> values) =>
        new() { NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.Integer, Value = values.ToArray() };

    /// <summary>A timestamptz[] parameter.</summary>
    public static NpgsqlParameter Times(IEnumerable<DateTimeOffset?> values) =>
        new() { NpgsqlDbType = NpgsqlDbType.Array | NpgsqlDbType.TimestampTz, Value = values.Select(v => v?.UtcDateTime).ToArray() };

    /// <summary>Reads a timestamptz column as an instant with offset zero.</summary>
    public static DateTimeOffset GetTime(DbDataReader reader, int ordinal) =>
        new(DateTime.SpecifyKind(reader.GetDateTime(ordinal), DateTimeKind.Utc));

    /// <summary>Reads a nullable timestamptz column.</summary>
    public static DateTimeOffset? GetTimeOrNull(DbDataReader reader, int ordinal) =>
        reader.IsDBNull(ordinal) ? null : GetTime(reader, ordinal);

    /// <summary>Reads a nullable text column.</summary>
    public static string? GetStringOrNull(DbDataReader reader, int ordinal) =>
        reader.IsDBNull(ordinal) ? null : reader.GetString(ordinal);

    /// <summary>Reads three failure columns (type, message, stack trace) starting at <paramref name="ordinal"/>.</summary>
    public static FailureInfo? GetFailure(DbDataReader reader, int ordinal) =>
        reader.IsDBNull(ordinal) ? null : new FailureInfo(reader.GetString(ordinal), GetStringOrNull(reader, ordinal + 1) ?? string.Empty, GetStringOrNull(reader, ordinal + 2));

    /// <summary>Parses a stored enum word.</summary>
    public static T ParseEnum<T>(string value)
        where T : struct, Enum =>
        Enum.TryParse<T>(value, ignoreCase: false, out var parsed)
            ? parsed
            : throw new InvalidDataException($"'{value}' is not a {typeof(T).Name}.");
}
