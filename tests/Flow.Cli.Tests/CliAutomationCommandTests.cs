using System.Text.Json;
using Flow.Client;
using Flow.TestSupport;

namespace Flow.Cli.Tests;

/// <summary><c>flow automation …</c> as a real process against the built Flow app on Azurite.</summary>
public sealed class CliAutomationCommandTests(AzuriteFixture azurite, ITestOutputHelper output)
{
    [Fact]
    public async Task AutomationCommands_ApplyListDisableEnableFirings_AgainstTheRunningApp()
    {
        using var deadline = TestDeadline.Create(TimeSpan.FromSeconds(120));
        await using var app = await CliApp.StartAsync(azurite, output, deadline);
        var file = Path.Combine(Path.GetTempPath(), $"flow-automations-{Guid.NewGuid():N}.yaml");
        await File.WriteAllTextAsync(file, """
            automations:
              - name: etl-late
                trigger:
                  posture: proactive
                  after: [flow-run.Running]
                  expect: [flow-run.Completed]
                  forEach: id
                  within: 1800
                actions:
                  - type: send-event
                    kind: etl.late
            """, deadline.Token);
        try
        {
            var apply = await app.FlowAsync(deadline, "automation", "apply", file);
            var list = await app.FlowAsync(deadline, "automation", "ls");
            var disable = await app.FlowAsync(deadline, "automation", "disable", "etl-late");
            var enable = await app.FlowAsync(deadline, "automation", "enable", "etl-late", "--json");
            var firings = await app.FlowAsync(deadline, "automation", "firings", "etl-late", "--json");
            var missing = await app.FlowAsync(deadline, "automation", "enable", "no-such-automation");

            Assert.Equal(0, apply.ExitCode);
            Assert.Contains("etl-late: enabled", apply.Output, StringComparison.Ordinal);
            Assert.Contains("no flow-run.Completed within", list.Output, StringComparison.Ordinal); // the table wraps the rest
            Assert.Contains("send-event", list.Output, StringComparison.Ordinal);
            Assert.Contains("etl-late: disabled", disable.Output, StringComparison.Ordinal);
            Assert.True(JsonSerializer.Deserialize<AutomationView>(string.Join('\n', enable.StandardOutput), FlowJson.Options)!.Enabled);
            Assert.Empty(JsonSerializer.Deserialize<AutomationFiringView[]>(string.Join('\n', firings.StandardOutput), FlowJson.Options)!);
            Assert.Equal(1, missing.ExitCode);
            Assert.Contains("flow: error: Automation 'no-such-automation' does not exist.", missing.Output, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(file);
        }
    }
}
