using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using Flow.Engine.Storage;
using Flow.Sdk;
using Flow.Storage.Azure;

namespace Flow.Benchmarks.Api;

/// <summary>
/// Writes finished runs of the sample flow straight into the app's store (the same <see cref="AzureFlowStore"/> with the
/// default table prefix on the same account, or the same <c>PostgresFlowStore</c> with the default schema), as if they had run over the last 30 days: every fifth of deployment
/// <see cref="BulkDeployment"/>, one in ten Failed and the rest Completed, created at evenly spread times with jitter.
/// Each run is created in its final state with that state as its one transition (a real run also passes through
/// Scheduled/Pending and Running); its index rows are exactly those a real run in that state has.
/// </summary>
internal static class RunSeeder
{
    public const string Flow = "process-batch";
    public const string BulkDeployment = "process-batch/bulk";
    private static readonly TimeSpan Span = TimeSpan.FromDays(30);

    public static Task<JsonObject> SeedAsync(string connectionString, int count, int parallelism, CancellationToken cancellationToken) =>
        SeedAsync(new AzureFlowStore(AzureSdkClients.CreateTableService(StorageConnection.Parse(connectionString))), count, parallelism, cancellationToken);

    public static async Task<JsonObject> SeedAsync(IFlowStore store, int count, int parallelism, CancellationToken cancellationToken)
    {
        await store.InitializeAsync(cancellationToken).ConfigureAwait(false);
        var newest = DateTimeOffset.UtcNow - TimeSpan.FromHours(1);
        var created = 0;
        var clock = Stopwatch.StartNew();
        var progress = new JsonArray();
        using var reporter = new Timer(_ =>
        {
            var done = Volatile.Read(ref created);
            Console.Error.WriteLine($"api: seeded {done:N0} runs in {clock.Elapsed.TotalSeconds:F0} s");
            lock (progress)
            {
                progress.Add(new JsonObject { ["seconds"] = Math.Round(clock.Elapsed.TotalSeconds), ["runs"] = done });
            }
        }, null, TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(30));
        var options = new ParallelOptions { MaxDegreeOfParallelism = parallelism, CancellationToken = cancellationToken };
        await Parallel.ForEachAsync(Enumerable.Range(0, count), options, async (i, ct) =>
        {
            var (run, first) = Run(i, count, newest);
            await store.CreateRunAsync(run, first, ct).ConfigureAwait(false);
            Interlocked.Increment(ref created);
        }).ConfigureAwait(false);
        await reporter.DisposeAsync().ConfigureAwait(false);
        var seconds = clock.Elapsed.TotalSeconds;
        return new JsonObject
        {
            ["runs"] = count,
            ["ofDeploymentBulk"] = (count + 4) / 5,
            ["failed"] = (count + 9) / 10,
            ["parallelism"] = parallelism,
            ["seconds"] = Math.Round(seconds, 1),
            ["runsPerSecond"] = Math.Round(count / seconds, 1),
            ["progressEvery30s"] = progress,
            ["method"] = $"{store.GetType().Name}.CreateRunAsync (what the app's store does to create a run), runs created in their final state",
        };
    }

    private static (FlowRunRecord Run, StateTransition First) Run(int i, int count, DateTimeOffset newest)
    {
        // Evenly spread over the span, newest first, each moved back by up to half the spacing (so the order stays).
        var spacing = Span / count;
        var createdAt = newest - (spacing * (i + (0.5 * (i * 7919 % 1000) / 1000.0)));
        var failed = i % 10 == 3;
        var started = createdAt + TimeSpan.FromMilliseconds(40 + (i % 50));
        var ended = started + TimeSpan.FromMilliseconds(150 + (i % 400));
        var items = 1 + (i % 20);
        var state = failed ? RunState.Failed : RunState.Completed;
        var run = new FlowRunRecord
        {
            RunId = "bulk-" + i.ToString("D7", CultureInfo.InvariantCulture),
            FlowName = Flow,
            Deployment = i % 5 == 0 ? BulkDeployment : null,
            State = state,
            StateMessage = failed ? "Task item-1 failed." : null,
            StateTime = ended,
            TransitionCount = 1,
            Parameters = $$"""{"items":{{items}},"delayMs":10}""",
            Result = failed ? null : $$"""{"processed":{{items}},"checksum":{{(long)items * (items + 1) * ((2 * items) + 1) / 6}}}""",
            Failure = failed ? new FailureInfo("System.TimeoutException", "The upstream service did not answer in time.") : null,
            Tags = new Dictionary<string, string> { ["source"] = "bench" },
            CreatedAt = createdAt,
            ScheduledAt = createdAt,
            StartedAt = started,
            EndedAt = ended,
        };
        return (run, new StateTransition(1, null, state, ended, run.StateMessage, 1));
    }
}
