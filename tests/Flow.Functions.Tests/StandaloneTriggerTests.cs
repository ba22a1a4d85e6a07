using System.Text.Json;
using Flow.Engine;
using Flow.Engine.Storage;
using Flow.Sdk;
using Flow.TestSupport;

namespace Flow.Functions.Tests;

/// <summary>Standalone triggers: run requests sent by the official Azure JS SDK, and schedules ticking on their own.</summary>
public sealed class StandaloneTriggerTests(AzuriteFixture azurite)
{
    internal static async Task SendWithJsSdkAsync(AzuriteFixture azurite, string queue, string command, IEnumerable<string> messages, CancellationToken ct)
    {
        var script = Path.Combine(RepoPaths.Root, "tests", "Flow.Storage.Azure.Tests", "compat", "azure-sdk-peer.mjs");
        var result = await ProcessRunner.RunAsync(NodeTools.NodePath, [script, command, azurite.ConnectionString, queue, .. messages], new ProcessRunnerOptions { WorkingDirectory = RepoPaths.Root }, ct);
        Assert.True(result.ExitCode == 0, result.Output);
    }

    [Fact]
    public async Task RunRequestQueue_MessagesFromTheJsSdk_PlainAndBase64_CreateRunsAndRefuseBadOnes()
    {
        using var deadline = TestDeadline.Create(TimeSpan.FromSeconds(90));
        await using var app = await TestApp.StartAsync(azurite, deadline);
        await app.SendAsync(HttpMethod.Put, "/api/deployments/greet/hello", new { parameters = new { name = "Ada" } }, deadline);
        var queue = app.QueuePrefix + "run-requests";

        await SendWithJsSdkAsync(azurite, queue, "queue-send-raw", ["""{"deployment":"greet/hello","idempotencyKey":"plain-1","parameters":{"excitement":1}}""", "this is not json", """{"deployment":"greet/hello","parameters":{"excitement":"x"}}"""], deadline);
        await SendWithJsSdkAsync(azurite, queue, "queue-send", ["""{"deployment":"greet/hello","idempotencyKey":"b64-1","tags":{"source":"erp"}}"""], deadline);

        var store = app.Service<FlowEngine>().Store;
        IReadOnlyList<FlowRunRecord> runs = [];
        await deadline.PollUntilAsync(async ct =>
        {
            runs = (await store.ListRunsAsync(new RunQuery { Deployment = "greet/hello" }, ct)).Runs;
            return runs.Count == 2 && runs.All(r => r.State == RunState.Completed);
        }, "two runs from the queue to complete");
        Assert.Contains(runs, r => r.Result == "\"Hello, Ada!\"");
        Assert.Contains(runs, r => r.Tags.TryGetValue("source", out var s) && s == "erp");

        JsonElement rejected = default;
        await deadline.PollUntilAsync(async ct =>
        {
            (_, rejected) = await app.SendAsync(HttpMethod.Get, "/api/run-requests/rejected", null, ct);
            return rejected.GetArrayLength() == 2;
        }, "the two bad requests to be recorded");
        var reasons = rejected.EnumerateArray().ToDictionary(r => r.GetProperty("body").GetString()!, r => r);
        Assert.Contains("not JSON", reasons["this is not json"].GetProperty("reason").GetString(), StringComparison.Ordinal);
        Assert.Equal("parameters.excitement", reasons["""{"deployment":"greet/hello","parameters":{"excitement":"x"}}"""].GetProperty("field").GetString());
        await deadline.PollUntilAsync(async ct => await app.Service<FlowEngine>().Queue.GetApproximateCountAsync("run-requests", ct) == 0, "the queue to be empty");
    }

    [Fact]
    public async Task IntervalSchedule_EverySecond_RunsStartOnTimeAndComplete()
    {
        using var deadline = TestDeadline.Create(TimeSpan.FromSeconds(90));
        await using var app = await TestApp.StartAsync(azurite, deadline, new() { ["Flow:ControlPlane:Horizon"] = "00:00:05" });
        await app.SendAsync(HttpMethod.Put, "/api/deployments/greet/tick", new { parameters = new { name = "Ada" }, schedules = new[] { new { interval = 1 } } }, deadline);

        IReadOnlyList<FlowRunRecord> completed = [];
        await deadline.PollUntilAsync(async ct =>
        {
            completed = [.. (await app.Service<FlowEngine>().Store.ListRunsAsync(new RunQuery { Deployment = "greet/tick", State = RunState.Completed }, ct)).Runs];
            return completed.Count >= 5;
        }, "five scheduled runs to complete");

        foreach (var run in completed)
        {
            Assert.Equal(0, run.ScheduledAt.Millisecond);
            var lag = run.StartedAt!.Value - run.ScheduledAt;
            Assert.True(lag >= TimeSpan.Zero && lag < TimeSpan.FromSeconds(2), $"run {run.RunId} started {lag.TotalMilliseconds:0} ms after its time");
        }

        await app.SendAsync(HttpMethod.Post, "/api/deployments/greet/tick/pause", null, deadline);
    }

    [Fact]
    public async Task TwoSchedulers_TickingOneStoreConcurrently_CreateNoDuplicateRuns()
    {
        using var deadline = TestDeadline.Create(TimeSpan.FromSeconds(90));
        await using var first = await TestApp.StartAsync(azurite, deadline, new() { ["Flow:App:Roles"] = "api,scheduler", ["Flow:ControlPlane:Horizon"] = "00:00:30" });
        var shared = new Dictionary<string, string?>
        {
            ["Flow:Storage:Azure:TablePrefix"] = first.TablePrefix,
            ["Flow:Storage:Azure:QueuePrefix"] = first.QueuePrefix,
            ["Flow:App:Roles"] = "api,scheduler",
            ["Flow:ControlPlane:Horizon"] = "00:00:30",
        };
        await using var second = await TestApp.StartAsync(azurite, deadline, shared);
        await first.SendAsync(HttpMethod.Put, "/api/deployments/greet/often", new { parameters = new { name = "Ada" }, schedules = new[] { new { interval = 1 } } }, deadline);

        var scheduler = first.Service<Flow.ControlPlane.DeploymentScheduler>();
        var other = second.Service<Flow.ControlPlane.DeploymentScheduler>();
        for (var i = 0; i < 5; i++)
        {
            await Task.WhenAll(scheduler.TickAsync(deadline), other.TickAsync(deadline));
        }

        var runs = new List<FlowRunRecord>();
        string? token = null;
        do
        {
            var page = await first.Service<FlowEngine>().Store.ListRunsAsync(new RunQuery { Deployment = "greet/often", PageSize = 1000, ContinuationToken = token }, deadline);
            runs.AddRange(page.Runs);
            token = page.ContinuationToken;
        }
        while (token is not null);

        // Both apps' own timers tick too, so how far the runs reach depends on timing; what may never happen is a gap or a
        // second run for one occurrence: the runs are exactly one per second from the first to the last.
        Assert.True(runs.Count >= 25, $"only {runs.Count} runs");
        var earliest = runs.Min(r => r.ScheduledAt);
        var latest = runs.Max(r => r.ScheduledAt);
        Assert.Equal((int)(latest - earliest).TotalSeconds + 1, runs.Count);
        Assert.Equal(runs.Count, runs.Select(r => r.ScheduledAt).Distinct().Count());
        var queued = await first.Service<FlowEngine>().Queue.GetApproximateCountAsync(FlowEngine.RunQueueName("default"), deadline);
        Assert.Equal(runs.Count, queued);
    }
}
