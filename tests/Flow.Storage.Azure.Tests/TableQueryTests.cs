using Flow.TestSupport;

namespace Flow.Storage.Azure.Tests;

public sealed class TableQueryTests(AzuriteFixture azurite) : TableTestBase(azurite)
{
    private async Task SeedAsync(string partition, int count)
    {
        for (var start = 0; start < count; start += 100)
        {
            var actions = Enumerable.Range(start, Math.Min(100, count - start))
                .Select(i => new TableTransactionAction(TableTransactionActionType.Add, new TableEntity(partition, $"{i:D5}") { ["N"] = i }))
                .ToList();
            await Table.SubmitTransactionAsync(actions, Ct);
        }
    }

    [Fact]
    public async Task Query_OverMoreThan1000Entities_FollowsContinuationTokens_AndReturnsEachOnceInOrder()
    {
        await SeedAsync("many", 2_345);

        var pages = 0;
        var keys = new List<string>();
        await foreach (var page in Table.QueryAsync(TableFilter.Equal("PartitionKey", "many"), cancellationToken: Ct).AsPages())
        {
            pages++;
            Assert.InRange(page.Values.Count, 0, 1000);
            keys.AddRange(page.Values.Select(e => e.RowKey));
        }

        Assert.True(pages >= 3, $"expected at least 3 pages, got {pages}");
        Assert.Equal(2_345, keys.Count);
        Assert.Equal(keys.Order(StringComparer.Ordinal), keys);
        Assert.Equal(2_345, keys.Distinct().Count());
    }

    [Fact]
    public async Task Query_ResumedFromASavedContinuationToken_ContinuesWhereItStopped()
    {
        await SeedAsync("resume", 250);
        var pageable = Table.QueryAsync(TableFilter.Equal("PartitionKey", "resume"), maxPerPage: 100, cancellationToken: Ct);

        string? token = null;
        await foreach (var page in pageable.AsPages())
        {
            Assert.Equal(100, page.Values.Count);
            token = page.ContinuationToken;
            break;
        }

        Assert.False(string.IsNullOrEmpty(token));
        var rest = new List<string>();
        await foreach (var page in pageable.AsPages(token))
        {
            rest.AddRange(page.Values.Select(e => e.RowKey));
        }

        Assert.Equal(150, rest.Count);
        Assert.Equal("00100", rest[0]);
        Assert.Equal("00249", rest[^1]);
    }

    [Fact]
    public async Task Query_WithTop_LimitsThePageSize()
    {
        await SeedAsync("top", 30);
        await foreach (var page in Table.QueryAsync(TableFilter.Equal("PartitionKey", "top"), maxPerPage: 7, cancellationToken: Ct).AsPages())
        {
            Assert.Equal(7, page.Values.Count);
            break;
        }
    }

    [Fact]
    public async Task Query_WithRangeFilterAndSelect_ReturnsTheRangeWithOnlySelectedProperties()
    {
        await SeedAsync("range", 50);
        var filter = TableFilter.Create($"PartitionKey eq {"range"} and RowKey ge {"00010"} and RowKey lt {"00020"}");
        var found = new List<TableEntity>();
        await foreach (var e in Table.QueryAsync(filter, select: ["N"], cancellationToken: Ct))
        {
            found.Add(e);
        }

        Assert.Equal(10, found.Count);
        Assert.Equal(Enumerable.Range(10, 10), found.Select(e => e.GetInt32("N")!.Value));
        Assert.All(found, e => Assert.Equal(["N"], e.Keys));
        Assert.All(found, e => Assert.Equal("range", e.PartitionKey));
    }

    [Fact]
    public async Task Query_ByRowKeyPrefix_ReturnsOnlyThatPrefix()
    {
        await Table.SubmitTransactionAsync(
            new[] { "task|1", "task|2", "tasl|1", "tas", "event|1" }
                .Select(rk => new TableTransactionAction(TableTransactionActionType.Add, new TableEntity("run", rk))).ToList(), Ct);
        var found = new List<string>();
        await foreach (var e in Table.QueryAsync(TableFilter.RowKeyPrefix("run", "task|"), cancellationToken: Ct))
        {
            found.Add(e.RowKey);
        }

        Assert.Equal(["task|1", "task|2"], found);
    }

    [Fact]
    public async Task Query_WithHostileValue_MatchesTheLiteralValue_NotAnInjectedClause()
    {
        await Table.AddEntityAsync(new TableEntity("inj", "secret") { ["Owner"] = "alice" }, Ct);
        await Table.AddEntityAsync(new TableEntity("inj", "mine") { ["Owner"] = "x' or 'a' eq 'a" }, Ct);

        var hostile = "x' or 'a' eq 'a";
        var found = new List<string>();
        await foreach (var e in Table.QueryAsync(TableFilter.Create($"PartitionKey eq {"inj"} and Owner eq {hostile}"), cancellationToken: Ct))
        {
            found.Add(e.RowKey);
        }

        Assert.Equal(["mine"], found);
    }

    [Fact]
    public async Task Query_OnTypedProperties_ComparesByType()
    {
        var t0 = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
        var guid = Guid.NewGuid();
        for (var i = 0; i < 5; i++)
        {
            await Table.AddEntityAsync(new TableEntity("typed", $"{i}")
            {
                ["Big"] = (1L << 40) + i,
                ["When"] = t0.AddHours(i),
                ["Score"] = i + 0.5,
                ["Flag"] = i % 2 == 0,
                ["Id"] = i == 3 ? guid : Guid.Empty,
            }, Ct);
        }

        async Task<int> CountAsync(string filter)
        {
            var n = 0;
            await foreach (var _ in Table.QueryAsync(TableFilter.And(TableFilter.Equal("PartitionKey", "typed"), filter), cancellationToken: Ct))
            {
                n++;
            }

            return n;
        }

        Assert.Equal(2, await CountAsync(TableFilter.GreaterThanOrEqual("Big", (1L << 40) + 3)));
        Assert.Equal(3, await CountAsync(TableFilter.LessThan("When", t0.AddHours(3))));
        Assert.Equal(2, await CountAsync(TableFilter.GreaterThan("Score", 2.5)));
        Assert.Equal(3, await CountAsync(TableFilter.Equal("Flag", true)));
        Assert.Equal(1, await CountAsync(TableFilter.Equal("Id", guid)));
        Assert.Equal(4, await CountAsync(TableFilter.Not(TableFilter.Equal("Id", guid))));
    }

    [Fact]
    public async Task Query_EmptyTable_ReturnsNoEntities()
    {
        var count = 0;
        await foreach (var _ in Table.QueryAsync(cancellationToken: Ct))
        {
            count++;
        }

        Assert.Equal(0, count);
    }
}
