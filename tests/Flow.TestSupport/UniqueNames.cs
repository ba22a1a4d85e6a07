using System.Security.Cryptography;
using System.Text;

namespace Flow.TestSupport;

/// <summary>
/// Unique, valid resource names per test, with a readable prefix (by default the current test's method name), so tests
/// sharing one Azurite or PostgreSQL never see each other's data and a leftover is easy to trace to its test.
/// </summary>
public static class UniqueNames
{
    private const int SuffixLength = 10;
    private const string Alphabet = "abcdefghijklmnopqrstuvwxyz0123456789";

    /// <summary>An Azure table name: <c>^[A-Za-z][A-Za-z0-9]{2,62}$</c>, e.g. <c>SaveRunStoresIt4k2j9xq0ab</c>.</summary>
    /// <param name="prefix">Readable prefix; the current test method's name when null. Invalid characters are dropped.</param>
    public static string Table(string? prefix = null)
    {
        var clean = new string([.. (prefix ?? CurrentTestName()).Where(char.IsAsciiLetterOrDigit)]).TrimStart("0123456789".ToCharArray());
        if (clean.Length == 0)
        {
            clean = "t";
        }

        return Truncate(clean, 63 - SuffixLength) + Suffix();
    }

    /// <summary>An Azure queue name: lowercase letters, digits and single hyphens, 3–63 characters, alphanumeric at both ends.</summary>
    /// <param name="prefix">Readable prefix; the current test method's name when null. Invalid characters become hyphens.</param>
    public static string Queue(string? prefix = null) => Hyphenated(prefix, '-', 63);

    /// <summary>A PostgreSQL database name: lowercase letters, digits and underscores, starting with a letter, at most 63 bytes.</summary>
    /// <param name="prefix">Readable prefix; the current test method's name when null.</param>
    public static string Database(string? prefix = null) => Hyphenated(prefix, '_', 63);

    /// <summary>A PostgreSQL schema name (same rules as <see cref="Database"/>).</summary>
    /// <param name="prefix">Readable prefix; the current test method's name when null.</param>
    public static string Schema(string? prefix = null) => Hyphenated(prefix, '_', 63);

    /// <summary>A random suffix of lowercase letters and digits (about 51 bits).</summary>
    public static string Suffix()
    {
        Span<char> chars = stackalloc char[SuffixLength];
        for (var i = 0; i < chars.Length; i++)
        {
            chars[i] = Alphabet[RandomNumberGenerator.GetInt32(Alphabet.Length)];
        }

        return new string(chars);
    }

    private static string Hyphenated(string? prefix, char separator, int maxLength)
    {
        var source = prefix ?? CurrentTestName();
        var builder = new StringBuilder(source.Length);
        foreach (var c in source)
        {
            if (char.IsAsciiLetterOrDigit(c))
            {
                builder.Append(char.ToLowerInvariant(c));
            }
            else if (builder.Length > 0 && builder[^1] != separator)
            {
                builder.Append(separator);
            }
        }

        var clean = builder.ToString().TrimStart("0123456789".ToCharArray()).Trim(separator);
        if (clean.Length == 0)
        {
            clean = "t";
        }

        clean = Truncate(clean, maxLength - SuffixLength - 1).TrimEnd(separator);
        return clean + separator + Suffix();
    }

    private static string Truncate(string value, int length) => value.Length <= length ? value : value[..length];

    private static string CurrentTestName() => TestContext.Current.TestMethod?.MethodName ?? "test";
}
