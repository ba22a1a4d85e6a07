using Flow.TestSupport;

namespace Flow.Storage.Azure.Tests;

public sealed class TableEntityTypesTests(AzuriteFixture azurite) : TableTestBase(azurite)
{
    public static TheoryData<string, object> Values() => new()
    {
        { "String", "hello" },
        { "EmptyString", string.Empty },
        { "StringSpecials", "<xml attr=\"1\">&amp; 'quote' \\ \n\r\t emoji 🚀 日本語 \u0001" },
        { "Int32", 42 },
        { "Int32Min", int.MinValue },
        { "Int32Max", int.MaxValue },
        { "Int64", 1L << 53 },
        { "Int64Max", long.MaxValue },
        { "Int64Small", 7L },
        { "Double", 2.5 },
        { "DoubleWhole", 1.0 },
        { "DoubleTiny", 1e-300 },
        { "DoubleNegativeZeroish", -123456.789 },
        { "DoubleNaN", double.NaN },
        { "DoubleInfinity", double.PositiveInfinity },
        { "DoubleNegInfinity", double.NegativeInfinity },
        { "BoolTrue", true },
        { "BoolFalse", false },
        { "DateTime", new DateTimeOffset(2024, 2, 29, 23, 59, 59, TimeSpan.Zero).AddTicks(1234567) },
        { "DateTimeMin", new DateTimeOffset(1601, 1, 1, 0, 0, 0, TimeSpan.Zero) },
        { "Guid", Guid.Parse("0f8fad5b-d9cb-469f-a165-70867728950e") },
        { "Binary", new byte[] { 0, 1, 2, 254, 255 } },
        { "BinaryEmpty", Array.Empty<byte>() },
    };

    [Theory]
    [MemberData(nameof(Values))]
    public async Task Property_RoundTrips_WithItsTypeAndValue(string name, object value)
    {
        await Table.AddEntityAsync(new TableEntity("types", name) { [name] = value }, Ct);
        var read = await Table.GetEntityAsync("types", name, cancellationToken: Ct);
        var actual = read[name];
        Assert.NotNull(actual);
        Assert.Equal(value.GetType(), actual!.GetType());
        Assert.Equal(value, actual);
    }

    [Fact]
    public async Task AllTypes_InOneEntity_RoundTripThroughQueryToo()
    {
        var entity = new TableEntity("types", "all");
        foreach (var row in Values())
        {
            entity[row.Data.Item1] = row.Data.Item2;
        }

        await Table.AddEntityAsync(entity, Ct);
        TableEntity? queried = null;
        await foreach (var e in Table.QueryAsync(TableFilter.Equal("PartitionKey", "types"), cancellationToken: Ct))
        {
            queried = e;
        }

        Assert.NotNull(queried);
        foreach (var (name, value) in entity)
        {
            Assert.Equal(value, queried![name]);
        }
    }

    [Fact]
    public async Task DateTime_WithLocalOffsetOrKind_IsStoredAsTheSameInstantInUtc()
    {
        var withOffset = new DateTimeOffset(2026, 3, 29, 3, 30, 0, TimeSpan.FromHours(2));
        var local = new DateTime(2026, 1, 1, 12, 0, 0, DateTimeKind.Utc);
        await Table.AddEntityAsync(new TableEntity("dates", "1") { ["Offset"] = withOffset, ["Utc"] = local }, Ct);
        var read = await Table.GetEntityAsync("dates", "1", cancellationToken: Ct);
        Assert.Equal(withOffset.UtcDateTime, read.GetDateTimeOffset("Offset")!.Value.UtcDateTime);
        Assert.Equal(TimeSpan.Zero, read.GetDateTimeOffset("Offset")!.Value.Offset);
        Assert.Equal(local, read.GetDateTimeOffset("Utc")!.Value.UtcDateTime);
    }

    [Fact]
    public async Task NullProperty_IsNotStored()
    {
        await Table.AddEntityAsync(new TableEntity("nulls", "1") { ["Present"] = 1, ["Absent"] = null }, Ct);
        var read = await Table.GetEntityAsync("nulls", "1", cancellationToken: Ct);
        Assert.True(read.ContainsKey("Present"));
        Assert.False(read.ContainsKey("Absent"));
    }

    [Fact]
    public void Property_OfUnsupportedType_IsRejectedWithTheSupportedTypesListed()
    {
        var entity = new TableEntity("p", "r");
        var ex = Assert.Throws<ArgumentException>(() => entity["Bad"] = new Uri("http://example.invalid"));
        Assert.Contains("string, int, long, double, bool", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("1abc")]
    [InlineData("has space")]
    [InlineData("has-dash")]
    [InlineData("")]
    public void PropertyName_BreakingTheRules_IsRejected(string name)
    {
        var entity = new TableEntity("p", "r");
        var ex = Assert.Throws<ArgumentException>(() => entity[name] = 1);
        Assert.Contains("not a valid table property name", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TypedGetters_WidenIntegers_AndRefuseOtherTypesClearly()
    {
        var entity = new TableEntity("p", "r") { ["I"] = 5, ["S"] = "text" };
        Assert.Equal(5L, entity.GetInt64("I"));
        Assert.Equal(5.0, entity.GetDouble("I"));
        Assert.Null(entity.GetInt32("Missing"));
        var ex = Assert.Throws<InvalidCastException>(() => entity.GetInt32("S"));
        Assert.Contains("'S' holds a String", ex.Message, StringComparison.Ordinal);
    }
}
