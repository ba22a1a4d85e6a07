using Azure.Identity;
using Microsoft.Extensions.Configuration;

namespace Flow.Storage.Azure.Tests;

public sealed class StorageConnectionTests
{
    private const string Key = StorageConnection.DevelopmentAccountKey;

    [Fact]
    public void Parse_UseDevelopmentStorage_PointsAtAzuriteDefaultPortsWithTheWellKnownAccount()
    {
        var c = StorageConnection.Parse("UseDevelopmentStorage=true");
        Assert.Equal("devstoreaccount1", c.AccountName);
        Assert.Equal(new Uri("http://127.0.0.1:10002/devstoreaccount1/"), c.TableEndpoint);
        Assert.Equal(new Uri("http://127.0.0.1:10001/devstoreaccount1/"), c.QueueEndpoint);
        Assert.Equal(new Uri("http://127.0.0.1:10000/devstoreaccount1/"), c.BlobEndpoint);
        Assert.NotNull(c.SharedKey);
    }

    [Fact]
    public void Parse_DevelopmentStorageProxyUri_ChangesTheHost()
    {
        var c = StorageConnection.Parse("UseDevelopmentStorage=true;DevelopmentStorageProxyUri=http://azurite.local");
        Assert.Equal(new Uri("http://azurite.local:10001/devstoreaccount1/"), c.QueueEndpoint);
    }

    [Fact]
    public void Parse_AccountNameAndKey_BuildsHttpsEndpointsWithTheSuffix()
    {
        var c = StorageConnection.Parse($"DefaultEndpointsProtocol=https;AccountName=myacct;AccountKey={Key};EndpointSuffix=core.chinacloudapi.cn");
        Assert.Equal(new Uri("https://myacct.table.core.chinacloudapi.cn/"), c.TableEndpoint);
        Assert.Equal(new Uri("https://myacct.queue.core.chinacloudapi.cn/"), c.QueueEndpoint);
        Assert.Equal("myacct", c.SharedKey!.AccountName);
    }

    [Fact]
    public void Parse_ExplicitEndpoints_WinOverTheDerivedOnes_AndGetATrailingSlash()
    {
        var c = StorageConnection.Parse($"AccountName=a;AccountKey={Key};TableEndpoint=http://127.0.0.1:5/a;QueueEndpoint=http://127.0.0.1:6/a/");
        Assert.Equal(new Uri("http://127.0.0.1:5/a/"), c.TableEndpoint);
        Assert.Equal(new Uri("http://127.0.0.1:6/a/"), c.QueueEndpoint);
    }

    [Fact]
    public void Parse_IsCaseInsensitive_AndToleratesSpacesAndTrailingSemicolons()
    {
        var c = StorageConnection.Parse($" accountname = a ; accountkey={Key} ;; ");
        Assert.Equal("a", c.AccountName);
    }

    [Fact]
    public void Parse_SharedAccessSignature_IsKept()
    {
        var c = StorageConnection.Parse("TableEndpoint=https://a.table.core.windows.net;SharedAccessSignature=?sv=2021&sig=abc");
        Assert.Equal("sv=2021&sig=abc", c.SharedAccessSignature);
        Assert.Null(c.SharedKey);
    }

    [Theory]
    [InlineData("", "is empty")]
    [InlineData("AccountName", "part 1 is not of the form 'Name=Value'")]
    [InlineData("AccountName=a;AccountKey=not*base64!", "not valid base64")]
    [InlineData("AccountName=a", "has no credential")]
    [InlineData("AccountKey=Zm9v", "names no account")]
    [InlineData("UseDevelopmentStorage=false", "the only accepted value is 'true'")]
    [InlineData("DefaultEndpointsProtocol=ftp;AccountName=a;AccountKey=Zm9v", "use 'https' or 'http'")]
    [InlineData("AccountName=a;AccountKey=Zm9v;TableEndpoint=not a uri", "not an absolute http(s) URI")]
    [InlineData("AccountName=a;AccountName=b;AccountKey=Zm9v", "more than once")]
    public void Parse_Malformed_FailsNamingTheSettingAndTheProblem(string connectionString, string expected)
    {
        var ex = Assert.Throws<StorageConfigurationException>(() => StorageConnection.Parse(connectionString, "MyStorage"));
        Assert.Equal("MyStorage", ex.SettingName);
        Assert.Contains("'MyStorage'", ex.Message, StringComparison.Ordinal);
        Assert.Contains(expected, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_BadKey_NeverEchoesTheKeyValue()
    {
        var ex = Assert.Throws<StorageConfigurationException>(() => StorageConnection.Parse("AccountName=a;AccountKey=SECRET-not-base64", "S"));
        Assert.DoesNotContain("SECRET", ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(Key, StorageConnection.Development.SharedKey!.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void FromConfiguration_ReadsAConnectionStringSetting()
    {
        var config = Config(("AzureWebJobsStorage", "UseDevelopmentStorage=true"));
        Assert.Equal("devstoreaccount1", StorageConnectionFactory.FromConfiguration(config).AccountName);
    }

    [Fact]
    public void FromConfiguration_ReadsConnectionStringsSection()
    {
        var config = Config(("ConnectionStrings:Flow", "UseDevelopmentStorage=true"));
        Assert.NotNull(StorageConnectionFactory.FromConfiguration(config, "Flow").TableEndpoint);
    }

    [Fact]
    public void FromConfiguration_IdentityBasedAccountName_UsesManagedIdentityWithClientId()
    {
        var config = Config(
            ("AzureWebJobsStorage:accountName", "prodacct"),
            ("AzureWebJobsStorage:credential", "managedidentity"),
            ("AzureWebJobsStorage:clientId", "00000000-0000-0000-0000-000000000001"));
        var c = StorageConnectionFactory.FromConfiguration(config);
        Assert.Equal(new Uri("https://prodacct.table.core.windows.net/"), c.TableEndpoint);
        Assert.Equal(new Uri("https://prodacct.queue.core.windows.net/"), c.QueueEndpoint);
        Assert.IsType<ManagedIdentityCredential>(c.TokenCredential);
        Assert.Null(c.SharedKey);
    }

    [Fact]
    public void FromConfiguration_IdentityBasedServiceUris_WithoutCredential_UsesTheDefaultChain()
    {
        var config = Config(
            ("AzureWebJobsStorage:tableServiceUri", "https://x.table.core.windows.net"),
            ("AzureWebJobsStorage:queueServiceUri", "https://x.queue.core.windows.net"));
        var c = StorageConnectionFactory.FromConfiguration(config);
        Assert.Equal(new Uri("https://x.table.core.windows.net/"), c.TableEndpoint);
        Assert.IsType<DefaultAzureCredential>(c.TokenCredential);
    }

    [Fact]
    public void FromConfiguration_EnvironmentVariableStyleDoubleUnderscore_IsUnderstood()
    {
        const string variable = "FLOWTEST_STORAGE__accountName";
        Environment.SetEnvironmentVariable(variable, "envacct");
        try
        {
            var config = new ConfigurationBuilder().AddEnvironmentVariables().Build();
            Assert.Equal(new Uri("https://envacct.queue.core.windows.net/"), StorageConnectionFactory.FromConfiguration(config, "FLOWTEST_STORAGE").QueueEndpoint);
        }
        finally
        {
            Environment.SetEnvironmentVariable(variable, null);
        }
    }

    [Fact]
    public void FromConfiguration_Missing_FailsNamingTheSettingAndBothWaysToFixIt()
    {
        var ex = Assert.Throws<StorageConfigurationException>(() => StorageConnectionFactory.FromConfiguration(Config()));
        Assert.Equal("AzureWebJobsStorage", ex.SettingName);
        Assert.Contains("UseDevelopmentStorage=true", ex.Message, StringComparison.Ordinal);
        Assert.Contains("AzureWebJobsStorage__accountName", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void FromConfiguration_UnknownCredentialKind_FailsNamingTheSetting()
    {
        var config = Config(("AzureWebJobsStorage:accountName", "a"), ("AzureWebJobsStorage:credential", "password"));
        var ex = Assert.Throws<StorageConfigurationException>(() => StorageConnectionFactory.FromConfiguration(config));
        Assert.Equal("AzureWebJobsStorage__credential", ex.SettingName);
    }

    [Fact]
    public void FromConfiguration_ClientSecretWithoutTenant_FailsNamingWhatIsMissing()
    {
        var config = Config(("S:accountName", "a"), ("S:clientSecret", "shh"), ("S:clientId", "id"));
        var ex = Assert.Throws<StorageConfigurationException>(() => StorageConnectionFactory.FromConfiguration(config, "S"));
        Assert.Contains("S__tenantId", ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("shh", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ToConnectionString_RoundTripsThroughParse()
    {
        var c = StorageConnection.Parse($"AccountName=a;AccountKey={Key};TableEndpoint=http://127.0.0.1:5/a;QueueEndpoint=http://127.0.0.1:6/a");
        var again = StorageConnection.Parse(c.ToConnectionString()!);
        Assert.Equal(c.TableEndpoint, again.TableEndpoint);
        Assert.Equal(c.QueueEndpoint, again.QueueEndpoint);
        Assert.Equal("a", again.SharedKey!.AccountName);
        Assert.Equal(c.ToConnectionString(), again.ToConnectionString());
        Assert.Contains("AccountKey=" + Key + ";", again.ToConnectionString(), StringComparison.Ordinal);
    }

    private static IConfiguration Config(params (string Key, string Value)[] values) =>
        new ConfigurationBuilder().AddInMemoryCollection(values.Select(v => new KeyValuePair<string, string?>(v.Key, v.Value))).Build();
}
