using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Flow.TestSupport;

namespace Flow.EndToEnd.Tests;

/// <summary>
/// The built Flow.Functions executable as a real process, standalone, against Azurite: schedules every few seconds run on
/// time, runs are triggered over HTTP and by a queue message from the official Azure JS SDK, and a run survives the app
/// being SIGKILLed mid-run and started again.
/// </summary>
public sealed class FunctionsAppEndToEndTests(AzuriteFixture azurite, ITestOutputHelper output) : IClassFixture<AzuriteFixture>
{
    private const string ApiKey = "e2e-api-key-0123456789abcdef";

    private ProcessRunner StartApp(int port, string prefix) =>
        ProcessRunner.Start(RepoPaths.DotNetHost, [RepoPaths.FunctionsAssembly, "--urls", $"http://127.0.0.1:{port}"], new ProcessRunnerOptions
        {
            WorkingDirectory = RepoPaths.Root,
            OnOutputLine = output.WriteLine,
            Environment = new Dictionary<string, string?>
            {
                ["AzureWebJobsStorage"] = azurite.ConnectionString,
                ["FUNCTIONS_CUSTOMHANDLER_PORT"] = null,
                ["Flow__Storage__Azure__TablePrefix"] = "E" + prefix,
                ["Flow__Storage__Azure__QueuePrefix"] = prefix + "-",
                ["Flow__App__ApiKey"] = ApiKey,
                ["Flow__App__FlowAssemblies__0"] = RepoPaths.SamplesAssembly,
                ["Flow__App__DeploymentsFile"] = Path.Combine(RepoPaths.Root, "samples", "flow.yaml"),
                ["Flow__App__SchedulerTickInterval"] = "00:00:01",
                ["Flow__Engine__LeaseDuration"] = "00:00:05",
                ["Flow__Engine__HeartbeatInterval"] = "00:00:01",
                ["Flow__Worker__MaxPollInterval"] = "00:00:00.200",
            },
        });

    private static HttpClient Client(int port)
    {
        var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}/api/"), Timeout = TimeSpan.FromSeconds(10) };
        http.DefaultRequestHeaders.Add("X-Flow-Api-Key", ApiKey);
        return http;
    }

    private static async Task<JsonElement> GetAsync(HttpClient http, string path, CancellationToken ct)
    {
        using var response = await http.GetAsync(path, ct);
        Assert.True(response.IsSuccessStatusCode, $"GET {path}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync(ct)}");
        return await response.Content.ReadFromJsonAsync<JsonElement>(ct);
    }

    private static async Task<JsonElement> WaitForStateAsync(HttpClient http, string runId, string state, TestDeadline deadline)
    {
        JsonElement run = default;
        await deadline.PollUntilAsync(async ct =>
        {
            run = await GetAsync(http, "runs/" + runId, ct);
            var current = run.GetProperty("state").GetString();
            Assert.False(current is "Failed" or "Crashed" or "Cancelled" && current != state, $"run {runId} ended {current}: {run}");
            return current == state;
        }, $"run {runId} to be {state}");
        return run;
    }

    [Fact]
    public async Task App_ScheduledHttpAndQueueTriggeredRuns_CompleteOnTime_AndARunSurvivesSigkillAndRestart()
    {
        using var deadline = TestDeadline.Create(TimeSpan.FromSeconds(150));
        var port = FreePorts.Next();
        var prefix = "e2e" + UniqueNames.Suffix()[..8].ToLowerInvariant().Replace("_", "", StringComparison.Ordinal);
        using var http = Client(port);
        var app = StartApp(port, prefix);
        try
        {
            await AppProcess.WaitHealthyAsync(http, app, deadline);

            // 1. A schedule every 2 seconds: runs are created ahead, start on time and complete.
            using (var put = await http.PutAsJsonAsync("deployments/process-batch/every-2s", new { parameters = new { items = 2, delayMs = 10 }, schedules = new[] { new { interval = 2 } } }, deadline.Token))
            {
                Assert.Equal(HttpStatusCode.Created, put.StatusCode);
            }

            JsonElement scheduled = default;
            await deadline.PollUntilAsync(async ct =>
            {
                scheduled = await GetAsync(http, "runs?deployment=process-batch/every-2s&state=Completed", ct);
                return scheduled.GetProperty("runs").GetArrayLength() >= 3;
            }, "three scheduled runs to complete");
            using (await http.PostAsync("deployments/process-batch/every-2s/pause", null, deadline.Token))
            {
            }

            foreach (var run in scheduled.GetProperty("runs").EnumerateArray())
            {
                var lag = run.GetProperty("startedAt").GetDateTimeOffset() - run.GetProperty("scheduledAt").GetDateTimeOffset();
                Assert.True(lag >= TimeSpan.Zero && lag < TimeSpan.FromSeconds(2), $"{run.GetProperty("id")} started {lag.TotalMilliseconds:0} ms after its time");
                Assert.Equal(5, run.GetProperty("result").GetProperty("checksum").GetInt64());
            }

            // 2. Triggered over HTTP: the sample ETL deployment applied from samples/flow.yaml.
            string etlRun;
            using (var trigger = await http.PostAsJsonAsync("deployments/daily-etl/daily/runs", new { idempotencyKey = "e2e" }, deadline.Token))
            {
                Assert.Equal(HttpStatusCode.Accepted, trigger.StatusCode);
                etlRun = (await trigger.Content.ReadFromJsonAsync<JsonElement>(deadline.Token)).GetProperty("id").GetString()!;
            }

            var etl = await WaitForStateAsync(http, etlRun, "Completed", deadline);
            Assert.Equal(120, etl.GetProperty("result").GetProperty("records").GetInt32());

            // 3. A run request sent by an independent client: the official Azure JS SDK, plain JSON text.
            using (var put = await http.PutAsJsonAsync("deployments/process-batch/manual", new { parameters = new { items = 30, delayMs = 150 } }, deadline.Token))
            {
                Assert.Equal(HttpStatusCode.Created, put.StatusCode);
            }

            var script = Path.Combine(RepoPaths.Root, "tests", "Flow.Storage.Azure.Tests", "compat", "azure-sdk-peer.mjs");
            var sent = await ProcessRunner.RunAsync(NodeTools.NodePath, [script, "queue-send-raw", azurite.ConnectionString, prefix + "-run-requests",
                """{"deployment":"process-batch/manual","parameters":{"items":3,"delayMs":10},"tags":{"source":"js-sdk"}}"""], new ProcessRunnerOptions { WorkingDirectory = RepoPaths.Root }, deadline);
            Assert.True(sent.ExitCode == 0, sent.Output);
            await deadline.PollUntilAsync(async ct =>
            {
                var page = await GetAsync(http, "runs?deployment=process-batch/manual&state=Completed", ct);
                return page.GetProperty("runs").EnumerateArray().Any(r => r.TryGetProperty("tags", out var tags) && tags.TryGetProperty("source", out var s) && s.GetString() == "js-sdk"
                    && r.GetProperty("result").GetProperty("checksum").GetInt64() == 14);
            }, "the queue-triggered run to complete");

            // 4. Kill the app in the middle of a long run, start it again: the run completes, finished items are not redone.
            string batchRun;
            using (var trigger = await http.PostAsync("deployments/process-batch/manual/runs", null, deadline.Token))
            {
                batchRun = (await trigger.Content.ReadFromJsonAsync<JsonElement>(deadline.Token)).GetProperty("id").GetString()!;
            }

            var doneBeforeKill = 0;
            await deadline.PollUntilAsync(async ct =>
            {
                var run = await GetAsync(http, "runs/" + batchRun, ct);
                doneBeforeKill = run.GetProperty("taskRuns").EnumerateArray().Count(t => t.GetProperty("state").GetString() == "Completed");
                return doneBeforeKill >= 5;
            }, "five items to be processed");
            Assert.True(ProcessRunner.SendSigkill(app.Id));
            Assert.Equal(137, await app.WaitForExitAsync(deadline));
            var killedAt = doneBeforeKill; // items whose completion the API showed before the kill: recorded in the journal
            await app.DisposeAsync();

            app = StartApp(port, prefix);
            await AppProcess.WaitHealthyAsync(http, app, deadline);
            var finished = await WaitForStateAsync(http, batchRun, "Completed", deadline);

            Assert.Equal(30 * 31 * 61 / 6, finished.GetProperty("result").GetProperty("checksum").GetInt64());
            Assert.Equal(30, finished.GetProperty("taskRuns").GetArrayLength());
            Assert.All(finished.GetProperty("taskRuns").EnumerateArray(), t => Assert.Equal(1, t.GetProperty("attempts").GetInt32()));
            var logs = await GetAsync(http, $"runs/{batchRun}/logs?pageSize=1000", deadline);
            var processed = logs.GetProperty("lines").EnumerateArray().Select(l => l.GetProperty("message").GetString()!)
                .Where(m => m.StartsWith("Processing item ", StringComparison.Ordinal))
                .GroupBy(m => int.Parse(m["Processing item ".Length..], CultureInfo.InvariantCulture))
                .ToDictionary(g => g.Key, g => g.Count());
            for (var item = 1; item <= killedAt; item++)
            {
                Assert.True(processed.GetValueOrDefault(item) <= 1, $"item {item} was recorded before the kill but processed {processed[item]} times");
            }

            Assert.Contains(finished.GetProperty("history").EnumerateArray(), t => t.GetProperty("to").GetString() == "Running");
            output.WriteLine($"{doneBeforeKill} items done when killed, {killedAt} recorded; finished after restart");
        }
        finally
        {
            await app.DisposeAsync();
        }
    }
}
