using Flow.TestSupport;

namespace Flow.Storage.Azure.Tests;

/// <summary>The Table service's size limits: 64 KiB per property, 1 MiB per entity, 252 properties, 1 KiB keys.</summary>
public sealed class TableLimitsTests(AzuriteFixture azurite) : TableTestBase(azurite)
{
    [Fact]
    public async Task StringProperty_AtThe64KiBLimit_RoundTrips()
    {
        var value = new string('x', 32 * 1024);
        await Table.AddEntityAsync(new TableEntity("limits", "string") { ["Text"] = value }, Ct);
        var read = await Table.GetEntityAsync("limits", "string", cancellationToken: Ct);
        Assert.Equal(value, read.GetString("Text"));
    }

    [Fact]
    public async Task StringProperty_OneCharacterOverTheLimit_IsRejectedBeforeSending_WithTheLimitStated()
    {
        var entity = new TableEntity("limits", "string") { ["Text"] = new string('x', (32 * 1024) + 1) };
        var ex = await Assert.ThrowsAsync<ArgumentException>(() => Table.AddEntityAsync(entity, Ct));
        Assert.Contains("at most 32,768 characters (64 KiB)", ex.Message, StringComparison.Ordinal);
        Assert.Null(await Table.GetEntityIfExistsAsync("limits", "string", cancellationToken: Ct));
    }

    [Fact]
    public async Task BinaryProperty_AtThe64KiBLimit_RoundTrips_AndOneByteMoreIsRejected()
    {
        var bytes = new byte[64 * 1024];
        Random.Shared.NextBytes(bytes);
        await Table.AddEntityAsync(new TableEntity("limits", "binary") { ["Data"] = bytes }, Ct);
        Assert.Equal(bytes, (await Table.GetEntityAsync("limits", "binary", cancellationToken: Ct)).GetBinary("Data"));

        var ex = await Assert.ThrowsAsync<ArgumentException>(() =>
            Table.AddEntityAsync(new TableEntity("limits", "binary2") { ["Data"] = new byte[(64 * 1024) + 1] }, Ct));
        Assert.Contains("at most 65,536 bytes (64 KiB)", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Entity_JustUnderOneMiB_RoundTrips()
    {
        // 15 string properties of 32,760 chars: 15 * (8 + 2*3 + 4 + 65,520) = 983,070 bytes, plus a binary filler.
        var entity = new TableEntity("limits", "big");
        for (var i = 0; i < 15; i++)
        {
            entity[$"S{i:D2}"] = new string((char)('a' + i), 32_760);
        }

        entity["Pad"] = new byte[60_000];
        await Table.AddEntityAsync(entity, Ct);
        var read = await Table.GetEntityAsync("limits", "big", cancellationToken: Ct);
        Assert.Equal(16, read.Count);
        Assert.Equal(entity.GetString("S14"), read.GetString("S14"));
    }

    [Fact]
    public async Task Entity_OverOneMiB_IsRejectedBeforeSending_WithSizeAndLimit()
    {
        var entity = new TableEntity("limits", "huge");
        for (var i = 0; i < 17; i++)
        {
            entity[$"S{i:D2}"] = new string('z', 32_000);
        }

        var ex = await Assert.ThrowsAsync<ArgumentException>(() => Table.UpsertEntityAsync(entity, TableUpdateMode.Replace, Ct));
        Assert.Contains("at most 1,048,576 bytes (1 MiB)", ex.Message, StringComparison.Ordinal);
        Assert.Contains("'limits'/'huge'", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Entity_With253Properties_IsRejected()
    {
        var entity = new TableEntity("limits", "many");
        for (var i = 0; i < 253; i++)
        {
            entity[$"P{i}"] = i;
        }

        var ex = await Assert.ThrowsAsync<ArgumentException>(() => Table.AddEntityAsync(entity, Ct));
        Assert.Contains("at most 252", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Key_LongerThan1KiB_IsRejected()
    {
        var ex = await Assert.ThrowsAsync<ArgumentException>(() => Table.AddEntityAsync(new TableEntity(new string('k', 1025), "r"), Ct));
        Assert.Contains("at most 1024", ex.Message, StringComparison.Ordinal);
    }
}
