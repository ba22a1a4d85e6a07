using System.Text.Json;
using Flow.Client;
using Flow.TestSupport;

namespace Flow.Cli.Tests;

/// <summary><c>flow run …</c> and <c>flow deployment run --watch</c> as a Prefect user expects them: short ids, 80 columns, streamed runs.</summary>
public sealed class CliRunCommandTests(AzuriteFixture azurite, ITestOutputHelper output)
{
    [Fact]
    public async Task RunLs_FitsEightyColumnsWithShortIds_AndGetLogsCancelAcceptAUniquePrefix()
    {
        using var deadline = TestDeadline.Create(TimeSpan.FromSeconds(150));
        await using var app = await CliApp.StartAsync(azurite, output, deadline);
        await ApplySamplesAsync(app, deadline);
        string[] ids = [await RunDailyEtlAsync(app, deadline), await RunDailyEtlAsync(app, deadline)];

        var list = await app.FlowAsync(deadline, "run", "ls");

        Assert.Equal(0, list.ExitCode);
        Assert.All(list.StandardOutput, line => Assert.True(line.Length <= 80, $"{line.Length} columns: {line}"));
        Assert.StartsWith("RUN", list.StandardOutput[0], StringComparison.Ordinal);
        var shown = list.StandardOutput.Skip(1).Select(l => l.Split(' ', 2)[0]).ToArray();
        Assert.Equal(2, shown.Length);
        var shortId = Assert.Single(shown, s => ids[0].StartsWith(s, StringComparison.Ordinal));
        Assert.InRange(shortId.Length, 8, 31);
        Assert.Contains(list.StandardOutput, l => l.Contains("daily-etl/daily", StringComparison.Ordinal) && l.Contains("Completed", StringComparison.Ordinal) && l.Contains(" ago", StringComparison.Ordinal));

        var get = await app.FlowAsync(deadline, "run", "get", shortId);
        var logs = await app.FlowAsync(deadline, "run", "logs", shortId);
        var cancel = await app.FlowAsync(deadline, "run", "cancel", shortId);
        Assert.Equal(0, get.ExitCode);
        Assert.Contains(ids[0], get.Output, StringComparison.Ordinal);
        Assert.Equal(0, logs.ExitCode);
        Assert.Contains("Processed 120 records", logs.Output, StringComparison.Ordinal);
        Assert.Contains(ids[0], cancel.Output, StringComparison.Ordinal);

        // The two runs were created a second apart: their version-7 ids share their leading (time) characters.
        var common = new string(ids[0].Zip(ids[1]).TakeWhile(p => p.First == p.Second).Select(p => p.First).ToArray());
        Assert.True(common.Length >= 4, $"{ids[0]} and {ids[1]} share only '{common}'");
        var ambiguous = await app.FlowAsync(deadline, "run", "get", common);
        var unknown = await app.FlowAsync(deadline, "run", "logs", "0000ffff");
        Assert.Equal(1, ambiguous.ExitCode);
        Assert.Contains("ambiguous", ambiguous.Output, StringComparison.Ordinal);
        Assert.Contains(ids[0], ambiguous.Output, StringComparison.Ordinal);
        Assert.Contains(ids[1], ambiguous.Output, StringComparison.Ordinal);
        Assert.Equal(1, unknown.ExitCode);
        Assert.Contains("does not exist", unknown.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunGet_ShowsTheStateHistoryAndTaskRunsWithTimings()
    {
        using var deadline = TestDeadline.Create(TimeSpan.FromSeconds(120));
        await using var app = await CliApp.StartAsync(azurite, output, deadline);
        await ApplySamplesAsync(app, deadline);
        var id = await RunDailyEtlAsync(app, deadline);

        var get = await app.FlowAsync(deadline, "run", "get", id);

        Assert.Equal(0, get.ExitCode);
        var text = get.Output;
        var history = text.IndexOf("state history:", StringComparison.Ordinal);
        Assert.True(history >= 0, text);
        var running = text.IndexOf(" Running", history, StringComparison.Ordinal);
        var completed = text.IndexOf(" Completed", history, StringComparison.Ordinal);
        Assert.True(running > history && completed > running, "history lists Running, then Completed:\n" + text);
        Assert.Matches(@"fetch-orders\s*│\s*Completed\s*│\s*1\s*│\s*\+[\d.]+m?s\s*│\s*[\d.]+m?s", text);
    }

    [Fact]
    public async Task DeploymentRunWatch_StreamsLogLinesWhileTheRunRuns_AndExitsNonZeroNamingAFailedState()
    {
        using var deadline = TestDeadline.Create(TimeSpan.FromSeconds(150));
        await using var app = await CliApp.StartAsync(azurite, output, deadline);
        var file = Path.Combine(Path.GetTempPath(), $"flow-cli-{Guid.NewGuid():N}.yaml");
        await File.WriteAllTextAsync(file, "deployments:\n  - flow: process-batch\n    name: batch\n    pool: default\n", deadline);
        try
        {
            Assert.Equal(0, (await app.FlowAsync(deadline, "deployment", "apply", file)).ExitCode);
        }
        finally
        {
            File.Delete(file);
        }

        // Three items of 1.5 s each: the first item's log line must appear while the run (and so the watch) is still going.
        await using (var watch = app.StartFlow("deployment", "run", "process-batch/batch", "--param", "items=3", "--param", "delayMs=1500", "--watch"))
        {
            await watch.WaitForOutputAsync(l => l.Contains("Processing item 1", StringComparison.Ordinal), deadline);
            var streamedBeforeTheEnd = !watch.HasExited;
            var exit = await watch.WaitForExitAsync(deadline);
            output.WriteLine(watch.Output);

            Assert.True(streamedBeforeTheEnd, "the log line came only after the run ended:\n" + watch.Output);
            Assert.Equal(0, exit);
            var lines = watch.StandardOutputLines.ToList();
            var runningAt = lines.FindIndex(l => l.Contains("state Running", StringComparison.Ordinal));
            var logAt = lines.FindIndex(l => l.Contains("Processing item 3", StringComparison.Ordinal));
            var finalAt = lines.FindIndex(l => l.StartsWith("state: Completed", StringComparison.Ordinal));
            Assert.True(runningAt >= 0 && logAt > runningAt && finalAt > logAt, watch.Output);
            Assert.Single(lines, l => l.Contains("Processing item 2", StringComparison.Ordinal));
        }

        var failed = await app.FlowAsync(deadline, "deployment", "run", "process-batch/batch", "--param", "items=-1", "--watch");

        Assert.Equal(1, failed.ExitCode);
        Assert.Contains("ended Failed", failed.Output, StringComparison.Ordinal);
    }

    private static async Task ApplySamplesAsync(CliApp app, CancellationToken ct) =>
        Assert.Equal(0, (await app.FlowAsync(ct, "deployment", "apply", Path.Combine(RepoPaths.Root, "samples", "flow.yaml"))).ExitCode);

    /// <summary>Runs daily-etl/daily to its end with <c>--watch --json</c> and returns the run's id.</summary>
    private static async Task<string> RunDailyEtlAsync(CliApp app, CancellationToken ct)
    {
        var run = await app.FlowAsync(ct, "deployment", "run", "daily-etl/daily", "--watch", "--json");
        Assert.Equal(0, run.ExitCode);
        return JsonSerializer.Deserialize<RunView>(run.StandardOutput.Last(l => l.StartsWith('{')), FlowJson.Options)!.Id;
    }
}
