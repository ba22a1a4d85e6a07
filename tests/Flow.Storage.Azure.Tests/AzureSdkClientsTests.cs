using Microsoft.Extensions.Configuration;

namespace Flow.Storage.Azure.Tests;

/// <summary>Which SDK endpoints the settings give (no request is sent: the SDK clients connect on first use).</summary>
public sealed class AzureSdkClientsTests
{
    [Fact]
    public void IdentityBasedAccountName_GivesTheAccountsPublicEndpointsToEveryClient()
    {
        var connection = StorageConnectionFactory.FromConfiguration(Config(
            ("AzureWebJobsStorage__accountName", "prodacct"),
            ("AzureWebJobsStorage__credential", "managedidentity"),
            ("AzureWebJobsStorage__clientId", "00000000-0000-0000-0000-000000000001")));

        var tables = AzureSdkClients.CreateTableService(connection);
        var queues = AzureSdkClients.CreateQueueService(connection);
        var blobs = AzureSdkClients.CreateBlobService(connection);

        Assert.Equal("prodacct", tables.AccountName);
        Assert.Equal(new Uri("https://prodacct.queue.core.windows.net"), queues.Uri);
        Assert.Equal(new Uri("https://prodacct.blob.core.windows.net"), blobs.Uri);
    }

    [Fact]
    public void IdentityBasedServiceUris_AreUsedAsGiven()
    {
        var connection = StorageConnectionFactory.FromConfiguration(Config(
            ("AzureWebJobsStorage__tableServiceUri", "https://t.example.net"),
            ("AzureWebJobsStorage__queueServiceUri", "https://q.example.net"),
            ("AzureWebJobsStorage__blobServiceUri", "https://b.example.net")));

        Assert.Equal(new Uri("https://q.example.net"), AzureSdkClients.CreateQueueService(connection).Uri);
        Assert.Equal(new Uri("https://b.example.net"), AzureSdkClients.CreateBlobService(connection).Uri);
    }

    [Fact]
    public void DevelopmentStorage_UsesThePathStyleEmulatorEndpointsAndItsAccount()
    {
        var connection = StorageConnection.Parse("UseDevelopmentStorage=true", "AzureWebJobsStorage");

        Assert.Equal("devstoreaccount1", AzureSdkClients.CreateTableService(connection).AccountName);
        Assert.Equal(new Uri("http://127.0.0.1:10001/devstoreaccount1"), AzureSdkClients.CreateQueueService(connection).Uri);
        Assert.Equal("devstoreaccount1", AzureSdkClients.CreateQueueService(connection).AccountName);
    }

    [Fact]
    public void MissingServiceEndpoint_FailsNamingTheEndpoint()
    {
        var connection = StorageConnectionFactory.FromConfiguration(Config(("AzureWebJobsStorage__queueServiceUri", "https://q.example.net")));

        var error = Assert.Throws<StorageConfigurationException>(() => AzureSdkClients.CreateTableService(connection));
        Assert.Equal("TableEndpoint", error.SettingName);
    }

    private static IConfiguration Config(params (string Key, string Value)[] values) =>
        new ConfigurationBuilder().AddInMemoryCollection(values.Select(v => KeyValuePair.Create(v.Key.Replace("__", ":", StringComparison.Ordinal), (string?)v.Value))).Build();
}
