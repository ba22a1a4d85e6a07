using Flow.TestSupport;

namespace Flow.ControlPlane.Tests.Automations;

/// <summary>The <c>automations:</c> section of a deployments file.</summary>
public sealed class AutomationFileTests
{
    private const string ValidFile = """
        deployments:
          - flow: report
            name: daily
        automations:
          - name: report-late
            description: The daily report did not finish within 30 minutes
            trigger:
              posture: proactive
              after: [flow-run.Running]
              expect: [flow-run.Completed]
              match: { deployment: report/daily }
              forEach: id
              within: 1800
            actions:
              - type: call-webhook
                url: https://hooks.example.com/alert
                secret: slack
                body: { text: "{{ event.resource.id }} is late" }
        """;

    [Fact]
    public async Task ApplyWithAutomations_FileWithAutomations_CreatesThemAndIsIdempotent()
    {
        using var deadline = TestDeadline.Create(TimeSpan.FromSeconds(30));
        await using var harness = new ControlPlaneHarness(new DateTimeOffset(2026, 6, 1, 0, 0, 0, TimeSpan.Zero));
        await harness.InitializeAsync(deadline.Token);

        var (deployments, automations) = await DeploymentFile.ApplyWithAutomationsAsync(harness.Deployments, harness.Automations, DeploymentFile.Parse(ValidFile), "file:flow.yaml", deadline.Token);
        var (_, again) = await DeploymentFile.ApplyWithAutomationsAsync(harness.Deployments, harness.Automations, DeploymentFile.Parse(ValidFile), "file:flow.yaml", deadline.Token);

        Assert.Equal("created", Assert.Single(deployments).Outcome);
        Assert.Equal(("report-late", "created"), (Assert.Single(automations).Name, automations[0].Outcome));
        Assert.Equal("unchanged", Assert.Single(again).Outcome);
        var stored = await harness.Automations.GetAsync("report-late", deadline.Token);
        Assert.Equal("file:flow.yaml", stored.Source);
        Assert.Equal(["flow-run.Running"], stored.Trigger.After);
        Assert.Equal("{{ event.resource.id }} is late", stored.Actions[0].Body!.Value.GetProperty("text").GetString());
    }

    [Fact]
    public async Task ApplyWithAutomations_InvalidAutomation_NamesTheFieldAndWritesNothing()
    {
        using var deadline = TestDeadline.Create(TimeSpan.FromSeconds(30));
        await using var harness = new ControlPlaneHarness(new DateTimeOffset(2026, 6, 1, 0, 0, 0, TimeSpan.Zero));
        await harness.InitializeAsync(deadline.Token);
        var invalid = ValidFile.Replace("within: 1800", "within: 0", StringComparison.Ordinal) + """

              - name: report-late
                trigger: { expect: ["flow-run.Failed"] }
                actions: [{ type: pause-deployment }]
            """;

        var error = await Assert.ThrowsAsync<InvalidRequestException>(() =>
            DeploymentFile.ApplyWithAutomationsAsync(harness.Deployments, harness.Automations, DeploymentFile.Parse(invalid), "file:flow.yaml", deadline.Token));

        Assert.Equal(["automations[0].trigger.within", "automations[1].actions[0].deployment", "automations[1].name"], error.Errors.Keys.Order(StringComparer.Ordinal));
        Assert.Empty(await harness.Deployments.ListAsync(deadline.Token));
        Assert.Empty(await harness.Automations.ListAsync(deadline.Token));
    }
}
