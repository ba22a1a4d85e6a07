using System.Diagnostics;
using Azure.Core.Pipeline;
using Flow.Engine.Storage;
using Flow.Sdk;
using Flow.TestSupport;

namespace Flow.Storage.Azure.Tests;

/// <summary>How many HTTP requests the hot paths cost: counted on the wire, against Azurite.</summary>
public sealed class AzureFlowStoreRoundTripTests : AzureFlowTestBase
{
    private readonly CountingHandler _counter = new();
    private readonly AzureFlowStore _counted;

    public AzureFlowStoreRoundTripTests(AzuriteFixture azurite)
        : base(azurite)
    {
        var counting = new StorageClientOptions { Transport = new HttpClientTransport(new HttpClient(_counter)) };
        // Counts the commit alone (the relay is counted apart).
        _counted = new AzureFlowStore(AzureSdkClients.CreateTableService(Connection, counting), AzureSdkClients.CreateBlobService(Connection, counting), Options with { RelayAfterCommit = false });
    }

    [Fact]
    public async Task CommitAsync_RunRowAndOneEvent_IsExactlyOneRequest()
    {
        var stored = await CreateAsync(NewRun("run-hot-1"));
        stored = (await _counted.GetRunAsync("run-hot-1", Ct))!;
        _counter.Reset();

        for (var i = 1; i <= 5; i++)
        {
            stored = await _counted.CommitAsync(new RunCommit
            {
                ExpectedVersion = stored.Version,
                Run = stored.Record with { JournalLength = i, HeartbeatAt = T0.AddSeconds(i) },
                Events = [new JournalEvent { Index = i, Kind = JournalEventKind.TaskCompleted, CallId = i, Timestamp = T0, Payload = "{\"n\":" + i + "}" }],
            }, Ct);
        }

        Assert.Equal(5, _counter.Count);
    }

    [Fact]
    public async Task RelayRunAsync_TwoPendingEvents_CostsElevenRequests_AndNothingPendingCostsOne()
    {
        // Through the counted store, whose relay after commit is off: nothing relays behind the test's back.
        await _counted.InitializeAsync(Ct);
        var run = NewRun("run-hot-relay");
        var (stored, _) = await _counted.CreateRunAsync(run, new StateTransition(1, null, run.State, run.StateTime, null, 1), Ct);
        await _counted.CommitAsync(new RunCommit
        {
            ExpectedVersion = stored.Version,
            Run = stored.Record with { State = RunState.Running, TransitionCount = 2 },
            Transitions = [new StateTransition(2, RunState.Pending, RunState.Running, T0, null, 1)],
        }, Ct);
        _counter.Reset();

        Assert.Equal(2, await _counted.RelayRunAsync("run-hot-relay", Ct));

        // The run partition's query, 2 id reads, the feed head's read and update, 1 feed batch, the day's row (once per day and
        // process), 1 batch of list rows, 2 id rows, 1 batch marking the transition rows relayed.
        Assert.Equal(11, _counter.Count);
        _counter.Reset();
        Assert.Equal(0, await _counted.RelayRunAsync("run-hot-relay", Ct));
        Assert.Equal(1, _counter.Count);
    }

    [Fact]
    public async Task LoadJournalAsync_AndGetRunAsync_AreOneRequestEach()
    {
        var stored = await CreateAsync(NewRun("run-hot-2"));
        stored = await AppendAsync(stored, "a", "b", "c");
        _counter.Reset();

        var run = await _counted.GetRunAsync("run-hot-2", Ct);
        Assert.Equal(1, _counter.Count);
        var journal = await _counted.LoadJournalAsync(run!.Record, Ct);
        Assert.Equal(2, _counter.Count);
        Assert.Equal(["a", "b", "c"], journal.Events.Select(e => e.Payload));
    }

    [Fact]
    public async Task CommitAsync_StateChange_WritesTheNewIndexRowAndDeletesTheOld()
    {
        var stored = await CreateAsync(NewRun("run-hot-3"));
        stored = (await _counted.GetRunAsync("run-hot-3", Ct))!;
        _counter.Reset();

        var next = stored.Record with { State = RunState.Running, TransitionCount = 2 };
        await _counted.CommitAsync(new RunCommit
        {
            ExpectedVersion = stored.Version,
            Run = next,
            Transitions = [new StateTransition(2, RunState.Pending, RunState.Running, T0, null, 1)],
        }, Ct);

        Assert.Equal(4, _counter.Count); // the transaction, the new index row (sent alongside it), the deletes of the old state row and of its `due` row (Pending never started: a Late candidate)
    }

    [Fact]
    public async Task CommitAsync_StateChangeOfADeploymentsRun_AlsoMovesItsDeploymentStateRow()
    {
        var stored = await CreateAsync(NewRun("run-hot-4") with { Deployment = "etl/daily" });
        _counter.Reset();

        await _counted.CommitAsync(new RunCommit
        {
            ExpectedVersion = stored.Version,
            Run = stored.Record with { State = RunState.Running, TransitionCount = 2 },
            Transitions = [new StateTransition(2, RunState.Pending, RunState.Running, T0, null, 1)],
        }, Ct);

        Assert.Equal(6, _counter.Count); // the transaction, two new index rows (sent alongside it), three deletes of the old rows (state, deployment state, due)
    }

    [Fact]
    public async Task CommitAsync_LargeResult_IsOneBlobUploadThenTheTransaction_AndLaterCommitsAddNoRequest()
    {
        var stored = await CreateAsync(NewRun("run-hot-5"));
        stored = (await _counted.GetRunAsync("run-hot-5", Ct))!;
        _counter.Reset();

        stored = await _counted.CommitAsync(new RunCommit
        {
            ExpectedVersion = stored.Version,
            Run = stored.Record with { Result = new string('r', 100_000) },
        }, Ct);
        Assert.Equal(2, _counter.Count); // the blob, then the transaction that references it

        _counter.Reset();
        await _counted.CommitAsync(new RunCommit { ExpectedVersion = stored.Version, Run = stored.Record with { HeartbeatAt = T0 } }, Ct);
        Assert.Equal(1, _counter.Count); // the unchanged result's blob is known to exist: not uploaded again
    }

    [Fact]
    public async Task CommitAsync_OneEventSequentially_MeasuresMillisecondsPerCommit()
    {
        var stored = await CreateAsync(NewRun("run-hot-4"));
        const int Commits = 300;
        var clock = Stopwatch.StartNew();
        for (var i = 1; i <= Commits; i++)
        {
            stored = await Store.CommitAsync(new RunCommit
            {
                ExpectedVersion = stored.Version,
                Run = stored.Record with { JournalLength = i },
                Events = [new JournalEvent { Index = i, Kind = JournalEventKind.TaskCompleted, CallId = i, Name = "step", Timestamp = T0, Payload = "{\"value\":42}" }],
            }, Ct);
        }

        clock.Stop();
        TestContext.Current.TestOutputHelper?.WriteLine($"{Commits} commits of the run row + 1 event: {clock.Elapsed.TotalMilliseconds / Commits:0.00} ms per commit, {Commits / clock.Elapsed.TotalSeconds:0} commits/s");
        Assert.Equal(Commits, (await Store.GetRunAsync("run-hot-4", Ct))!.Record.JournalLength);
    }

    public override async ValueTask DisposeAsync()
    {
        _counter.Dispose();
        await base.DisposeAsync();
    }

    private sealed class CountingHandler() : DelegatingHandler(new HttpClientHandler())
    {
        private int _count;

        public int Count => Volatile.Read(ref _count);

        public void Reset() => Volatile.Write(ref _count, 0);

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _count);
            return base.SendAsync(request, cancellationToken);
        }
    }
}
