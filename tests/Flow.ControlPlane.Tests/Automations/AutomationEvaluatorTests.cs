using Flow.ControlPlane.Automations;
using Flow.TestSupport;

namespace Flow.ControlPlane.Tests.Automations;

/// <summary>The evaluator's cursor: events are never lost to an automation whose evaluation failed.</summary>
public sealed class AutomationEvaluatorTests
{
    private static readonly DateTimeOffset T0 = new(2026, 6, 1, 8, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task TickAsync_OneAutomationFails_CursorStays_AndTheNextTickFiresItOnceWithoutRefiringTheOther()
    {
        using var deadline = TestDeadline.Create(TimeSpan.FromSeconds(30));
        await using var harness = new ControlPlaneHarness(T0);
        await harness.InitializeAsync(deadline.Token);
        foreach (var name in new[] { "healthy", "broken" })
        {
            await harness.Automations.ApplyAsync(name, new AutomationSpec
            {
                Trigger = new AutomationTrigger { Expect = ["flow-run.Failed"] },
                Actions = [new AutomationAction { Type = AutomationActionTypes.SendEvent, Kind = $"{name}.alert" }],
            }, "test", deadline.Token);
        }

        await harness.Evaluator.TickAsync(deadline.Token); // the cursor starts at the end of the feed
        var cursor = (await harness.Control.GetStateAsync(AutomationEvaluator.CursorKey, deadline.Token))!.Record;
        var corrupt = await harness.Control.PutStateAsync("automation:broken", "not json", (await harness.Control.GetStateAsync("automation:broken", deadline.Token))?.Version, deadline.Token);
        await harness.Events.AppendAsync([RunEvents.State("run-1", 4, "Failed", T0.AddSeconds(1))], deadline.Token);
        harness.Clock.Advance(TimeSpan.FromSeconds(2));

        await harness.Evaluator.TickAsync(deadline.Token);

        Assert.Equal(cursor, (await harness.Control.GetStateAsync(AutomationEvaluator.CursorKey, deadline.Token))!.Record);
        Assert.Single(await harness.Automations.ListFiringsAsync("healthy", 10, deadline.Token));
        Assert.Empty(await harness.Automations.ListFiringsAsync("broken", 10, deadline.Token));

        await harness.Control.PutStateAsync("automation:broken", "{}", corrupt.Version, deadline.Token);
        await harness.Evaluator.TickAsync(deadline.Token);

        Assert.NotEqual(cursor, (await harness.Control.GetStateAsync(AutomationEvaluator.CursorKey, deadline.Token))!.Record);
        Assert.Single(await harness.Automations.ListFiringsAsync("healthy", 10, deadline.Token));
        Assert.Single(await harness.Automations.ListFiringsAsync("broken", 10, deadline.Token));
        var feed = (await harness.Events.ReadFeedAsync(null, 100, deadline.Token)).Events;
        Assert.Single(feed, e => e.Kind == "healthy.alert");
        Assert.Single(feed, e => e.Kind == "broken.alert");
    }
}
