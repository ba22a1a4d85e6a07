using Azure;
using Flow.TestSupport;

namespace Flow.Storage.Azure.Tests;

public sealed class TableTransactionTests(AzuriteFixture azurite) : TableTestBase(azurite)
{
    private static TableTransactionAction Add(string pk, string rk, int value) =>
        new(TableTransactionActionType.Add, new TableEntity(pk, rk) { ["Value"] = value });

    [Fact]
    public async Task Transaction_Of100Inserts_StoresAllAndReturnsAnETagForEach()
    {
        var actions = Enumerable.Range(0, 100).Select(i => Add("batch", $"{i:D3}", i)).ToList();
        var results = await Table.SubmitTransactionAsync(actions, Ct);

        Assert.Equal(100, results.Count);
        Assert.All(results, r => Assert.NotEqual(default, r.ETag));
        var stored = await Table.GetEntityAsync("batch", "057", cancellationToken: Ct);
        Assert.Equal(57, stored.GetInt32("Value"));
        Assert.Equal(results[57].ETag, stored.ETag);
    }

    [Fact]
    public async Task Transaction_WithOneFailingOperation_AppliesNothing_AndNamesTheFailingIndex()
    {
        await Table.AddEntityAsync(new TableEntity("atomic", "existing") { ["Value"] = -1 }, Ct);
        var actions = new List<TableTransactionAction>
        {
            Add("atomic", "a", 1),
            new(TableTransactionActionType.UpsertReplace, new TableEntity("atomic", "b") { ["Value"] = 2 }),
            new(TableTransactionActionType.Delete, new TableEntity("atomic", "c")),
            Add("atomic", "existing", 3),
            Add("atomic", "d", 4),
        };

        var ex = await Assert.ThrowsAsync<StorageRequestException>(() => Table.SubmitTransactionAsync(actions, Ct));
        Assert.True(ex.IsConflict || ex.IsNotFound);
        Assert.NotNull(ex.FailedOperationIndex);
        Assert.Contains(ex.FailedOperationIndex!.Value, new[] { 2, 3 }); // delete of a missing entity (2) or the duplicate insert (3)

        foreach (var rk in new[] { "a", "b", "d" })
        {
            Assert.Null(await Table.GetEntityIfExistsAsync("atomic", rk, cancellationToken: Ct));
        }

        Assert.Equal(-1, (await Table.GetEntityAsync("atomic", "existing", cancellationToken: Ct)).GetInt32("Value"));
    }

    [Fact]
    public async Task Transaction_DuplicateInsert_ReportsItsIndexAndConflict()
    {
        await Table.AddEntityAsync(new TableEntity("dup", "x"), Ct);
        var actions = new[] { Add("dup", "a", 1), Add("dup", "b", 2), Add("dup", "x", 3) };
        var ex = await Assert.ThrowsAsync<StorageRequestException>(() => Table.SubmitTransactionAsync(actions, Ct));
        Assert.Equal(409, ex.Status);
        Assert.Equal("EntityAlreadyExists", ex.ErrorCode);
        Assert.Equal(2, ex.FailedOperationIndex);
        Assert.Null(await Table.GetEntityIfExistsAsync("dup", "a", cancellationToken: Ct));
    }

    [Fact]
    public async Task Transaction_WithStaleETag_FailsWithPreconditionFailed_AndAppliesNothing()
    {
        var etag = await Table.AddEntityAsync(new TableEntity("etag", "r") { ["Value"] = 1 }, Ct);
        await Table.UpsertEntityAsync(new TableEntity("etag", "r") { ["Value"] = 2 }, TableUpdateMode.Merge, Ct);

        var actions = new[]
        {
            Add("etag", "new", 0),
            new TableTransactionAction(TableTransactionActionType.UpdateMerge, new TableEntity("etag", "r") { ["Value"] = 3 }, etag),
        };
        var ex = await Assert.ThrowsAsync<StorageRequestException>(() => Table.SubmitTransactionAsync(actions, Ct));
        Assert.True(ex.IsPreconditionFailed);
        Assert.Equal(1, ex.FailedOperationIndex);
        Assert.Null(await Table.GetEntityIfExistsAsync("etag", "new", cancellationToken: Ct));
        Assert.Equal(2, (await Table.GetEntityAsync("etag", "r", cancellationToken: Ct)).GetInt32("Value"));
    }

    [Fact]
    public async Task Transaction_MixingEveryActionType_AppliesAllOfThem()
    {
        var e1 = await Table.AddEntityAsync(new TableEntity("mix", "merge") { ["A"] = 1 }, Ct);
        var e2 = await Table.AddEntityAsync(new TableEntity("mix", "replace") { ["A"] = 1 }, Ct);
        await Table.AddEntityAsync(new TableEntity("mix", "delete"), Ct);
        await Table.AddEntityAsync(new TableEntity("mix", "upsertmerge") { ["A"] = 1 }, Ct);

        var results = await Table.SubmitTransactionAsync(
        [
            new(TableTransactionActionType.Add, new TableEntity("mix", "add") { ["B"] = 2 }),
            new(TableTransactionActionType.UpdateMerge, new TableEntity("mix", "merge") { ["B"] = 2 }, e1),
            new(TableTransactionActionType.UpdateReplace, new TableEntity("mix", "replace") { ["B"] = 2 }, e2),
            new(TableTransactionActionType.Delete, new TableEntity("mix", "delete"), ETag.All),
            new(TableTransactionActionType.UpsertMerge, new TableEntity("mix", "upsertmerge") { ["B"] = 2 }),
            new(TableTransactionActionType.UpsertReplace, new TableEntity("mix", "upsertreplace") { ["B"] = 2 }),
        ], Ct);

        Assert.Equal(6, results.Count);
        Assert.Equal(["A", "B"], (await Table.GetEntityAsync("mix", "merge", cancellationToken: Ct)).Keys.Order());
        Assert.Equal(["B"], (await Table.GetEntityAsync("mix", "replace", cancellationToken: Ct)).Keys);
        Assert.Null(await Table.GetEntityIfExistsAsync("mix", "delete", cancellationToken: Ct));
        Assert.Equal(["A", "B"], (await Table.GetEntityAsync("mix", "upsertmerge", cancellationToken: Ct)).Keys.Order());
        Assert.NotNull(await Table.GetEntityIfExistsAsync("mix", "upsertreplace", cancellationToken: Ct));
        Assert.NotNull(await Table.GetEntityIfExistsAsync("mix", "add", cancellationToken: Ct));
    }

    [Fact]
    public async Task Transaction_Of101Operations_IsRejectedBeforeSending()
    {
        var actions = Enumerable.Range(0, 101).Select(i => Add("big", $"{i}", i)).ToList();
        var ex = await Assert.ThrowsAsync<ArgumentException>(() => Table.SubmitTransactionAsync(actions, Ct));
        Assert.Contains("at most 100 operations", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Transaction_AcrossPartitions_IsRejectedBeforeSending()
    {
        var ex = await Assert.ThrowsAsync<ArgumentException>(() => Table.SubmitTransactionAsync([Add("p1", "a", 1), Add("p2", "b", 2)], Ct));
        Assert.Contains("share one PartitionKey", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Transaction_TouchingOneEntityTwice_IsRejectedBeforeSending()
    {
        var ex = await Assert.ThrowsAsync<ArgumentException>(() => Table.SubmitTransactionAsync([Add("p", "a", 1), Add("p", "a", 2)], Ct));
        Assert.Contains("each entity once", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Transaction_OverFourMiB_IsRejectedBeforeSending()
    {
        var actions = Enumerable.Range(0, 80)
            .Select(i => new TableTransactionAction(TableTransactionActionType.Add, new TableEntity("p", $"{i}") { ["Data"] = new byte[60_000] }))
            .ToList();
        var ex = await Assert.ThrowsAsync<ArgumentException>(() => Table.SubmitTransactionAsync(actions, Ct));
        Assert.Contains("4 MiB", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Transaction_WithSpecialCharacterKeys_Works()
    {
        var pk = "run 'x' é/".TrimEnd('/');
        var results = await Table.SubmitTransactionAsync(
            [Add(pk, "a'b", 1), Add(pk, "c d%20", 2), Add(pk, "日本", 3)], Ct);
        Assert.Equal(3, results.Count);
        Assert.Equal(2, (await Table.GetEntityAsync(pk, "c d%20", cancellationToken: Ct)).GetInt32("Value"));
    }
}
