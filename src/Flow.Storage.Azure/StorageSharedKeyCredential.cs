using System.Security.Cryptography;
using System.Text;

namespace Flow.Storage.Azure;

/// <summary>
/// A storage account name and key used to sign requests with the SharedKey scheme. The key is held as
/// bytes and never appears in <see cref="ToString"/>, logs or exception messages.
/// </summary>
public sealed class StorageSharedKeyCredential
{
    private readonly byte[] _key;

    /// <summary>Creates the credential.</summary>
    /// <param name="accountName">The storage account name.</param>
    /// <param name="accountKey">The base64 account key.</param>
    /// <exception cref="ArgumentException">The key is not valid base64.</exception>
    public StorageSharedKeyCredential(string accountName, string accountKey)
    {
        ArgumentException.ThrowIfNullOrEmpty(accountName);
        ArgumentException.ThrowIfNullOrEmpty(accountKey);
        AccountName = accountName;
        _key = DecodeKey(accountKey) ?? throw new ArgumentException("The account key is not valid base64.", nameof(accountKey));
    }

    private StorageSharedKeyCredential(string accountName, byte[] key)
    {
        AccountName = accountName;
        _key = key;
    }

    /// <summary>The storage account name.</summary>
    public string AccountName { get; }

    /// <summary>Creates the credential, or returns null when the key is not valid base64.</summary>
    /// <param name="accountName">The storage account name.</param>
    /// <param name="accountKey">The base64 account key.</param>
    /// <returns>The credential, or null.</returns>
    public static StorageSharedKeyCredential? TryCreate(string accountName, string accountKey)
    {
        var key = DecodeKey(accountKey);
        return key is null ? null : new StorageSharedKeyCredential(accountName, key);
    }

    /// <summary>Computes the base64 HMAC-SHA256 signature of a string-to-sign with the account key.</summary>
    /// <param name="stringToSign">The canonical string to sign.</param>
    /// <returns>The base64 signature.</returns>
    public string ComputeSignature(string stringToSign)
    {
        ArgumentNullException.ThrowIfNull(stringToSign);
        Span<byte> mac = stackalloc byte[HMACSHA256.HashSizeInBytes];
        var byteCount = Encoding.UTF8.GetByteCount(stringToSign);
        var buffer = byteCount <= 1024 ? stackalloc byte[byteCount] : new byte[byteCount];
        Encoding.UTF8.GetBytes(stringToSign, buffer);
        HMACSHA256.HashData(_key, buffer, mac);
        return Convert.ToBase64String(mac);
    }

    /// <inheritdoc />
    public override string ToString() => $"SharedKey({AccountName})";

    internal string ExportKey() => Convert.ToBase64String(_key);

    private static byte[]? DecodeKey(string accountKey)
    {
        var buffer = new byte[accountKey.Length];
        return Convert.TryFromBase64String(accountKey, buffer, out var written) && written > 0 ? buffer[..written] : null;
    }
}
