namespace Flow.Storage.Azure.Tests;

public sealed class StorageNamesTests
{
    [Theory]
    [InlineData("abc")]
    [InlineData("FlowRuns")]
    [InlineData("a23456789012345678901234567890123456789012345678901234567890123")]
    public void ValidateTableName_AcceptsValidNames(string name) => StorageNames.ValidateTableName(name);

    [Theory]
    [InlineData("ab", "3 to 63")]
    [InlineData("1abc", "starts with a letter")]
    [InlineData("flow-runs", "letters and digits")]
    [InlineData("flow_runs", "letters and digits")]
    [InlineData("a234567890123456789012345678901234567890123456789012345678901234", "3 to 63")]
    [InlineData("Tables", "reserved")]
    public void ValidateTableName_RejectsInvalidNames_StatingTheRule(string name, string rule)
    {
        var ex = Assert.Throws<ArgumentException>(() => StorageNames.ValidateTableName(name));
        Assert.Contains(rule, ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("abc")]
    [InlineData("flow-run-requests")]
    [InlineData("1queue")]
    public void ValidateQueueName_AcceptsValidNames(string name) => StorageNames.ValidateQueueName(name);

    [Theory]
    [InlineData("ab")]
    [InlineData("Upper")]
    [InlineData("-lead")]
    [InlineData("trail-")]
    [InlineData("dou--ble")]
    [InlineData("under_score")]
    public void ValidateQueueName_RejectsInvalidNames_StatingTheRule(string name)
    {
        var ex = Assert.Throws<ArgumentException>(() => StorageNames.ValidateQueueName(name));
        Assert.Contains("lowercase letters, digits and single hyphens", ex.Message, StringComparison.Ordinal);
    }
}
