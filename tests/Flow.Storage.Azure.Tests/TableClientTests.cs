using Azure;
using Flow.TestSupport;

namespace Flow.Storage.Azure.Tests;

public sealed class TableClientTests(AzuriteFixture azurite) : TableTestBase(azurite)
{
    [Fact]
    public async Task CreateIfNotExists_CalledTwice_CreatesOnceAndReportsExisting()
    {
        var table = Service.GetTableClient(UniqueNames.Table("create"));
        Assert.True(await table.CreateIfNotExistsAsync(Ct));
        Assert.False(await table.CreateIfNotExistsAsync(Ct));
        Assert.True(await table.DeleteIfExistsAsync(Ct));
        Assert.False(await table.DeleteIfExistsAsync(Ct));
    }

    [Fact]
    public async Task GetEntity_OnDeletedTable_ThrowsTableNotFoundEvenWhenMissingIsAllowed()
    {
        var table = Service.GetTableClient(UniqueNames.Table("gone"));
        var ex = await Assert.ThrowsAsync<StorageRequestException>(() => table.GetEntityIfExistsAsync("p", "r", cancellationToken: Ct));
        Assert.True(ex.IsNotFound);
        Assert.Equal("TableNotFound", ex.ErrorCode);
        Assert.False(string.IsNullOrEmpty(ex.RequestId));
    }

    [Fact]
    public async Task AddEntity_Twice_SecondFailsWithConflictAndErrorCode()
    {
        var entity = new TableEntity("p", "r") { ["Name"] = "first" };
        var etag = await Table.AddEntityAsync(entity, Ct);
        Assert.NotEqual(default, etag);

        var ex = await Assert.ThrowsAsync<StorageRequestException>(() => Table.AddEntityAsync(entity, Ct));
        Assert.True(ex.IsConflict);
        Assert.Equal(409, ex.Status);
        Assert.Equal("EntityAlreadyExists", ex.ErrorCode);
        Assert.Contains("'p'/'r'", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task UpdateEntity_WithStaleETag_FailsWithPreconditionFailed_AndKeepsTheWinnersValue()
    {
        var etag = await Table.AddEntityAsync(new TableEntity("p", "r") { ["Value"] = 1 }, Ct);

        var winner = await Table.UpdateEntityAsync(new TableEntity("p", "r") { ["Value"] = 2 }, etag, TableUpdateMode.Replace, Ct);
        Assert.NotEqual(etag, winner);

        var ex = await Assert.ThrowsAsync<StorageRequestException>(() =>
            Table.UpdateEntityAsync(new TableEntity("p", "r") { ["Value"] = 3 }, etag, TableUpdateMode.Replace, Ct));
        Assert.True(ex.IsPreconditionFailed);
        Assert.Equal("UpdateConditionNotSatisfied", ex.ErrorCode);

        var stored = await Table.GetEntityAsync("p", "r", cancellationToken: Ct);
        Assert.Equal(2, stored.GetInt32("Value"));
        Assert.Equal(winner, stored.ETag);
    }

    [Fact]
    public async Task UpdateEntity_Missing_FailsWithNotFound()
    {
        var ex = await Assert.ThrowsAsync<StorageRequestException>(() =>
            Table.UpdateEntityAsync(new TableEntity("p", "missing") { ["Value"] = 1 }, ETag.All, TableUpdateMode.Merge, Ct));
        Assert.True(ex.IsNotFound);
        Assert.Equal("ResourceNotFound", ex.ErrorCode);
    }

    [Fact]
    public async Task UpdateEntity_WithoutETag_IsRejectedBeforeAnyCall()
    {
        var ex = await Assert.ThrowsAsync<ArgumentException>(() =>
            Table.UpdateEntityAsync(new TableEntity("p", "r"), default, TableUpdateMode.Merge, Ct));
        Assert.Contains("ETag", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task UpsertEntity_Merge_KeepsOtherProperties_Replace_DropsThem()
    {
        await Table.UpsertEntityAsync(new TableEntity("p", "r") { ["A"] = "a", ["B"] = "b" }, TableUpdateMode.Replace, Ct);
        await Table.UpsertEntityAsync(new TableEntity("p", "r") { ["C"] = "c" }, TableUpdateMode.Merge, Ct);
        var merged = await Table.GetEntityAsync("p", "r", cancellationToken: Ct);
        Assert.Equal(["A", "B", "C"], merged.Keys.Order());

        await Table.UpsertEntityAsync(new TableEntity("p", "r") { ["D"] = "d" }, TableUpdateMode.Replace, Ct);
        var replaced = await Table.GetEntityAsync("p", "r", cancellationToken: Ct);
        Assert.Equal(["D"], replaced.Keys);
    }

    [Fact]
    public async Task UpdateEntity_Merge_WithCurrentETag_MergesAndReturnsNewETag()
    {
        var etag = await Table.AddEntityAsync(new TableEntity("p", "r") { ["A"] = 1 }, Ct);
        var next = await Table.UpdateEntityAsync(new TableEntity("p", "r") { ["B"] = 2 }, etag, TableUpdateMode.Merge, Ct);
        var stored = await Table.GetEntityAsync("p", "r", cancellationToken: Ct);
        Assert.Equal(1, stored.GetInt32("A"));
        Assert.Equal(2, stored.GetInt32("B"));
        Assert.Equal(next, stored.ETag);
    }

    [Fact]
    public async Task DeleteEntity_WithStaleETag_Fails_WithCurrentETag_Deletes_ThenReportsMissing()
    {
        var etag = await Table.AddEntityAsync(new TableEntity("p", "r"), Ct);
        var current = await Table.UpsertEntityAsync(new TableEntity("p", "r") { ["X"] = 1 }, TableUpdateMode.Merge, Ct);

        var ex = await Assert.ThrowsAsync<StorageRequestException>(() => Table.DeleteEntityAsync("p", "r", etag, Ct));
        Assert.True(ex.IsPreconditionFailed);

        Assert.True(await Table.DeleteEntityAsync("p", "r", current, Ct));
        Assert.False(await Table.DeleteEntityAsync("p", "r", cancellationToken: Ct));
        Assert.Null(await Table.GetEntityIfExistsAsync("p", "r", cancellationToken: Ct));
    }

    [Fact]
    public async Task GetEntity_Missing_ThrowsNotFound_AndIfExistsReturnsNull()
    {
        var ex = await Assert.ThrowsAsync<StorageRequestException>(() => Table.GetEntityAsync("p", "none", cancellationToken: Ct));
        Assert.True(ex.IsNotFound);
        Assert.Equal("ResourceNotFound", ex.ErrorCode);
        Assert.Null(await Table.GetEntityIfExistsAsync("p", "none", cancellationToken: Ct));
    }

    [Fact]
    public async Task GetEntity_WithSelect_ReturnsOnlyTheSelectedProperties()
    {
        await Table.AddEntityAsync(new TableEntity("p", "r") { ["A"] = 1, ["B"] = 2, ["C"] = 3 }, Ct);
        var entity = await Table.GetEntityAsync("p", "r", ["A", "C"], Ct);
        Assert.Equal(["A", "C"], entity.Keys.Order());
        Assert.Equal("p", entity.PartitionKey);
        Assert.Equal("r", entity.RowKey);
    }

    [Fact]
    public async Task Entity_ReadBack_CarriesETagAndTimestampMatchingTheWrite()
    {
        var etag = await Table.AddEntityAsync(new TableEntity("p", "r"), Ct);
        var entity = await Table.GetEntityAsync("p", "r", cancellationToken: Ct);
        Assert.Equal(etag, entity.ETag);
        Assert.NotNull(entity.Timestamp);
        Assert.InRange(entity.Timestamp!.Value, DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddMinutes(5));
    }

    [Theory]
    [InlineData("plain", "key")]
    [InlineData("with space", "and 'quotes'")]
    [InlineData("it''s", "''")]
    [InlineData("percent%25", "plus+amp&eq=semi;colon:")]
    [InlineData("unicode-é-ü-日本語", "emoji-🚀-✓")]
    [InlineData("brackets()[]{}<>", "comma,dot.star*tilde~")]
    [InlineData("run|2026-11-21T05:00:00Z", "task|0001|attempt|1")]
    [InlineData("", "")]
    public async Task Entity_WithSpecialCharacterKeys_RoundTripsThroughEveryOperation(string partitionKey, string rowKey)
    {
        var entity = new TableEntity(partitionKey, rowKey) { ["Value"] = "v1" };
        var etag = await Table.AddEntityAsync(entity, Ct);

        var read = await Table.GetEntityAsync(partitionKey, rowKey, cancellationToken: Ct);
        Assert.Equal(partitionKey, read.PartitionKey);
        Assert.Equal(rowKey, read.RowKey);

        etag = await Table.UpdateEntityAsync(new TableEntity(partitionKey, rowKey) { ["Value"] = "v2" }, etag, TableUpdateMode.Merge, Ct);

        var found = new List<TableEntity>();
        await foreach (var e in Table.QueryAsync(TableFilter.And(TableFilter.Equal("PartitionKey", partitionKey), TableFilter.Equal("RowKey", rowKey)), cancellationToken: Ct))
        {
            found.Add(e);
        }

        var single = Assert.Single(found);
        Assert.Equal("v2", single.GetString("Value"));
        Assert.True(await Table.DeleteEntityAsync(partitionKey, rowKey, etag, Ct));
    }

    [Theory]
    [InlineData("a/b")]
    [InlineData("a\\b")]
    [InlineData("a#b")]
    [InlineData("a?b")]
    [InlineData("tab\there")]
    [InlineData("del\u007f")]
    public async Task Entity_WithForbiddenKeyCharacter_IsRejectedBeforeAnyCall_NamingTheRule(string key)
    {
        var ex = await Assert.ThrowsAsync<ArgumentException>(() => Table.AddEntityAsync(new TableEntity("p", key), Ct));
        Assert.Contains("may not contain", ex.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<ArgumentException>(() => Table.GetEntityAsync(key, "r", cancellationToken: Ct));
    }

    [Fact]
    public async Task Client_AgainstUnreachableEndpoint_FailsWithStatusZeroAndNamesTheEndpoint()
    {
        var port = FreePorts.Next(1)[0];
        var connection = StorageConnection.Parse(
            $"AccountName=devstoreaccount1;AccountKey={StorageConnection.DevelopmentAccountKey};TableEndpoint=http://127.0.0.1:{port}/devstoreaccount1");
        var options = new StorageClientOptions();
        options.Retry.MaxRetries = 1;
        options.Retry.Delay = TimeSpan.FromMilliseconds(10);
        var table = new TableClient(connection, "unreachable", options);

        var ex = await Assert.ThrowsAsync<StorageRequestException>(() => table.GetEntityIfExistsAsync("p", "r", cancellationToken: Ct));
        Assert.Equal(0, ex.Status);
        Assert.Contains($"127.0.0.1:{port}", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Client_WithWrongAccountKey_FailsWithAuthenticationError()
    {
        var wrongKey = Convert.ToBase64String(new byte[64]);
        var connection = StorageConnection.Parse(
            $"AccountName=devstoreaccount1;AccountKey={wrongKey};TableEndpoint={Azurite.TableEndpoint}");
        var table = new TableClient(connection, Table.Name);

        var ex = await Assert.ThrowsAsync<StorageRequestException>(() => table.GetEntityIfExistsAsync("p", "r", cancellationToken: Ct));
        Assert.Equal(403, ex.Status);
        Assert.Contains(ex.ErrorCode, new[] { "AuthorizationFailure", "AuthenticationFailed" }); // Azurite's code, Azure's code
        Assert.DoesNotContain(wrongKey, ex.Message, StringComparison.Ordinal);
    }
}
