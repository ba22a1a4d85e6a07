using System.Text.RegularExpressions;

namespace Flow.TestSupport.Tests;

public sealed partial class UniqueNamesTests
{
    [Theory]
    [InlineData(null)]
    [InlineData("runs")]
    [InlineData("9 lives_of-a cat!")]
    [InlineData("")]
    [InlineData("---")]
    [InlineData("AVeryLongPrefixThatGoesOnAndOnAndOnForMuchLongerThanSixtyThreeCharactersInTotal")]
    public void Table_AnyPrefix_GivesAValidUniqueTableName(string? prefix)
    {
        var first = UniqueNames.Table(prefix);
        var second = UniqueNames.Table(prefix);

        Assert.Matches(TableName(), first);
        Assert.NotEqual(first, second);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("work-items")]
    [InlineData("9 Lives__of--a Cat!")]
    [InlineData("")]
    [InlineData("-")]
    [InlineData("AVeryLongPrefixThatGoesOnAndOnAndOnForMuchLongerThanSixtyThreeCharactersInTotal")]
    public void Queue_AnyPrefix_GivesAValidUniqueQueueName(string? prefix)
    {
        var first = UniqueNames.Queue(prefix);
        var second = UniqueNames.Queue(prefix);

        Assert.Matches(QueueName(), first);
        Assert.InRange(first.Length, 3, 63);
        Assert.DoesNotContain("--", first, StringComparison.Ordinal);
        Assert.NotEqual(first, second);
    }

    [Fact]
    public void Names_WithoutPrefix_StartWithTheCurrentTestMethodName()
    {
        Assert.StartsWith("NamesWithoutPrefixStartWith", UniqueNames.Table(), StringComparison.Ordinal);
        Assert.StartsWith("names-without-prefix-start-with", UniqueNames.Queue(), StringComparison.Ordinal);
        Assert.StartsWith("names_without_prefix_start_with", UniqueNames.Database(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Run History")]
    [InlineData("AVeryLongPrefixThatGoesOnAndOnAndOnForMuchLongerThanSixtyThreeCharactersInTotal")]
    public void Database_AnyPrefix_GivesAValidPostgresIdentifier(string prefix)
    {
        Assert.Matches(DatabaseName(), UniqueNames.Database(prefix));
        Assert.Matches(DatabaseName(), UniqueNames.Schema(prefix));
    }

    [GeneratedRegex("^[A-Za-z][A-Za-z0-9]{2,62}$")]
    private static partial Regex TableName();

    [GeneratedRegex("^[a-z0-9](?:[a-z0-9]|-(?!-))*[a-z0-9]$")]
    private static partial Regex QueueName();

    [GeneratedRegex("^[a-z][a-z0-9_]{0,62}$")]
    private static partial Regex DatabaseName();
}
