namespace Flow.Storage.Azure.Tests;

public sealed class TableFilterTests
{
    [Fact]
    public void Create_EscapesAndTypesEveryInterpolatedValue()
    {
        var when = new DateTimeOffset(2026, 11, 21, 6, 0, 0, TimeSpan.FromHours(1));
        var id = Guid.Parse("0f8fad5b-d9cb-469f-a165-70867728950e");
        var filter = TableFilter.Create($"A eq {"it's"} and B eq {5} and C eq {5L} and D eq {1.0} and E eq {true} and F eq {when} and G eq {id} and H eq {new byte[] { 0xAB, 0x01 }}");
        Assert.Equal(
            "A eq 'it''s' and B eq 5 and C eq 5L and D eq 1.0 and E eq true and F eq datetime'2026-11-21T05:00:00.0000000Z' and G eq guid'0f8fad5b-d9cb-469f-a165-70867728950e' and H eq X'ab01'",
            filter);
    }

    [Fact]
    public void Builders_ComposeWithParentheses()
    {
        var filter = TableFilter.Or(TableFilter.And(TableFilter.Equal("PartitionKey", "p"), TableFilter.LessThanOrEqual("RowKey", "r")), TableFilter.NotEqual("X", 1));
        Assert.Equal("((PartitionKey eq 'p') and (RowKey le 'r')) or (X ne 1)", filter);
    }

    [Fact]
    public void Builders_RejectPropertyNamesThatCouldInjectOperators()
    {
        Assert.Throws<ArgumentException>(() => TableFilter.Equal("X eq 1 or Y", 1));
    }

    [Fact]
    public void Literal_RejectsNullAndUnsupportedTypes()
    {
        Assert.Throws<ArgumentException>(() => TableFilter.Literal(null));
        Assert.Throws<ArgumentException>(() => TableFilter.Literal(new object()));
        Assert.Throws<ArgumentException>(() => TableFilter.Literal(double.NaN));
    }

    [Fact]
    public void RowKeyPrefix_IsAHalfOpenRange()
    {
        Assert.Equal("(PartitionKey eq 'p') and (RowKey ge 'ab') and (RowKey lt 'ac')", TableFilter.RowKeyPrefix("p", "ab"));
    }
}
