namespace Flow.Storage.Azure.Tests;

/// <summary>The Azure options' defaults for payload blobs and retention, and the errors that name a bad setting.</summary>
public sealed class AzureFlowStorageOptionsTests
{
    [Fact]
    public void Defaults_BlobsAbove32KiB_InFlowPayloads_RetentionOnAt30Days()
    {
        var options = new AzureFlowStorageOptions();

        options.Validate();
        Assert.Equal(32 * 1024, options.PayloadBlobThresholdBytes);
        Assert.Equal("flow-payloads", options.PayloadContainer);
        Assert.Equal(30, options.RetentionDays);
        Assert.Equal(TimeSpan.FromHours(1), options.RetentionInterval);
        Assert.Equal(100, options.RetentionBatchSize);
        (options with { RetentionDays = 0 }).Validate(); // off only by explicit setting
    }

    [Theory]
    [InlineData(nameof(AzureFlowStorageOptions.PayloadBlobThresholdBytes))]
    [InlineData(nameof(AzureFlowStorageOptions.PayloadContainer))]
    [InlineData(nameof(AzureFlowStorageOptions.RetentionDays))]
    [InlineData(nameof(AzureFlowStorageOptions.RetentionInterval))]
    [InlineData(nameof(AzureFlowStorageOptions.RetentionBatchSize))]
    public void Validate_BadSetting_ThrowsNamingIt(string setting)
    {
        var options = setting switch
        {
            nameof(AzureFlowStorageOptions.PayloadBlobThresholdBytes) => new AzureFlowStorageOptions { PayloadBlobThresholdBytes = 64 * 1024 },
            nameof(AzureFlowStorageOptions.PayloadContainer) => new AzureFlowStorageOptions { PayloadContainer = "Flow_Payloads" },
            nameof(AzureFlowStorageOptions.RetentionDays) => new AzureFlowStorageOptions { RetentionDays = -1 },
            nameof(AzureFlowStorageOptions.RetentionInterval) => new AzureFlowStorageOptions { RetentionInterval = TimeSpan.Zero },
            _ => new AzureFlowStorageOptions { RetentionBatchSize = 0 },
        };

        var error = Assert.Throws<ArgumentException>(options.Validate);

        Assert.Equal(setting, error.ParamName);
        Assert.Contains("Flow:Storage:Azure:" + setting, error.Message, StringComparison.Ordinal);
    }
}
