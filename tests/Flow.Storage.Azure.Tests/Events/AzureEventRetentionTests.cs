using Flow.Engine.Events;
using Flow.TestSupport;

namespace Flow.Storage.Azure.Tests;

/// <summary>
/// Retention of the Azure feed: whole feed partitions of 1,000 positions go, with their id rows, and a reader behind them
/// goes on at the floor (against Azurite).
/// </summary>
public sealed class AzureEventRetentionTests(AzuriteFixture azurite)
{
    private readonly global::Azure.Data.Tables.TableServiceClient _tables = AzureSdkClients.CreateTableService(StorageConnection.Parse(azurite.ConnectionString, "test"));

    [Fact]
    public async Task DeleteEventsBeforeAsync_FullOldFeedPartition_IsDeleted_AndReadersBehindItGoOnAtTheFloor()
    {
        using var deadline = TestDeadline.Create(TimeSpan.FromSeconds(180));
        var options = new AzureFlowStorageOptions { TablePrefix = "R" + UniqueNames.Suffix(), RelayAfterCommit = false };
        var store = new AzureEventStore(_tables, options);
        await store.InitializeAsync(deadline.Token);
        var old = new DateTimeOffset(2026, 1, 10, 12, 0, 0, TimeSpan.Zero);
        var all = Enumerable.Range(0, 1_050).Select(i => new FlowEvent
        {
            Id = $"e-{i:D5}",
            Kind = "ci.build.passed",
            OccurredAt = old.AddSeconds(i),
            Resource = new EventResource("repo/a"),
        }).ToList();
        foreach (var chunk in all.Chunk(350))
        {
            await store.AppendAsync(chunk, deadline.Token);
        }

        // Everything was written before "a minute from now": the list goes first, then the full first feed partition (0-999);
        // the newest partition (1000-1049) stays, since positions there may still be handed out.
        var deleted = 0;
        for (var call = 0; call < 100; call++)
        {
            var step = await store.DeleteEventsBeforeAsync(DateTimeOffset.UtcNow.AddMinutes(1), 1000, deadline.Token);
            if (step == 0)
            {
                break;
            }

            deleted += step;
        }

        Assert.Empty((await store.ListAsync(new EventQuery(), deadline.Token)).Events);
        var fromStart = await store.ReadFeedAsync(null, 1000, deadline.Token);
        Assert.Equal(all.Skip(1000).Select(e => e.Id), fromStart.Events.Select(e => e.Id));
        Assert.Equal("1050", fromStart.Cursor);
        var fromTheMiddle = await store.ReadFeedAsync("500", 10, deadline.Token);
        Assert.Equal(all.Skip(1000).Take(10).Select(e => e.Id), fromTheMiddle.Events.Select(e => e.Id));

        // Nothing left in the deleted partition, and the deleted events' ids are free again (their id rows went too).
        var leftovers = 0;
        await foreach (var _ in store.Table.QueryAsync<global::Azure.Data.Tables.TableEntity>(TableFilter.Equal("PartitionKey", "f-0000000000000000"), cancellationToken: deadline.Token))
        {
            leftovers++;
        }

        Assert.Equal(0, leftovers);
        await store.AppendAsync([all[3] with { OccurredAt = DateTimeOffset.UtcNow }], deadline.Token);
        Assert.Equal(all[3].Id, Assert.Single((await store.ListAsync(new EventQuery(), deadline.Token)).Events).Id);
        await store.Table.DeleteAsync(CancellationToken.None);
    }
}
