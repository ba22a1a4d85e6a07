using System.Net.Http.Json;
using Flow.TestSupport;

namespace Flow.Cli.Tests;

/// <summary><c>flow event ls</c> as a real process against the built Flow app on Azurite.</summary>
public sealed class CliEventCommandTests(AzuriteFixture azurite, ITestOutputHelper output)
{
    [Fact]
    public async Task EventLs_ARunsEvents_OneLineEachOldestFirst_AndFollowPrintsNewEvents()
    {
        using var deadline = TestDeadline.Create(TimeSpan.FromSeconds(120));
        await using var app = await CliApp.StartAsync(azurite, output, deadline);
        await app.FlowAsync(deadline, "deployment", "apply", Path.Combine(RepoPaths.Root, "samples", "flow.yaml"));
        var run = await app.FlowAsync(deadline, "deployment", "run", "daily-etl/daily", "--watch");
        Assert.Equal(0, run.ExitCode);

        string[] lines = [];
        await deadline.PollUntilAsync(async ct =>
        {
            var ls = await app.FlowAsync(ct, "event", "ls", "--kind", "flow-run.", "--resource", "deployment/daily-etl/daily");
            lines = [.. ls.StandardOutput.Where(l => l.Contains(" flow-run.", StringComparison.Ordinal))];
            return lines.Any(l => l.Contains("flow-run.Completed", StringComparison.Ordinal));
        }, "the run's Completed event in flow event ls");
        Assert.Equal(["flow-run.Pending", "flow-run.Running", "flow-run.Completed"], lines.Select(l => l.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]));

        await using var follow = app.StartFlow("event", "ls", "--kind", "ci.", "--follow");
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{app.Port}") };
        http.DefaultRequestHeaders.Add("X-Flow-Api-Key", CliApp.Key);
        using var response = await http.PostAsJsonAsync("/api/events", new { kind = "ci.build.passed", resource = new { id = "repo/flow" }, payload = new { message = "main is green" } }, deadline.Token);
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync(deadline.Token));
        var line = await follow.WaitForOutputAsync(l => l.Contains("ci.build.passed", StringComparison.Ordinal), deadline.Token);
        Assert.Contains("repo/flow main is green", line, StringComparison.Ordinal);
    }
}
