using System.Globalization;
using System.Net;
using System.Text.Json;
using Flow.TestSupport;

namespace Flow.EndToEnd.Tests;

/// <summary>The README's start command, run as a user runs it (on free ports, with the app already built).</summary>
public sealed class FlowShStartTests(ITestOutputHelper output)
{
    [Fact]
    public async Task FlowShStart_ServesHealthWithAzurite_AndStopsAzuriteOnSigterm()
    {
        using var deadline = TestDeadline.Create(TimeSpan.FromSeconds(90));
        var ports = FreePorts.Next(4);
        var (flowPort, queuePort) = (ports[0], ports[2]);
        var azuriteData = Directory.CreateTempSubdirectory("flow-e2e-azurite-");
        await using var flow = ProcessRunner.Start(Path.Combine(RepoPaths.Root, "flow.sh"), ["start"], new ProcessRunnerOptions
        {
            WorkingDirectory = RepoPaths.Root,
            GuardLifetime = true, // if this test process dies, flow.sh and everything it started die too
            OnOutputLine = output.WriteLine,
            Environment = new Dictionary<string, string?>
            {
                ["FLOW_PORT"] = Text(flowPort),
                ["FLOW_AZURITE_BLOB_PORT"] = Text(ports[1]),
                ["FLOW_AZURITE_QUEUE_PORT"] = Text(queuePort),
                ["FLOW_AZURITE_TABLE_PORT"] = Text(ports[3]),
                ["FLOW_AZURITE_LOCATION"] = azuriteData.FullName,
                ["FLOW_CONFIGURATION"] = RepoPaths.Configuration,
                ["FLOW_NO_BUILD"] = "1",
            },
        });
        try
        {
            var flowShPid = await PidFromLogAsync(flow, "flow.sh: started (pid ", deadline);
            var azuritePid = await PidFromLogAsync(flow, "flow.sh: azurite pid ", deadline);

            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
            string? body = null;
            await deadline.PollUntilAsync(async ct =>
            {
                Assert.False(flow.HasExited, $"flow.sh exited with {flow.ExitCode}:\n{flow.Output}");
                using var response = await http.GetAsync(new Uri($"http://127.0.0.1:{flowPort}/api/health"), ct);
                body = response.StatusCode == HttpStatusCode.OK ? await response.Content.ReadAsStringAsync(ct) : null;
                return body is not null && JsonDocument.Parse(body).RootElement.GetProperty("status").GetString() == "healthy";
            }, "./flow.sh start to report healthy at /api/health");

            // The samples are there: the daily ETL deployment from samples/flow.yaml runs when triggered (anonymous from loopback).
            var api = new Uri($"http://127.0.0.1:{flowPort}/api/");
            using (var deployment = await http.GetAsync(new Uri(api, "deployments/daily-etl/daily"), deadline.Token))
            {
                Assert.Equal(HttpStatusCode.OK, deployment.StatusCode);
                Assert.Contains("0 6 * * *", await deployment.Content.ReadAsStringAsync(deadline.Token), StringComparison.Ordinal);
            }

            string runId;
            using (var trigger = await http.PostAsync(new Uri(api, "deployments/daily-etl/daily/runs"), null, deadline.Token))
            {
                Assert.Equal(HttpStatusCode.Accepted, trigger.StatusCode);
                runId = JsonDocument.Parse(await trigger.Content.ReadAsStringAsync(deadline.Token)).RootElement.GetProperty("id").GetString()!;
            }

            JsonElement run = default;
            await deadline.PollUntilAsync(async ct =>
            {
                using var response = await http.GetAsync(new Uri(api, "runs/" + runId), ct);
                run = JsonDocument.Parse(await response.Content.ReadAsStringAsync(ct)).RootElement.Clone();
                return run.GetProperty("state").GetString() is "Completed" or "Failed" or "Crashed";
            }, "the sample ETL run to finish");
            Assert.True(run.GetProperty("state").GetString() == "Completed", run.ToString());
            Assert.Equal(120, run.GetProperty("result").GetProperty("records").GetInt32());
            Assert.Equal(["fetch-orders", "transform", "load"], run.GetProperty("taskRuns").EnumerateArray().Select(t => t.GetProperty("name").GetString()));
            Assert.True(await FreePorts.AcceptsConnectionsAsync(queuePort, deadline.Token), "Azurite's queue port is closed.");
            Assert.True(ProcessRunner.IsAlive(azuritePid));

            // SIGTERM to flow.sh itself (not its group): its trap must stop the app and Azurite.
            Assert.True(ProcessRunner.SendSigterm(flowShPid));
            await flow.WaitForOutputAsync(l => l.StartsWith("flow.sh: stopped Flow and Azurite", StringComparison.Ordinal), deadline.Token);
            var exitCode = await flow.WaitForExitAsync(deadline.Token);

            Assert.Equal(143, exitCode);
            await deadline.PollUntilAsync(_ => Task.FromResult(!ProcessRunner.IsAlive(azuritePid)), $"Azurite (pid {azuritePid}) to be gone");
            Assert.False(await FreePorts.AcceptsConnectionsAsync(queuePort, deadline.Token), "Azurite's queue port is still open.");
            Assert.False(await FreePorts.AcceptsConnectionsAsync(flowPort, deadline.Token), "Flow's port is still open.");
        }
        finally
        {
            await flow.DisposeAsync();
            azuriteData.Delete(recursive: true);
        }
    }

    private static string Text(int port) => port.ToString(CultureInfo.InvariantCulture);

    private static async Task<int> PidFromLogAsync(ProcessRunner flow, string prefix, TestDeadline deadline)
    {
        var line = await flow.WaitForOutputAsync(l => l.StartsWith(prefix, StringComparison.Ordinal), deadline.Token);
        return int.Parse(line.AsSpan(prefix.Length).TrimEnd(')').ToString().Split(' ')[0], CultureInfo.InvariantCulture);
    }
}
