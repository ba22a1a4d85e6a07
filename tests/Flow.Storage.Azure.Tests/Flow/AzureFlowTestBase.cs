using Flow.Engine.Storage;
using Flow.Sdk;
using Flow.TestSupport;

namespace Flow.Storage.Azure.Tests;

/// <summary>
/// A store and work queue on their own tables (a unique prefix) and payload container in the shared Azurite, and a 60 s
/// deadline per test. With <c>payloadBlobs: false</c> the store keeps large values in chunk rows (the layout before
/// payload blobs, still read by every store).
/// </summary>
public abstract class AzureFlowTestBase : IAsyncLifetime
{
    protected AzureFlowTestBase(AzuriteFixture azurite, int maxPayloadBytes = AzureFlowStorageOptions.DefaultMaxPayloadBytes, bool payloadBlobs = true)
    {
        Azurite = azurite;
        Connection = StorageConnection.Parse(azurite.ConnectionString, "test");
        Options = new AzureFlowStorageOptions
        {
            TablePrefix = "F" + UniqueNames.Suffix(),
            QueuePrefix = "f" + UniqueNames.Suffix() + "-",
            MaxPayloadBytes = maxPayloadBytes,
            PayloadContainer = "p" + UniqueNames.Suffix(),
        };
        SdkQueues = AzureSdkClients.CreateQueueService(Connection);
        SdkTables = AzureSdkClients.CreateTableService(Connection);
        SdkBlobs = AzureSdkClients.CreateBlobService(Connection);
        Store = payloadBlobs ? new AzureFlowStore(SdkTables, SdkBlobs, Options) : new AzureFlowStore(SdkTables, Options);
        Queue = new AzureWorkQueue(SdkQueues, SdkTables, Options);
        Deadline = TestDeadline.Create(TimeSpan.FromSeconds(60));
    }

    protected AzuriteFixture Azurite { get; }

    protected StorageConnection Connection { get; }

    /// <summary>The account's Queue service on the Azure SDK (message encoding None: what is sent is what is stored).</summary>
    protected global::Azure.Storage.Queues.QueueServiceClient SdkQueues { get; }

    /// <summary>The account's Table service on the Azure SDK.</summary>
    protected global::Azure.Data.Tables.TableServiceClient SdkTables { get; }

    /// <summary>The account's Blob service on the Azure SDK.</summary>
    protected global::Azure.Storage.Blobs.BlobServiceClient SdkBlobs { get; }

    /// <summary>The store's payload container (whether or not the store uses it).</summary>
    protected global::Azure.Storage.Blobs.BlobContainerClient PayloadContainer => SdkBlobs.GetBlobContainerClient(Options.PayloadContainer);

    protected AzureFlowStorageOptions Options { get; }

    protected AzureFlowStore Store { get; }

    protected AzureWorkQueue Queue { get; }

    protected TestDeadline Deadline { get; }

    protected CancellationToken Ct => Deadline.Token;

    protected static DateTimeOffset T0 { get; } = new(2026, 11, 5, 10, 0, 0, TimeSpan.Zero);

    public async ValueTask InitializeAsync() => await Store.InitializeAsync(Ct);

    public virtual async ValueTask DisposeAsync()
    {
        try
        {
            foreach (var table in new[] { Options.RunsTable, Options.RunIndexTable, Options.CacheTable, Options.DeadLettersTable })
            {
                await SdkTables.GetTableClient(table).DeleteAsync(CancellationToken.None);
            }

            await PayloadContainer.DeleteIfExistsAsync(cancellationToken: CancellationToken.None);
        }
        finally
        {
            Deadline.Dispose();
            GC.SuppressFinalize(this);
        }
    }

    protected static FlowRunRecord NewRun(string runId, string flow = "etl", RunState state = RunState.Pending, DateTimeOffset? createdAt = null) => new()
    {
        RunId = runId,
        FlowName = flow,
        State = state,
        StateTime = createdAt ?? T0,
        CreatedAt = createdAt ?? T0,
        ScheduledAt = createdAt ?? T0,
        TransitionCount = 1,
    };

    protected async Task<StoredRun> CreateAsync(FlowRunRecord run)
    {
        var (stored, created) = await Store.CreateRunAsync(run, new StateTransition(1, null, run.State, run.CreatedAt, "created", 1), Ct);
        Assert.True(created);
        return stored;
    }

    /// <summary>Moves a run to a new state with one commit.</summary>
    protected async Task<StoredRun> TransitionAsync(StoredRun stored, RunState to, DateTimeOffset? at = null)
    {
        var run = stored.Record;
        var time = at ?? run.StateTime.AddSeconds(1);
        var next = run with { State = to, StateTime = time, TransitionCount = run.TransitionCount + 1 };
        return await Store.CommitAsync(new RunCommit
        {
            ExpectedVersion = stored.Version,
            Run = next,
            Transitions = [new StateTransition(next.TransitionCount, run.State, to, time, null, run.Attempt)],
        }, Ct);
    }

    /// <summary>Appends events with the given payloads in one commit.</summary>
    protected async Task<StoredRun> AppendAsync(StoredRun stored, params string?[] payloads)
    {
        var run = stored.Record;
        var events = payloads.Select((p, i) => new JournalEvent
        {
            Index = run.JournalLength + 1 + i,
            Kind = JournalEventKind.TaskCompleted,
            CallId = run.JournalLength + 1 + i,
            Name = "step",
            Attempt = 1,
            State = RunState.Completed,
            Timestamp = T0.AddSeconds(run.JournalLength + 1 + i),
            Payload = p,
        }).ToList();
        return await Store.CommitAsync(new RunCommit
        {
            ExpectedVersion = stored.Version,
            Run = run with { JournalLength = run.JournalLength + events.Count },
            Events = events,
        }, Ct);
    }

    /// <summary>The names of the blobs in the payload container under <paramref name="prefix"/>.</summary>
    protected async Task<List<string>> BlobNamesAsync(string prefix = "")
    {
        var names = new List<string>();
        await foreach (var blob in PayloadContainer.GetBlobsAsync(global::Azure.Storage.Blobs.Models.BlobTraits.None, global::Azure.Storage.Blobs.Models.BlobStates.None, prefix, Ct))
        {
            names.Add(blob.Name);
        }

        return names;
    }

    protected async Task<List<global::Azure.Data.Tables.TableEntity>> RawRowsAsync(global::Azure.Data.Tables.TableClient table, string partitionKey)
    {
        var rows = new List<global::Azure.Data.Tables.TableEntity>();
        await foreach (var row in table.QueryAsync<global::Azure.Data.Tables.TableEntity>(global::Azure.Data.Tables.TableClient.CreateQueryFilter($"PartitionKey eq {partitionKey}"), cancellationToken: Ct))
        {
            rows.Add(row);
        }

        return rows;
    }
}
