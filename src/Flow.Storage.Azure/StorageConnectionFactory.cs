using Azure.Core;
using Azure.Identity;
using Microsoft.Extensions.Configuration;

namespace Flow.Storage.Azure;

/// <summary>
/// Reads a storage connection from configuration the way the Azure Functions host reads
/// <c>AzureWebJobsStorage</c>: either a connection string in the setting itself (or in
/// <c>ConnectionStrings:&lt;name&gt;</c>), or identity-based settings under the prefix —
/// <c>&lt;name&gt;__accountName</c>, or <c>&lt;name&gt;__tableServiceUri</c> / <c>__queueServiceUri</c> /
/// <c>__blobServiceUri</c>, with <c>__credential</c> (<c>managedidentity</c> or absent for the default
/// credential chain), <c>__clientId</c>, and <c>__tenantId</c> + <c>__clientSecret</c> for a service principal.
/// Environment variables use <c>__</c> where configuration keys use <c>:</c>; both work.
/// </summary>
public static class StorageConnectionFactory
{
    /// <summary>The setting the Functions host uses for its own storage, and Flow's default.</summary>
    public const string DefaultSettingName = "AzureWebJobsStorage";

    /// <summary>Reads the connection named <paramref name="settingName"/> from configuration.</summary>
    /// <param name="configuration">The configuration (app settings, environment variables, local.settings.json values).</param>
    /// <param name="settingName">The setting name or prefix, <c>AzureWebJobsStorage</c> by default.</param>
    /// <returns>The connection.</returns>
    /// <exception cref="StorageConfigurationException">The setting is missing or unusable; the message names it and says what to set.</exception>
    public static StorageConnection FromConfiguration(IConfiguration configuration, string settingName = DefaultSettingName)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        ArgumentException.ThrowIfNullOrEmpty(settingName);

        var value = configuration[settingName];
        if (!string.IsNullOrWhiteSpace(value))
        {
            return StorageConnection.Parse(value, settingName);
        }

        var connectionString = configuration.GetConnectionString(settingName);
        if (!string.IsNullOrWhiteSpace(connectionString))
        {
            return StorageConnection.Parse(connectionString, "ConnectionStrings:" + settingName);
        }

        var section = configuration.GetSection(settingName);
        if (!section.GetChildren().Any())
        {
            throw new StorageConfigurationException(settingName,
                $"The storage setting '{settingName}' is missing. Set it to a connection string (for local development: 'UseDevelopmentStorage=true'), " +
                $"or use identity-based settings: '{settingName}__accountName' (or '{settingName}__tableServiceUri' and '{settingName}__queueServiceUri'), optionally with '{settingName}__credential=managedidentity' and '{settingName}__clientId'.");
        }

        return FromIdentitySettings(section, settingName);
    }

    private static StorageConnection FromIdentitySettings(IConfigurationSection section, string settingName)
    {
        var accountName = Nullable(section["accountName"]);
        var table = UriSetting(section, settingName, "tableServiceUri");
        var queue = UriSetting(section, settingName, "queueServiceUri");
        var blob = UriSetting(section, settingName, "blobServiceUri") ?? UriSetting(section, settingName, "serviceUri");

        if (accountName is not null)
        {
            table ??= new Uri($"https://{accountName}.table.core.windows.net/");
            queue ??= new Uri($"https://{accountName}.queue.core.windows.net/");
            blob ??= new Uri($"https://{accountName}.blob.core.windows.net/");
        }

        if (table is null && queue is null)
        {
            throw new StorageConfigurationException(settingName,
                $"The identity-based storage settings under '{settingName}' name no account: set '{settingName}__accountName', or '{settingName}__tableServiceUri' and '{settingName}__queueServiceUri'.");
        }

        var credential = CreateCredential(section, settingName);
        return StorageConnection.FromTokenCredential(credential, table, queue, blob, accountName);
    }

    private static TokenCredential CreateCredential(IConfigurationSection section, string settingName)
    {
        var kind = Nullable(section["credential"]);
        var clientId = Nullable(section["clientId"]);
        var tenantId = Nullable(section["tenantId"]);
        var clientSecret = Nullable(section["clientSecret"]);

        if (kind is not null && !kind.Equals("managedidentity", StringComparison.OrdinalIgnoreCase))
        {
            throw new StorageConfigurationException(settingName + "__credential",
                $"The storage setting '{settingName}__credential' is '{kind}'; the only accepted value is 'managedidentity' (or leave it unset to use the default credential chain).");
        }

        if (kind is not null)
        {
            var id = clientId is null ? ManagedIdentityId.SystemAssigned : ManagedIdentityId.FromUserAssignedClientId(clientId);
            return new ManagedIdentityCredential(id);
        }

        if (clientSecret is not null)
        {
            if (tenantId is null || clientId is null)
            {
                throw new StorageConfigurationException(settingName + "__clientSecret",
                    $"The storage setting '{settingName}__clientSecret' needs '{settingName}__tenantId' and '{settingName}__clientId' as well.");
            }

            return new ClientSecretCredential(tenantId, clientId, clientSecret);
        }

        return new DefaultAzureCredential(new DefaultAzureCredentialOptions { ManagedIdentityClientId = clientId, TenantId = tenantId });
    }

    private static Uri? UriSetting(IConfigurationSection section, string settingName, string key)
    {
        var value = Nullable(section[key]);
        return value is null ? null : StorageConnection.ParseUri(value, settingName + "__" + key, key);
    }

    private static string? Nullable(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();
}
