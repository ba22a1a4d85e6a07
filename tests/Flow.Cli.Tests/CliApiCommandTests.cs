using System.Text.Json;
using Flow.Client;
using Flow.Sdk;
using Flow.TestSupport;

namespace Flow.Cli.Tests;

/// <summary>The <c>flow</c> CLI as a real process against the built Flow app running as a process on Azurite.</summary>
public sealed class CliApiCommandTests(AzuriteFixture azurite, ITestOutputHelper output)
{
    [Fact]
    public async Task DeploymentAndRunCommands_AgainstTheRunningApp_ApplyTriggerWatchAndInspect()
    {
        using var deadline = TestDeadline.Create(TimeSpan.FromSeconds(120));
        await using var app = await CliApp.StartAsync(azurite, output, deadline);

        var apply = await app.FlowAsync(deadline, "deployment", "apply", Path.Combine(RepoPaths.Root, "samples", "flow.yaml"));
        var again = await app.FlowAsync(deadline, "deployment", "apply", Path.Combine(RepoPaths.Root, "samples", "flow.yaml"));
        var list = await app.FlowAsync(deadline, "deployment", "ls");
        var run = await app.FlowAsync(deadline, "deployment", "run", "daily-etl/daily", "--watch", "--json");

        Assert.Equal(0, apply.ExitCode);
        Assert.Contains("daily-etl/daily: created", apply.Output, StringComparison.Ordinal);
        Assert.Contains("daily-etl/daily: unchanged", again.Output, StringComparison.Ordinal);
        Assert.Equal(0, list.ExitCode);
        Assert.Contains("cron 0 6 * * * UTC", list.Output, StringComparison.Ordinal);
        Assert.Equal(0, run.ExitCode);
        var finished = JsonSerializer.Deserialize<RunView>(run.StandardOutput.Last(l => l.StartsWith('{')), FlowJson.Options)!;
        Assert.Equal(RunState.Completed, finished.State);
        var id = finished.Id;

        var runs = await app.FlowAsync(deadline, "run", "ls", "--deployment", "daily-etl/daily", "--json");
        var shown = await app.FlowAsync(deadline, "run", "get", id);
        var logs = await app.FlowAsync(deadline, "run", "logs", id);
        var missing = await app.FlowAsync(deadline, "run", "get", "no-such-run-0123");
        var byTag = await app.FlowAsync(deadline, "run", "ls", "--tag", "team=data", "--tag", "team", "--json");
        var byOtherTag = await app.FlowAsync(deadline, "run", "ls", "--tag", "team=ml", "--json");
        var late = await app.FlowAsync(deadline, "run", "ls", "--state", "Late", "--json");
        var badTag = await app.FlowAsync(deadline, "run", "ls", "--tag", "=data");

        Assert.Contains(id, JsonSerializer.Deserialize<RunPageView>(string.Join('\n', runs.StandardOutput), FlowJson.Options)!.Runs.Select(r => r.Id));
        Assert.Contains("fetch-orders", shown.Output, StringComparison.Ordinal);
        Assert.Contains("Completed", shown.Output, StringComparison.Ordinal);
        Assert.Contains("Processed 120 records", logs.Output, StringComparison.Ordinal);
        Assert.Equal(1, missing.ExitCode);
        Assert.Contains("flow: error: Run 'no-such-run-0123' does not exist.", missing.Output, StringComparison.Ordinal);
        RunPageView Page(ProcessResult result) => JsonSerializer.Deserialize<RunPageView>(string.Join('\n', result.StandardOutput), FlowJson.Options)!;
        Assert.Contains(id, Page(byTag).Runs.Select(r => r.Id));
        Assert.Empty(Page(byOtherTag).Runs);
        Assert.Equal(0, late.ExitCode);
        Assert.DoesNotContain(id, Page(late).Runs.Select(r => r.Id)); // it ran: never Late
        Assert.All(Page(late).Runs, r => Assert.Equal("Late", r.StateName));
        Assert.Equal(1, badTag.ExitCode);
        Assert.Contains("tag", badTag.Output, StringComparison.Ordinal);

        // Output to a pipe, as here, carries no ANSI escapes (colours and bold are for terminals).
        Assert.DoesNotContain('\u001b', shown.Output);
        Assert.DoesNotContain('\u001b', list.Output);
        Assert.DoesNotContain('\u001b', apply.Output);
    }

    [Fact]
    public async Task Commands_BadInputOrNoApi_ExitOneWithAClearMessage()
    {
        using var deadline = TestDeadline.Create(TimeSpan.FromSeconds(60));
        var unusedPort = FreePorts.Next();

        var unreachable = await CliApp.RunFlowAsync(unusedPort, output, deadline, "run", "ls");
        var badParam = await CliApp.RunFlowAsync(unusedPort, output, deadline, "deployment", "run", "a/b", "--param", "novalue");
        var missingFile = await CliApp.RunFlowAsync(unusedPort, output, deadline, "deployment", "apply", "/nonexistent/flow.yaml");

        Assert.Equal(1, unreachable.ExitCode);
        Assert.Contains("flow: error: cannot reach the Flow API", unreachable.Output, StringComparison.Ordinal);
        Assert.Equal(1, badParam.ExitCode);
        Assert.Contains("--param 'novalue' is not name=value", badParam.Output, StringComparison.Ordinal);
        Assert.Equal(1, missingFile.ExitCode);
        Assert.Contains("does not exist", missingFile.Output, StringComparison.Ordinal);
    }
}
