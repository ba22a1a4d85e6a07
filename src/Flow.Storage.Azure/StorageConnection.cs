using Azure.Core;
using SdkSharedKey = Azure.Storage.StorageSharedKeyCredential;
using SdkTableSharedKey = Azure.Data.Tables.TableSharedKeyCredential;

namespace Flow.Storage.Azure;

/// <summary>
/// How to reach one storage account: the Table and Queue service endpoints and the credential that signs
/// requests. Build one from a connection string with <see cref="Parse(string, string)"/> or from
/// configuration the way the Azure Functions host reads it with <see cref="StorageConnectionFactory"/>.
/// </summary>
public sealed class StorageConnection
{
    /// <summary>The account name of the local emulator (Azurite).</summary>
    public const string DevelopmentAccountName = "devstoreaccount1";

    /// <summary>The well-known, public account key of the local emulator (Azurite). Not a secret.</summary>
    public const string DevelopmentAccountKey = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

    // The base64 account key, checked at parse time; it leaves this class only as an SDK credential or in ToConnectionString.
    private readonly string? _accountKey;

    private StorageConnection(string? accountName, Uri? tableEndpoint, Uri? queueEndpoint, Uri? blobEndpoint,
        string? accountKey, string? sharedAccessSignature, TokenCredential? tokenCredential)
    {
        AccountName = accountName;
        TableEndpoint = tableEndpoint;
        QueueEndpoint = queueEndpoint;
        BlobEndpoint = blobEndpoint;
        _accountKey = accountKey;
        SharedKey = accountKey is null ? null : new SdkSharedKey(accountName!, accountKey);
        SharedAccessSignature = sharedAccessSignature;
        TokenCredential = tokenCredential;
    }

    /// <summary>The storage account name, when known (required for SharedKey signing).</summary>
    public string? AccountName { get; }

    /// <summary>The Table service endpoint, for example <c>https://acct.table.core.windows.net/</c> or <c>http://127.0.0.1:10002/devstoreaccount1/</c>.</summary>
    public Uri? TableEndpoint { get; }

    /// <summary>The Queue service endpoint.</summary>
    public Uri? QueueEndpoint { get; }

    /// <summary>The Blob service endpoint (the flow store's payload blobs), or null.</summary>
    public Uri? BlobEndpoint { get; }

    /// <summary>
    /// The account key as the Azure SDK's credential (Blob and Queue clients), when the connection uses SharedKey authorization.
    /// Its <c>ToString</c> does not show the key.
    /// </summary>
    public SdkSharedKey? SharedKey { get; }

    /// <summary>A shared access signature (query string without the leading '?'), when the connection uses one.</summary>
    public string? SharedAccessSignature { get; }

    /// <summary>A Microsoft Entra ID credential, when the connection is identity-based.</summary>
    public TokenCredential? TokenCredential { get; }

    /// <summary>A connection to the local emulator on its default ports (<c>UseDevelopmentStorage=true</c>).</summary>
    public static StorageConnection Development { get; } = Parse("UseDevelopmentStorage=true");

    /// <summary>Creates a connection that authorizes with a Microsoft Entra ID token credential.</summary>
    /// <param name="credential">The credential, for example a managed identity.</param>
    /// <param name="tableEndpoint">The Table service endpoint, or null if tables are not used.</param>
    /// <param name="queueEndpoint">The Queue service endpoint, or null if queues are not used.</param>
    /// <param name="blobEndpoint">The Blob service endpoint, or null.</param>
    /// <param name="accountName">The account name, when known.</param>
    public static StorageConnection FromTokenCredential(TokenCredential credential, Uri? tableEndpoint, Uri? queueEndpoint, Uri? blobEndpoint = null, string? accountName = null)
    {
        ArgumentNullException.ThrowIfNull(credential);
        return new StorageConnection(accountName, tableEndpoint, queueEndpoint, blobEndpoint, null, null, credential);
    }

    /// <summary>
    /// Parses a storage connection string: <c>UseDevelopmentStorage=true</c> (optionally with
    /// <c>DevelopmentStorageProxyUri</c>), <c>AccountName</c>/<c>AccountKey</c> with
    /// <c>DefaultEndpointsProtocol</c> and <c>EndpointSuffix</c>, explicit <c>TableEndpoint</c>/<c>QueueEndpoint</c>/<c>BlobEndpoint</c>,
    /// and <c>SharedAccessSignature</c>.
    /// </summary>
    /// <param name="connectionString">The connection string.</param>
    /// <param name="settingName">The name of the setting it came from, used in error messages.</param>
    /// <returns>The connection.</returns>
    /// <exception cref="StorageConfigurationException">The connection string is malformed or incomplete; the message names the setting and never echoes the key.</exception>
    public static StorageConnection Parse(string connectionString, string settingName = "connection string")
    {
        ArgumentNullException.ThrowIfNull(settingName);
        if (string.IsNullOrWhiteSpace(connectionString))
        {
            throw new StorageConfigurationException(settingName, $"The storage setting '{settingName}' is empty. Set it to a connection string such as 'UseDevelopmentStorage=true' or 'DefaultEndpointsProtocol=https;AccountName=...;AccountKey=...'.");
        }

        var values = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        var segmentIndex = 0;
        foreach (var rawSegment in connectionString.Split(';'))
        {
            segmentIndex++;
            var segment = rawSegment.Trim();
            if (segment.Length == 0)
            {
                continue;
            }

            var eq = segment.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0)
            {
                throw new StorageConfigurationException(settingName, $"The storage setting '{settingName}' is not a valid connection string: part {segmentIndex} is not of the form 'Name=Value'.");
            }

            var key = segment[..eq].Trim();
            var value = segment[(eq + 1)..].Trim();
            if (!values.TryAdd(key, value))
            {
                throw new StorageConfigurationException(settingName, $"The storage setting '{settingName}' names '{key}' more than once.");
            }
        }

        if (values.TryGetValue("UseDevelopmentStorage", out var useDev))
        {
            if (!bool.TryParse(useDev, out var dev) || !dev)
            {
                throw new StorageConfigurationException(settingName, $"The storage setting '{settingName}' has UseDevelopmentStorage='{useDev}'; the only accepted value is 'true'.");
            }

            var proxy = values.TryGetValue("DevelopmentStorageProxyUri", out var p) ? ParseUri(p, settingName, "DevelopmentStorageProxyUri") : new Uri("http://127.0.0.1");
            return new StorageConnection(DevelopmentAccountName,
                DevEndpoint(proxy, 10002), DevEndpoint(proxy, 10001), DevEndpoint(proxy, 10000), DevelopmentAccountKey, null, null);
        }

        values.TryGetValue("AccountName", out var accountName);
        accountName = string.IsNullOrEmpty(accountName) ? null : accountName;
        var protocol = values.TryGetValue("DefaultEndpointsProtocol", out var proto) ? proto.ToLowerInvariant() : "https";
        if (protocol is not ("http" or "https"))
        {
            throw new StorageConfigurationException(settingName, $"The storage setting '{settingName}' has DefaultEndpointsProtocol='{proto}'; use 'https' or 'http'.");
        }

        var suffix = values.TryGetValue("EndpointSuffix", out var s) && s.Length > 0 ? s : "core.windows.net";

        Uri? Endpoint(string explicitKey, string service)
        {
            if (values.TryGetValue(explicitKey, out var explicitValue) && explicitValue.Length > 0)
            {
                return ParseUri(explicitValue, settingName, explicitKey);
            }

            return accountName is null ? null : new Uri($"{protocol}://{accountName}.{service}.{suffix}/");
        }

        var table = Endpoint("TableEndpoint", "table");
        var queue = Endpoint("QueueEndpoint", "queue");
        var blob = Endpoint("BlobEndpoint", "blob");
        if (table is null && queue is null && blob is null)
        {
            throw new StorageConfigurationException(settingName, $"The storage setting '{settingName}' names no account: give AccountName (with AccountKey) or explicit TableEndpoint/QueueEndpoint values.");
        }

        string? sharedKey = null;
        if (values.TryGetValue("AccountKey", out var accountKey) && accountKey.Length > 0)
        {
            if (accountName is null)
            {
                throw new StorageConfigurationException(settingName, $"The storage setting '{settingName}' has an AccountKey but no AccountName; SharedKey signing needs both.");
            }

            sharedKey = IsBase64Key(accountKey) ? accountKey
                : throw new StorageConfigurationException(settingName, $"The storage setting '{settingName}' has an AccountKey that is not valid base64. Copy the key again from the portal (Access keys).");
        }

        string? sas = null;
        if (values.TryGetValue("SharedAccessSignature", out var sasValue) && sasValue.Length > 0)
        {
            sas = sasValue.TrimStart('?');
        }

        if (sharedKey is null && sas is null)
        {
            throw new StorageConfigurationException(settingName, $"The storage setting '{settingName}' has no credential: give AccountKey or SharedAccessSignature, or use identity-based settings ('{settingName}__accountName' or '{settingName}__tableServiceUri'/'__queueServiceUri', with '__credential').");
        }

        return new StorageConnection(accountName, table, queue, blob, sharedKey, sas, null);
    }

    /// <summary>Returns a connection string for this connection when it uses SharedKey or a SAS (for tools and child processes); null for token credentials.</summary>
    /// <returns>The connection string, which contains the account key: treat it as a secret.</returns>
    public string? ToConnectionString()
    {
        if (SharedKey is null && SharedAccessSignature is null)
        {
            return null;
        }

        var parts = new List<string>();
        if (AccountName is not null)
        {
            parts.Add("AccountName=" + AccountName);
        }

        if (_accountKey is not null)
        {
            parts.Add("AccountKey=" + _accountKey);
        }

        if (SharedAccessSignature is not null)
        {
            parts.Add("SharedAccessSignature=" + SharedAccessSignature);
        }

        if (BlobEndpoint is not null)
        {
            parts.Add("BlobEndpoint=" + BlobEndpoint.AbsoluteUri);
        }

        if (QueueEndpoint is not null)
        {
            parts.Add("QueueEndpoint=" + QueueEndpoint.AbsoluteUri);
        }

        if (TableEndpoint is not null)
        {
            parts.Add("TableEndpoint=" + TableEndpoint.AbsoluteUri);
        }

        return string.Join(';', parts) + ";";
    }

    /// <summary>The account key as the Table SDK's credential, when the connection uses SharedKey authorization.</summary>
    internal SdkTableSharedKey? CreateTableSharedKey() => _accountKey is null ? null : new SdkTableSharedKey(AccountName!, _accountKey);

    private static bool IsBase64Key(string accountKey)
    {
        var buffer = new byte[accountKey.Length];
        return Convert.TryFromBase64String(accountKey, buffer, out var written) && written > 0;
    }

    private static Uri DevEndpoint(Uri proxy, int port)
    {
        var builder = new UriBuilder(proxy) { Port = port, Path = "/" + DevelopmentAccountName + "/" };
        return builder.Uri;
    }

    internal static Uri ParseUri(string value, string settingName, string part)
    {
        if (!Uri.TryCreate(value, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
        {
            throw new StorageConfigurationException(settingName, $"The storage setting '{settingName}' has {part}='{value}', which is not an absolute http(s) URI.");
        }

        // Service endpoints are base addresses: make sure relative paths append rather than replace the last segment.
        return uri.AbsolutePath.EndsWith('/') ? uri : new Uri(uri.AbsoluteUri + "/");
    }
}
