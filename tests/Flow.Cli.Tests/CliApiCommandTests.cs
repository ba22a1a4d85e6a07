using System.Text.Json;
using Flow.TestSupport;

namespace Flow.Cli.Tests;

/// <summary>The <c>flow</c> CLI as a real process against the built Flow app running as a process on Azurite.</summary>
public sealed class CliApiCommandTests(AzuriteFixture azurite, ITestOutputHelper output)
{
    private const string Key = "cli-test-api-key-0123456789";

    private static string CliAssembly => Path.Combine(RepoPaths.Root, "src", "Flow.Cli", "bin", RepoPaths.Configuration, RepoPaths.TargetFramework, "flow.dll");

    private async Task<ProcessResult> FlowAsync(int port, CancellationToken ct, params string[] args)
    {
        var result = await ProcessRunner.RunAsync(RepoPaths.DotNetHost, [CliAssembly, .. args], new ProcessRunnerOptions
        {
            WorkingDirectory = RepoPaths.Root,
            Environment = new Dictionary<string, string?> { ["FLOW_API_URL"] = $"http://127.0.0.1:{port}", ["FLOW_API_KEY"] = Key, ["NO_COLOR"] = "1" },
        }, ct);
        output.WriteLine($"$ flow {string.Join(' ', args)} -> {result.ExitCode}\n{result.Output}");
        return result;
    }

    [Fact]
    public async Task DeploymentAndRunCommands_AgainstTheRunningApp_ApplyTriggerWatchAndInspect()
    {
        using var deadline = TestDeadline.Create(TimeSpan.FromSeconds(120));
        var port = FreePorts.Next();
        var prefix = "cli" + UniqueNames.Suffix()[..8].ToLowerInvariant().Replace("_", "", StringComparison.Ordinal);
        await using var app = ProcessRunner.Start(RepoPaths.DotNetHost, [RepoPaths.FunctionsAssembly, "--urls", $"http://127.0.0.1:{port}"], new ProcessRunnerOptions
        {
            WorkingDirectory = RepoPaths.Root,
            Environment = new Dictionary<string, string?>
            {
                ["AzureWebJobsStorage"] = azurite.ConnectionString,
                ["FUNCTIONS_CUSTOMHANDLER_PORT"] = null,
                ["Flow__Storage__Azure__TablePrefix"] = "C" + prefix,
                ["Flow__Storage__Azure__QueuePrefix"] = prefix + "-",
                ["Flow__App__ApiKey"] = Key,
                ["Flow__App__Samples"] = "true",
                ["Flow__Worker__MaxPollInterval"] = "00:00:00.200",
            },
        });
        using var http = new HttpClient();
        await deadline.PollUntilAsync(async ct =>
        {
            Assert.False(app.HasExited, app.Output);
            try
            {
                return (await http.GetStringAsync(new Uri($"http://127.0.0.1:{port}/api/health"), ct)).Contains("\"healthy\"", StringComparison.Ordinal);
            }
            catch (HttpRequestException)
            {
                return false;
            }
        }, "the app to be healthy");

        var apply = await FlowAsync(port, deadline, "deployment", "apply", Path.Combine(RepoPaths.Root, "samples", "flow.yaml"));
        var again = await FlowAsync(port, deadline, "deployment", "apply", Path.Combine(RepoPaths.Root, "samples", "flow.yaml"));
        var list = await FlowAsync(port, deadline, "deployment", "ls");
        var run = await FlowAsync(port, deadline, "deployment", "run", "daily-etl/daily", "--watch", "--json");

        Assert.Equal(0, apply.ExitCode);
        Assert.Contains("daily-etl/daily: created", apply.Output, StringComparison.Ordinal);
        Assert.Contains("daily-etl/daily: unchanged", again.Output, StringComparison.Ordinal);
        Assert.Equal(0, list.ExitCode);
        Assert.Contains("cron 0 6 * * * UTC", list.Output, StringComparison.Ordinal);
        Assert.Equal(0, run.ExitCode);
        var finished = JsonDocument.Parse(run.StandardOutput.Last(l => l.StartsWith('{'))).RootElement;
        Assert.Equal("Completed", finished.GetProperty("state").GetString());
        var id = finished.GetProperty("id").GetString()!;

        var runs = await FlowAsync(port, deadline, "run", "ls", "--deployment", "daily-etl/daily", "--json");
        var shown = await FlowAsync(port, deadline, "run", "get", id);
        var logs = await FlowAsync(port, deadline, "run", "logs", id);

        Assert.Contains(id, JsonDocument.Parse(string.Join('\n', runs.StandardOutput)).RootElement.GetProperty("runs").EnumerateArray().Select(r => r.GetProperty("id").GetString()));
        Assert.Contains("fetch-orders", shown.Output, StringComparison.Ordinal);
        Assert.Contains("Completed", shown.Output, StringComparison.Ordinal);
        Assert.Contains("Processed 120 records", logs.Output, StringComparison.Ordinal);

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

        var unreachable = await FlowAsync(unusedPort, deadline, "run", "ls");
        var badParam = await FlowAsync(unusedPort, deadline, "deployment", "run", "a/b", "--param", "novalue");
        var missingFile = await FlowAsync(unusedPort, deadline, "deployment", "apply", "/nonexistent/flow.yaml");

        Assert.Equal(1, unreachable.ExitCode);
        Assert.Contains("flow: error: cannot reach the Flow API", unreachable.Output, StringComparison.Ordinal);
        Assert.Equal(1, badParam.ExitCode);
        Assert.Contains("--param 'novalue' is not name=value", badParam.Output, StringComparison.Ordinal);
        Assert.Equal(1, missingFile.ExitCode);
        Assert.Contains("does not exist", missingFile.Output, StringComparison.Ordinal);
    }
}
