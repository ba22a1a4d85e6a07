using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Flow.ControlPlane.Secrets;

/// <summary>
/// HMAC-SHA256 signatures of webhook bodies (docs/automations.md). Outgoing webhooks are signed over
/// <c>{timestamp}.{body}</c> and carry <see cref="TimestampHeader"/> and <see cref="SignatureHeader"/>
/// (<c>sha256=</c> and lowercase hex), so a receiver can refuse replays; incoming webhooks are checked over the body alone or
/// over the same timestamped form, as each webhook is configured (the form most Git hosts and SaaS use is the body alone).
/// Comparison is constant-time.
/// </summary>
public static class WebhookSignature
{
    /// <summary>The header that carries an outgoing webhook's signature.</summary>
    public const string SignatureHeader = "X-Flow-Signature";

    /// <summary>The header that carries an outgoing webhook's Unix time in seconds, part of what is signed.</summary>
    public const string TimestampHeader = "X-Flow-Timestamp";

    private const string Prefix = "sha256=";

    /// <summary>Signs a body alone: <c>sha256=</c> and the lowercase hex HMAC-SHA256 of <paramref name="body"/>.</summary>
    /// <param name="secret">The key.</param>
    /// <param name="body">The bytes sent.</param>
    /// <returns>The signature header's value.</returns>
    public static string SignBody(ReadOnlySpan<byte> secret, ReadOnlySpan<byte> body) =>
        Prefix + Convert.ToHexStringLower(HMACSHA256.HashData(secret, body));

    /// <summary>Signs <c>{unixSeconds}.{body}</c>, the form outgoing webhooks use.</summary>
    /// <param name="secret">The key.</param>
    /// <param name="unixSeconds">The timestamp sent in <see cref="TimestampHeader"/>.</param>
    /// <param name="body">The bytes sent.</param>
    /// <returns>The signature header's value.</returns>
    public static string SignTimestamped(ReadOnlySpan<byte> secret, long unixSeconds, ReadOnlySpan<byte> body) =>
        SignBody(secret, Timestamped(unixSeconds, body));

    /// <summary>Checks a signature over the body alone, in constant time.</summary>
    /// <param name="secret">The key.</param>
    /// <param name="body">The bytes received.</param>
    /// <param name="signature">The header value received (<c>sha256=hex</c>, or bare hex); null or malformed fails.</param>
    /// <returns>True when the signature is the body's.</returns>
    public static bool VerifyBody(ReadOnlySpan<byte> secret, ReadOnlySpan<byte> body, string? signature) =>
        TryDecode(signature, out var received) && CryptographicOperations.FixedTimeEquals(received, HMACSHA256.HashData(secret, body));

    /// <summary>Checks a signature over <c>{unixSeconds}.{body}</c>, in constant time.</summary>
    /// <param name="secret">The key.</param>
    /// <param name="unixSeconds">The timestamp received.</param>
    /// <param name="body">The bytes received.</param>
    /// <param name="signature">The header value received.</param>
    /// <returns>True when the signature matches.</returns>
    public static bool VerifyTimestamped(ReadOnlySpan<byte> secret, long unixSeconds, ReadOnlySpan<byte> body, string? signature) =>
        VerifyBody(secret, Timestamped(unixSeconds, body), signature);

    private static byte[] Timestamped(long unixSeconds, ReadOnlySpan<byte> body)
    {
        var prefix = Encoding.ASCII.GetBytes(unixSeconds.ToString(CultureInfo.InvariantCulture) + ".");
        var signed = new byte[prefix.Length + body.Length];
        prefix.CopyTo(signed, 0);
        body.CopyTo(signed.AsSpan(prefix.Length));
        return signed;
    }

    private static bool TryDecode(string? signature, out byte[] mac)
    {
        mac = [];
        if (signature is null)
        {
            return false;
        }

        var hex = signature.Trim();
        if (hex.StartsWith(Prefix, StringComparison.OrdinalIgnoreCase))
        {
            hex = hex[Prefix.Length..];
        }

        if (hex.Length != 64)
        {
            return false;
        }

        try
        {
            mac = Convert.FromHexString(hex);
            return true;
        }
        catch (FormatException)
        {
            return false;
        }
    }
}
