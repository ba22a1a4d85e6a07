using Flow.Engine.Storage;
using Flow.Engine.Storage.InMemory;
using Flow.Sdk;
using Flow.Testing;
using Flow.TestSupport;

namespace Flow.Engine.Tests;

public sealed class CacheReadFailureTests
{
    [Fact]
    public async Task RunAsync_CacheReadFails_TheTaskRunsAndTheRunCompletes()
    {
        using var deadline = TestDeadline.Create(TimeSpan.FromSeconds(30));
        var runs = 0;
        await using var host = FlowTestHost.Create(
            r => r.AddFlow<int, int>("cached", async (ctx, n) => await ctx.RunTaskAsync("square", n, (_, x) =>
            {
                Interlocked.Increment(ref runs);
                return Task.FromResult(x * x);
            }, new TaskOptions { Cache = CachePolicy.Inputs() })),
            o => o.Storage = clock => (new CacheReadsFail(new InMemoryFlowStore()), new InMemoryWorkQueue(clock)));

        var run = await host.RunAsync("cached", 7, cancellationToken: deadline.Token);

        Assert.Equal(RunState.Completed, run.State);
        Assert.Equal(49, host.GetResult<int>(run));
        Assert.Equal(1, runs);
    }

    /// <summary>A store whose cache reads fail, as a lost connection would make them.</summary>
    private sealed class CacheReadsFail(IFlowStore inner) : IFlowStore
    {
        public int MaxItemsPerCommit => inner.MaxItemsPerCommit;

        public int MaxPayloadBytes => inner.MaxPayloadBytes;

        public Task InitializeAsync(CancellationToken cancellationToken) => inner.InitializeAsync(cancellationToken);

        public Task<(StoredRun Run, bool Created)> CreateRunAsync(FlowRunRecord run, StateTransition firstTransition, CancellationToken cancellationToken) => inner.CreateRunAsync(run, firstTransition, cancellationToken);

        public Task<StoredRun?> GetRunAsync(string runId, CancellationToken cancellationToken) => inner.GetRunAsync(runId, cancellationToken);

        public Task<StoredRun> CommitAsync(RunCommit commit, CancellationToken cancellationToken) => inner.CommitAsync(commit, cancellationToken);

        public Task<RunJournal> LoadJournalAsync(FlowRunRecord run, CancellationToken cancellationToken) => inner.LoadJournalAsync(run, cancellationToken);

        public Task<JournalEvent?> GetJournalEventAsync(string runId, int attempt, int index, CancellationToken cancellationToken) => inner.GetJournalEventAsync(runId, attempt, index, cancellationToken);

        public Task<IReadOnlyList<StateTransition>> GetStateHistoryAsync(string runId, CancellationToken cancellationToken) => inner.GetStateHistoryAsync(runId, cancellationToken);

        public Task<RunPage> ListRunsAsync(RunQuery query, CancellationToken cancellationToken) => inner.ListRunsAsync(query, cancellationToken);

        public Task<LogPage> GetLogsAsync(string runId, int pageSize, string? continuationToken, CancellationToken cancellationToken) => inner.GetLogsAsync(runId, pageSize, continuationToken, cancellationToken);

        public Task<IReadOnlyList<RunArtifact>> GetArtifactsAsync(string runId, CancellationToken cancellationToken) => inner.GetArtifactsAsync(runId, cancellationToken);

        public Task<CacheEntry?> GetCacheEntryAsync(string key, CancellationToken cancellationToken) => throw new FlowStoreException("connection lost (simulated)");

        public Task PutCacheEntryAsync(CacheEntry entry, CancellationToken cancellationToken) => inner.PutCacheEntryAsync(entry, cancellationToken);
    }
}
