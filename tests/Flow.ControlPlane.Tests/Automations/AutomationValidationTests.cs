using System.Text.Json;
using Flow.ControlPlane.Automations;
using Flow.Engine.Events;
using Flow.TestSupport;

namespace Flow.ControlPlane.Tests.Automations;

/// <summary>Validation names every wrong field; patterns match as documented.</summary>
public sealed class AutomationValidationTests
{
    [Fact]
    public void Validate_ManyMistakes_NamesEveryWrongField()
    {
        var spec = new AutomationSpec
        {
            Trigger = new AutomationTrigger { Posture = "sometimes", Expect = ["!flow-run.Running"], Threshold = 0, Within = -5, After = ["x"] },
            Actions =
            [
                new AutomationAction { Type = AutomationActionTypes.CallWebhook, Url = "ftp://x", Secret = "no spaces allowed", MaxAttempts = 99 },
                new AutomationAction { Type = "email" },
                new AutomationAction { Type = AutomationActionTypes.PauseDeployment, Deployment = "no-slash", Pool = "default" },
                new AutomationAction { Type = AutomationActionTypes.ChangeRunState, State = "Completed" },
                new AutomationAction { Type = AutomationActionTypes.RunDeployment, Deployment = "etl/daily", Parameters = JsonDocument.Parse("[1]").RootElement },
                new AutomationAction { Type = AutomationActionTypes.SendEvent, Kind = "x.{{ event.kind" },
            ],
        };

        var error = Assert.Throws<InvalidRequestException>(() => AutomationValidator.Validate("bad name", spec, queuesAvailable: true));

        Assert.Equal(
            [
                "actions[0].maxAttempts", "actions[0].secret", "actions[0].url", "actions[1].type", "actions[2].deployment", "actions[2].pool",
                "actions[3].state", "actions[4].parameters", "actions[5].kind", "name", "trigger.after", "trigger.expect", "trigger.posture",
                "trigger.threshold", "trigger.within",
            ],
            error.Errors.Keys.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Validate_QueueMessageWithoutAzureQueues_RefusedNamingTheAction()
    {
        var spec = new AutomationSpec
        {
            Trigger = new AutomationTrigger { Expect = ["flow-run.Failed"] },
            Actions = [new AutomationAction { Type = AutomationActionTypes.QueueMessage, Queue = "alerts" }],
        };

        var error = Assert.Throws<InvalidRequestException>(() => AutomationValidator.Validate("to-queue", spec, queuesAvailable: false));

        Assert.Contains("Azure Storage queues", Assert.Single(error.Errors["actions[0].type"]), StringComparison.Ordinal);
        AutomationValidator.Validate("to-queue", spec, queuesAvailable: true);
    }

    [Fact]
    public void Validate_ProactiveWithoutWindow_AndNoActions_Refused()
    {
        var error = Assert.Throws<InvalidRequestException>(() => AutomationValidator.Validate(
            "late", new AutomationSpec { Trigger = new AutomationTrigger { Posture = AutomationTrigger.Proactive, Expect = ["flow-run.Completed"] }, Actions = [] }, true));

        Assert.Equal(["actions", "trigger.within"], error.Errors.Keys.Order(StringComparer.Ordinal));
    }

    [Theory]
    [InlineData("flow-run.*", "flow-run.Failed", true)]
    [InlineData("flow-run.*", "deployment.paused", false)]
    [InlineData("*.Failed", "flow-run.Failed", true)]
    [InlineData("flow-run.C*d", "flow-run.Completed", true)]
    [InlineData("flow-run.C*d", "flow-run.Crashed", true)]
    [InlineData("flow-run.C*d", "flow-run.Cancelling", false)]
    [InlineData("*", "", true)]
    [InlineData("a**b", "ab", true)]
    public void Glob_MatchesWildcards(string pattern, string value, bool expected) =>
        Assert.Equal(expected, EventPatterns.Glob(pattern, value));

    [Fact]
    public void AcceptsAny_PositiveAndNegatedPatterns()
    {
        string[] patterns = ["flow-run.*", "!flow-run.Running", "!flow-run.Pending"];

        Assert.True(EventPatterns.AcceptsAny(patterns, "flow-run.Failed"));
        Assert.False(EventPatterns.AcceptsAny(patterns, "flow-run.Running"));
        Assert.False(EventPatterns.AcceptsAny(patterns, "deployment.paused"));
        Assert.True(EventPatterns.AcceptsAny(["!x"], "y"));
    }

    [Fact]
    public void MatchesResources_LabelsIdAndRelated_WithNegation()
    {
        var e = RunEvents.State("r1", 3, "Failed", DateTimeOffset.UnixEpoch, "etl/daily", "prod");
        static AutomationTrigger T(Dictionary<string, string>? match = null, params RelatedMatch[] related) =>
            new() { Expect = ["*"], Match = match, MatchRelated = related };

        Assert.True(EventPatterns.MatchesResources(T(new() { ["id"] = "flow-run/*", ["flow"] = "etl" }), e));
        Assert.False(EventPatterns.MatchesResources(T(new() { ["state"] = "!Failed" }), e));
        Assert.True(EventPatterns.MatchesResources(T(new() { ["missing"] = "!x" }), e));
        Assert.False(EventPatterns.MatchesResources(T(new() { ["missing"] = "x" }), e));
        Assert.True(EventPatterns.MatchesResources(T(null, new RelatedMatch { Role = "tag", Id = "tag/prod" }), e));
        Assert.False(EventPatterns.MatchesResources(T(null, new RelatedMatch { Role = "tag", Id = "!tag/prod" }), e));
        Assert.True(EventPatterns.MatchesResources(T(null, new RelatedMatch { Role = "deployment", Id = "deployment/etl/*" }), e));
        Assert.Equal("flow-run/r1", EventPatterns.ForEachValue(new AutomationTrigger { ForEach = "id" }, e));
        Assert.Equal("etl/daily", EventPatterns.ForEachValue(new AutomationTrigger { ForEach = "deployment" }, e));
        Assert.Null(EventPatterns.ForEachValue(new AutomationTrigger { ForEach = "nothing" }, e));
        Assert.IsType<FlowEvent>(e);
    }

    [Fact]
    public async Task ApplyAsync_SameDefinitionTwice_Unchanged_AndEnableDisableKeepTheDefinition()
    {
        using var deadline = TestDeadline.Create(TimeSpan.FromSeconds(30));
        await using var harness = new ControlPlaneHarness(new DateTimeOffset(2026, 6, 1, 0, 0, 0, TimeSpan.Zero));
        var spec = new AutomationSpec { Trigger = new AutomationTrigger { Expect = ["flow-run.Failed"] }, Actions = [new AutomationAction { Type = AutomationActionTypes.CancelRun }] };

        Assert.Equal("created", (await harness.Automations.ApplyAsync("a", spec, "api", deadline.Token)).Outcome);
        Assert.Equal("unchanged", (await harness.Automations.ApplyAsync("a", spec, "api", deadline.Token)).Outcome);
        Assert.False((await harness.Automations.SetEnabledAsync("a", false, deadline.Token)).Enabled);
        harness.Clock.Advance(TimeSpan.FromMinutes(5));
        var enabled = await harness.Automations.SetEnabledAsync("a", true, deadline.Token);

        Assert.Equal(harness.Clock.GetUtcNow(), enabled.EnabledAt);
        Assert.Equal("reactive", enabled.Trigger.Posture);
        await Assert.ThrowsAsync<ResourceNotFoundException>(() => harness.Automations.GetAsync("b", deadline.Token));
    }
}
