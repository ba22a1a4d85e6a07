using System.Net;
using System.Text;
using System.Text.Json;
using Flow.Engine;
using Flow.Engine.Events;
using Flow.ControlPlane;
using Flow.Engine.Storage;
using Flow.Sdk;
using Flow.Storage.Azure;
using Flow.TestSupport;
using Microsoft.Extensions.DependencyInjection;

namespace Flow.Functions.Tests;

/// <summary>
/// The custom-handler contract: invocations posted exactly as the Functions host sends them (Data/Metadata, strings encoded
/// as JSON once more, numbers as strings), answered with Outputs/Logs/ReturnValue, failures as non-2xx.
/// </summary>
public sealed class InvocationContractTests(AzuriteFixture azurite)
{
    internal static Task<TestApp> StartFunctionsModeAsync(AzuriteFixture azurite, TestDeadline deadline) =>
        TestApp.StartAsync(azurite, deadline, new() { ["FUNCTIONS_CUSTOMHANDLER_PORT"] = "7099" });

    internal static string HostPayload(string bindingName, string messageText, string id, string dequeueCount) =>
        JsonSerializer.Serialize(new
        {
            Data = new Dictionary<string, object> { [bindingName] = JsonSerializer.Serialize(messageText) },
            Metadata = new Dictionary<string, object>
            {
                ["DequeueCount"] = dequeueCount,
                ["Id"] = JsonSerializer.Serialize(id),
                ["PopReceipt"] = "\"AgAAAAMAAAAAAAAA\"",
                ["InsertionTime"] = "\"2026-11-21T08:00:00+00:00\"",
                ["sys"] = new { MethodName = "runs-default", UtcNow = "2026-11-21T08:00:01Z", RandGuid = Guid.NewGuid().ToString() },
            },
        });

    internal static async Task<(HttpStatusCode Status, JsonElement Body)> InvokeAsync(TestApp app, string function, string payload, CancellationToken ct)
    {
        using var response = await app.Client.PostAsync("/" + function, new StringContent(payload, Encoding.UTF8, "application/json"), ct);
        var text = await response.Content.ReadAsStringAsync(ct);
        return (response.StatusCode, text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone());
    }

    [Fact]
    public async Task RunQueueInvocation_DoublyEncodedBase64Message_RunsTheFlowAndAnswersOutputsLogs()
    {
        using var deadline = TestDeadline.Create(TimeSpan.FromSeconds(60));
        await using var app = await StartFunctionsModeAsync(azurite, deadline);
        await app.SendAsync(HttpMethod.Put, "/api/deployments/greet/hello", new { parameters = new { name = "Ada" } }, deadline);
        var (_, trigger) = await app.SendAsync(HttpMethod.Post, "/api/deployments/greet/hello/runs", null, deadline);
        var runId = trigger.GetProperty("id").GetString()!;

        // What the host would receive from flow-runs-default (messageEncoding none: the text as stored, base64 of the JSON).
        var queue = (DeliveredWorkQueue)app.Service<FlowEngine>().Queue;
        var messages = await queue.Inner.DequeueAsync(FlowEngine.RunQueueName("default"), 1, TimeSpan.FromMinutes(1), deadline);
        var message = Assert.Single(messages);
        var stored = Convert.ToBase64String(Encoding.UTF8.GetBytes(message.RawBody));

        var (status, body) = await InvokeAsync(app, "runs-default", HostPayload("message", stored, message.MessageId, "1"), deadline);

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(JsonValueKind.Object, body.GetProperty("Outputs").ValueKind);
        Assert.Contains(runId, body.GetProperty("Logs")[0].GetString(), StringComparison.Ordinal);
        var run = await app.Service<FlowEngine>().GetRunAsync(runId, deadline);
        Assert.Equal(RunState.Completed, run!.State);
        Assert.Equal("\"Hello, Ada\"", run.Result);
    }

    [Fact]
    public async Task RunQueueInvocation_NotAWorkItem_Answers500SoTheHostRetriesAndPoisons()
    {
        using var deadline = TestDeadline.Create(TimeSpan.FromSeconds(60));
        await using var app = await StartFunctionsModeAsync(azurite, deadline);

        var (status, body) = await InvokeAsync(app, "runs-default", HostPayload("message", "hello there", "m-1", "3"), deadline);

        Assert.Equal(HttpStatusCode.InternalServerError, status);
        Assert.Contains("not a Flow work item", body.GetProperty("Logs")[0].GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunRequestInvocation_ObjectDataAndStringNumbers_CreatesOneRunForTwoDeliveries()
    {
        using var deadline = TestDeadline.Create(TimeSpan.FromSeconds(60));
        await using var app = await StartFunctionsModeAsync(azurite, deadline);
        await app.SendAsync(HttpMethod.Put, "/api/deployments/greet/hello", new { parameters = new { name = "Ada" } }, deadline);
        var request = """{"deployment":"greet/hello","parameters":{"excitement":3}}""";

        var first = await InvokeAsync(app, "run-requests", HostPayload("message", request, "msg-42", "1"), deadline);
        var second = await InvokeAsync(app, "run-requests", HostPayload("message", request, "msg-42", "2"), deadline);

        Assert.Equal(HttpStatusCode.OK, first.Status);
        Assert.Equal(HttpStatusCode.OK, second.Status);
        var page = await app.Service<FlowEngine>().Store.ListRunsAsync(new RunQuery { Deployment = "greet/hello" }, deadline);
        var run = Assert.Single(page.Runs);
        Assert.Equal("""{"name":"Ada","excitement":3}""", run.Parameters);
    }

    [Fact]
    public async Task RunRequestInvocation_Invalid_AnswersOkAndRecordsTheReason()
    {
        using var deadline = TestDeadline.Create(TimeSpan.FromSeconds(60));
        await using var app = await StartFunctionsModeAsync(azurite, deadline);

        var (status, body) = await InvokeAsync(app, "run-requests", HostPayload("message", """{"deployment":"greet/none"}""", "msg-7", "1"), deadline);

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Contains("refused", body.GetProperty("Logs")[0].GetString(), StringComparison.Ordinal);
        var (_, rejected) = await app.SendAsync(HttpMethod.Get, "/api/run-requests/rejected", null, deadline);
        var entry = Assert.Single(rejected.EnumerateArray());
        Assert.Equal("msg-7", entry.GetProperty("id").GetString());
        Assert.Contains("greet/none", entry.GetProperty("reason").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task PutDeployment_WithASchedule_CreatesItsFirstRunsWithoutWaitingForTheTimer()
    {
        using var deadline = TestDeadline.Create(TimeSpan.FromSeconds(60));
        await using var app = await StartFunctionsModeAsync(azurite, deadline);

        await app.SendAsync(HttpMethod.Put, "/api/deployments/greet/soon", new { parameters = new { name = "Ada" }, schedules = new[] { new { interval = 10 } } }, deadline);

        // Under the Functions host the timer ticks once a minute; the save itself created the runs within the horizon.
        var page = await app.Service<FlowEngine>().Store.ListRunsAsync(new RunQuery { Deployment = "greet/soon", PageSize = 1000 }, deadline);
        Assert.InRange(page.Runs.Count, 11, 13);
        Assert.All(page.Runs, r => Assert.Equal(RunState.Scheduled, r.State));
    }

    [Fact]
    public async Task TimerInvocation_AutomationsFail_SchedulesStillTick_AndTheInvocationAnswers500()
    {
        using var deadline = TestDeadline.Create(TimeSpan.FromSeconds(60));
        await using var app = await TestApp.StartAsync(
            azurite,
            deadline,
            new() { ["FUNCTIONS_CUSTOMHANDLER_PORT"] = "7099" },
            configure: b => b.Services.AddSingleton<IEventStore>(sp => new FeedFailingEventStore(sp.GetRequiredService<AzureEventStore>())));
        await app.SendAsync(HttpMethod.Put, "/api/deployments/greet/every-second", new { parameters = new { name = "Ada" }, schedules = new[] { new { interval = 1 } } }, deadline);
        var timer = """{"Data":{"timer":"{}"},"Metadata":{"sys":{"MethodName":"scheduler-tick"}}}""";

        var (status, body) = await InvokeAsync(app, "scheduler-tick", timer, deadline);

        // The evaluator's feed read failed; the schedules' part ran all the same and says so, and the host sees a failure.
        Assert.Equal(HttpStatusCode.InternalServerError, status);
        var logs = body.GetProperty("Logs").EnumerateArray().Select(l => l.GetString()!).ToList();
        Assert.Matches(@"^Scheduler tick: \d+ runs created", logs[0]);
        Assert.Equal("Automations failed: InvalidOperationException", logs[1]);
        var runs = (await app.Service<FlowEngine>().Store.ListRunsAsync(new RunQuery { Deployment = "greet/every-second", PageSize = 1000 }, deadline)).Runs;
        Assert.True(runs.Count > 100, $"{runs.Count} runs");
    }

    /// <summary>The real event store, except that reading the feed (what the automation evaluator does first) fails.</summary>
    private sealed class FeedFailingEventStore(IEventStore inner) : IEventStore
    {
        public Task InitializeAsync(CancellationToken cancellationToken) => inner.InitializeAsync(cancellationToken);

        public Task AppendAsync(IReadOnlyList<FlowEvent> events, CancellationToken cancellationToken) => inner.AppendAsync(events, cancellationToken);

        public Task<EventPage> ListAsync(EventQuery query, CancellationToken cancellationToken) => inner.ListAsync(query, cancellationToken);

        public Task<EventFeedPage> ReadFeedAsync(string? cursor, int maxCount, CancellationToken cancellationToken) =>
            throw new InvalidOperationException("The event feed is unavailable (injected by the test).");

        public Task<string> GetFeedEndAsync(CancellationToken cancellationToken) =>
            throw new InvalidOperationException("The event feed is unavailable (injected by the test).");
    }

    [Fact]
    public async Task TimerInvocation_TimerInfoPayload_TicksTheScheduler()
    {
        using var deadline = TestDeadline.Create(TimeSpan.FromSeconds(60));
        await using var app = await StartFunctionsModeAsync(azurite, deadline);
        var horizon = new ControlPlaneOptions().Horizon;
        var before = DateTimeOffset.UtcNow;
        await app.SendAsync(HttpMethod.Put, "/api/deployments/greet/every-second", new { parameters = new { name = "Ada" }, schedules = new[] { new { interval = 1 } } }, deadline);
        var timer = """{"Data":{"timer":"{\"Schedule\":{\"AdjustForDST\":true},\"ScheduleStatus\":{\"Last\":\"2026-11-21T08:00:00Z\",\"Next\":\"2026-11-21T08:01:00Z\",\"LastUpdated\":\"2026-11-21T08:00:00Z\"},\"IsPastDue\":false}"},"Metadata":{"sys":{"MethodName":"scheduler-tick","UtcNow":"2026-11-21T08:00:00Z","RandGuid":"0f8fad5b-d9cb-469f-a165-70867728950e"}}}""";

        var (status, body) = await InvokeAsync(app, "scheduler-tick", timer, deadline);
        var after = DateTimeOffset.UtcNow;

        // Saving the deployment created the first 100 (one tick's cap); the timer's tick creates the rest of the 2-minute horizon.
        Assert.Equal(HttpStatusCode.OK, status);
        var log = body.GetProperty("Logs")[0].GetString()!;
        var created = System.Text.RegularExpressions.Regex.Match(log, @"Scheduler tick: (\d+) runs created");
        Assert.True(created.Success && int.Parse(created.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture) > 0, log);
        var runs = (await app.Service<FlowEngine>().Store.ListRunsAsync(new RunQuery { Deployment = "greet/every-second", PageSize = 1000 }, deadline)).Runs;
        // More than one tick's cap, and the last run sits at the horizon of the tick's clock (bounded by the test's own clock
        // around the calls, so a slow machine that ticks later gets a proportionally longer, still contiguous, series).
        Assert.True(runs.Count > 100, $"{runs.Count} runs");
        Assert.InRange(runs.Max(r => r.ScheduledAt), before + horizon - TimeSpan.FromSeconds(1), after + horizon);
        Assert.Equal((int)(runs.Max(r => r.ScheduledAt) - runs.Min(r => r.ScheduledAt)).TotalSeconds + 1, runs.Count);
        Assert.All(runs, r => Assert.Equal("s0", r.Tags[ControlNames.ScheduleTag]));
    }
}
