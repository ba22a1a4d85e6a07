using Flow.ControlPlane.Automations;
using Flow.Engine.Events;
using Flow.TestSupport;

namespace Flow.ControlPlane.Tests.Automations;

/// <summary>Automations on control-plane events (docs/events.md): they trigger on pool and deployment changes, and never on their own events.</summary>
public sealed class AutomationControlEventTests
{
    private static readonly DateTimeOffset T0 = new(2026, 6, 1, 8, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task TickAsync_WorkPoolPaused_FiresTheAutomationWatchingPoolPauses_Once()
    {
        using var deadline = TestDeadline.Create(TimeSpan.FromSeconds(30));
        await using var harness = new ControlPlaneHarness(T0);
        await harness.InitializeAsync(deadline.Token);
        await harness.Automations.ApplyAsync("pool-watch", new AutomationSpec
        {
            Trigger = new AutomationTrigger { Expect = ["work-pool.paused"], Match = new Dictionary<string, string> { ["pool"] = "default" } },
            Actions = [new AutomationAction { Type = AutomationActionTypes.SendEvent, Kind = "ops.pool-paused", Resource = "{{ event.resource.id }}" }],
        }, "test", deadline.Token);
        await harness.Evaluator.TickAsync(deadline.Token); // the cursor starts at the end of the feed
        harness.Clock.Advance(TimeSpan.FromSeconds(1));

        await harness.Deployments.SetPoolPausedAsync("default", true, deadline.Token);
        await harness.Deployments.SetPoolPausedAsync("default", true, deadline.Token); // no change, no event
        harness.Clock.Advance(TimeSpan.FromSeconds(1));
        await harness.Evaluator.TickAsync(deadline.Token);
        await harness.Evaluator.TickAsync(deadline.Token);

        var firing = Assert.Single(await harness.Automations.ListFiringsAsync("pool-watch", 10, deadline.Token));
        Assert.Equal("work-pool.paused", firing.Event!.Kind);
        Assert.Equal("work-pool/default", firing.Event.Resource.Id);
        var feed = (await harness.Events.ReadFeedAsync(null, 1000, deadline.Token)).Events;
        Assert.Single(feed, e => e.Kind == "work-pool.paused");
        Assert.Equal("work-pool/default", Assert.Single(feed, e => e.Kind == "ops.pool-paused").Resource.Id);
        Assert.Single(feed, e => e.Kind == "automation.triggered");
        Assert.Single(feed, e => e.Kind == "automation.action.succeeded");
    }

    [Fact]
    public async Task TickAsync_AutomationWhoseActionEmitsWhatItsTriggerMatches_FiresOnceNotForever()
    {
        using var deadline = TestDeadline.Create(TimeSpan.FromSeconds(30));
        await using var harness = new ControlPlaneHarness(T0);
        await harness.InitializeAsync(deadline.Token);

        // It matches every loop.* event and every automation.* event — its own firing, its action's outcome, and the event its
        // action sends (loop.echo) among them. Without the guard each firing would cause the next.
        await harness.Automations.ApplyAsync("echo", new AutomationSpec
        {
            Trigger = new AutomationTrigger { Expect = ["loop.*", "automation.*"] },
            Actions = [new AutomationAction { Type = AutomationActionTypes.SendEvent, Kind = "loop.echo" }],
        }, "test", deadline.Token);
        await harness.Evaluator.TickAsync(deadline.Token);
        await harness.Events.AppendAsync([new FlowEvent { Id = "start-1", Kind = "loop.start", OccurredAt = T0.AddSeconds(1), Resource = new EventResource("external/x") }], deadline.Token);

        for (var tick = 0; tick < 5; tick++)
        {
            harness.Clock.Advance(TimeSpan.FromSeconds(1));
            await harness.Evaluator.TickAsync(deadline.Token);
        }

        var firing = Assert.Single(await harness.Automations.ListFiringsAsync("echo", 10, deadline.Token));
        Assert.Equal("start-1", firing.Event!.Id);
        var feed = (await harness.Events.ReadFeedAsync(null, 1000, deadline.Token)).Events;
        var echo = Assert.Single(feed, e => e.Kind == "loop.echo");
        Assert.True(ControlEvents.IsCausedBy(echo, "echo"));
        Assert.Single(feed, e => e.Kind == "automation.triggered");
    }
}
