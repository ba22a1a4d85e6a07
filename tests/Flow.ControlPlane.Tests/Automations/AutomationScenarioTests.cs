using System.Text;
using System.Text.Json;
using Flow.ControlPlane.Automations;
using Flow.TestSupport;

namespace Flow.ControlPlane.Tests.Automations;

/// <summary>Automations end to end on the in-memory stores with a fake clock and, for webhooks, a real HTTP receiver.</summary>
public sealed class AutomationScenarioTests
{
    private static readonly DateTimeOffset T0 = new(2026, 6, 1, 8, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task FailedRun_CallsSignedWebhook_RetriedAfter503_OneEffectEvenWhenTheDispatcherRunsAgain()
    {
        using var deadline = TestDeadline.Create(TimeSpan.FromSeconds(60));
        await using var receiver = await WebhookReceiver.StartAsync(Encoding.UTF8.GetBytes("s3cret"), failFirst: 1, deadline.Token);
        await using var harness = new ControlPlaneHarness(T0, settings: new Dictionary<string, string?> { ["Flow:Secrets:slack"] = "s3cret" });
        await harness.InitializeAsync(deadline.Token);
        await harness.Automations.ApplyAsync("failures-to-slack", new AutomationSpec
        {
            Trigger = new AutomationTrigger { Expect = ["flow-run.Failed", "flow-run.Crashed"], Match = new Dictionary<string, string> { ["deployment"] = "etl/*" } },
            Actions =
            [
                new AutomationAction
                {
                    Type = AutomationActionTypes.CallWebhook,
                    Url = receiver.Url,
                    Secret = "slack",
                    Body = Json("""{"text":"Run {{ event.resource.id }} of {{ event.resource.labels.deployment }} failed","run":"{{ event.resource.id }}"}"""),
                },
            ],
        }, "test", deadline.Token);
        await harness.Evaluator.TickAsync(deadline.Token); // the evaluator's cursor starts at the end of the feed

        await harness.Events.AppendAsync([RunEvents.State("run-1", 4, "Failed", T0.AddSeconds(5)), RunEvents.State("run-2", 2, "Completed", T0.AddSeconds(5))], deadline.Token);
        harness.Clock.Advance(TimeSpan.FromSeconds(6));
        var first = await harness.Evaluator.TickAsync(deadline.Token);
        harness.Clock.Advance(TimeSpan.FromSeconds(3)); // past the 2 s back-off
        await harness.Evaluator.TickAsync(deadline.Token);

        Assert.Equal(1, first.Fired);
        var firing = Assert.Single(await harness.Automations.ListFiringsAsync("failures-to-slack", 10, deadline.Token));
        Assert.Equal(AutomationFiring.Succeeded, firing.Status);
        Assert.Equal(["run-1.t4"], firing.EventIds);
        var action = Assert.Single(firing.Actions);
        Assert.Equal([503, 200], action.Attempts.Select(a => a.StatusCode));
        Assert.Equal(firing.Id + ".a0", action.IdempotencyKey);

        // The dispatcher dies after the delivery but before recording it: the firing is still pending when another dispatcher runs.
        var stored = await harness.Control.GetFiringAsync("failures-to-slack", firing.Id, deadline.Token);
        await harness.Control.PutFiringAsync(stored!.Record with { Status = AutomationFiring.Pending, Actions = [action with { Status = AutomationFiring.Pending, NextAttemptAt = null }] }, stored.Version, deadline.Token);
        var automation = await harness.Automations.GetAsync("failures-to-slack", deadline.Token);
        var (finished, _) = await harness.Dispatcher.DispatchAsync(automation, firing.Id, deadline.Token);

        Assert.True(finished);
        Assert.All(receiver.Deliveries, d => Assert.True(d.SignatureValid));
        Assert.Equal(3, receiver.Deliveries.Count); // 503, 200, and the repeat: delivered at least once...
        var (key, body) = Assert.Single(receiver.Applied); // ...with its effect once
        Assert.Equal(action.IdempotencyKey, key);
        using var sent = JsonDocument.Parse(body);
        Assert.Equal("Run flow-run/run-1 of etl/daily failed", sent.RootElement.GetProperty("text").GetString());
    }

    [Fact]
    public async Task FailedRun_RunDeploymentAction_CreatesOneRun_WhenEventsAreReadAgainAndTheDispatcherRunsAgain()
    {
        using var deadline = TestDeadline.Create(TimeSpan.FromSeconds(30));
        await using var harness = new ControlPlaneHarness(T0);
        await harness.InitializeAsync(deadline.Token);
        await harness.Deployments.ApplyAsync(new DeploymentSpec { Flow = "report", Name = "recover" }, "test", deadline.Token);
        await harness.Automations.ApplyAsync("recover", new AutomationSpec
        {
            Trigger = new AutomationTrigger { Expect = ["flow-run.Failed"], MatchRelated = [new RelatedMatch { Role = "tag", Id = "tag/prod" }] },
            Actions = [new AutomationAction { Type = AutomationActionTypes.RunDeployment, Deployment = "report/recover", Parameters = Json("""{"region":"{{ event.resource.labels.flow }}"}""") }],
        }, "test", deadline.Token);
        await harness.Evaluator.TickAsync(deadline.Token);

        await harness.Events.AppendAsync([RunEvents.State("run-1", 4, "Failed", T0.AddSeconds(1), "etl/daily", "prod"), RunEvents.State("run-9", 4, "Failed", T0.AddSeconds(1), "etl/daily", "dev")], deadline.Token);
        harness.Clock.Advance(TimeSpan.FromSeconds(2));
        await harness.Evaluator.TickAsync(deadline.Token);
        // The cursor goes back to the start of the feed and the automation's state is lost: the same event is evaluated again.
        await harness.Control.PutStateAsync(AutomationEvaluator.CursorKey, "0", null, deadline.Token);
        await harness.Control.PutStateAsync("automation:recover", "{}", null, deadline.Token);
        await harness.Evaluator.TickAsync(deadline.Token);
        var firing = Assert.Single(await harness.Automations.ListFiringsAsync("recover", 10, deadline.Token));
        var stored = await harness.Control.GetFiringAsync("recover", firing.Id, deadline.Token);
        await harness.Control.PutFiringAsync(stored!.Record with { Status = AutomationFiring.Pending, Actions = [firing.Actions[0] with { Status = AutomationFiring.Pending }] }, stored.Version, deadline.Token);
        await harness.Dispatcher.DispatchAsync(await harness.Automations.GetAsync("recover", deadline.Token), firing.Id, deadline.Token);

        var run = Assert.Single(await harness.RunsAsync("report/recover", deadline.Token));
        Assert.Equal(run.RunId, firing.Actions[0].Result);
        Assert.Contains("\"etl\"", run.Parameters, StringComparison.Ordinal);
    }

    [Fact]
    public async Task NotCompletedWithin30Minutes_FiresOnceAfterTheDeadline_WhenNoCompletionArrives()
    {
        using var deadline = TestDeadline.Create(TimeSpan.FromSeconds(30));
        await using var harness = await ProactiveAsync(deadline.Token);
        await harness.Events.AppendAsync([RunEvents.State("run-1", 2, "Running", T0.AddMinutes(1))], deadline.Token);

        harness.Clock.SetUtcNow(T0.AddMinutes(30));
        var early = await harness.Evaluator.TickAsync(deadline.Token);
        harness.Clock.SetUtcNow(T0.AddMinutes(31).AddSeconds(3)); // deadline 08:31 + 2 s grace
        var due = await harness.Evaluator.TickAsync(deadline.Token);
        harness.Clock.SetUtcNow(T0.AddHours(2));
        var later = await harness.Evaluator.TickAsync(deadline.Token);

        Assert.Equal((0, 1, 0), (early.Fired, due.Fired, later.Fired));
        var firing = Assert.Single(await harness.Automations.ListFiringsAsync("etl-late", 10, deadline.Token));
        Assert.Equal(["run-1.t2"], firing.EventIds);
        Assert.Equal("flow-run/run-1", firing.Key);
        var alert = Assert.Single((await harness.Events.ReadFeedAsync(null, 100, deadline.Token)).Events, e => e.Kind == "etl.late");
        Assert.Equal("flow-run/run-1", alert.Resource.Id);
    }

    [Fact]
    public async Task NotCompletedWithin30Minutes_DoesNotFire_WhenTheRunCompletesInTime()
    {
        using var deadline = TestDeadline.Create(TimeSpan.FromSeconds(30));
        await using var harness = await ProactiveAsync(deadline.Token);
        await harness.Events.AppendAsync([RunEvents.State("run-1", 2, "Running", T0.AddMinutes(1))], deadline.Token);
        harness.Clock.SetUtcNow(T0.AddMinutes(10));
        await harness.Evaluator.TickAsync(deadline.Token);

        await harness.Events.AppendAsync([RunEvents.State("run-1", 3, "Completed", T0.AddMinutes(29))], deadline.Token);
        harness.Clock.SetUtcNow(T0.AddMinutes(29));
        await harness.Evaluator.TickAsync(deadline.Token);
        harness.Clock.SetUtcNow(T0.AddHours(3));
        await harness.Evaluator.TickAsync(deadline.Token);

        Assert.Empty(await harness.Automations.ListFiringsAsync("etl-late", 10, deadline.Token));
    }

    [Fact]
    public async Task NoCompletionIn26Hours_FiresOncePerMissedWindow_FromEnablingOrTheLastCompletion()
    {
        using var deadline = TestDeadline.Create(TimeSpan.FromSeconds(30));
        await using var harness = new ControlPlaneHarness(T0);
        await harness.InitializeAsync(deadline.Token);
        await harness.Automations.ApplyAsync("etl-silent", new AutomationSpec
        {
            Trigger = new AutomationTrigger { Posture = AutomationTrigger.Proactive, Expect = ["flow-run.Completed"], Match = new Dictionary<string, string> { ["flow"] = "etl" }, Within = 26 * 3600 },
            Actions = [new AutomationAction { Type = AutomationActionTypes.SendEvent, Kind = "etl.silent" }],
        }, "test", deadline.Token);
        await harness.Evaluator.TickAsync(deadline.Token);

        harness.Clock.SetUtcNow(T0.AddHours(25));
        await harness.Events.AppendAsync([RunEvents.State("run-1", 3, "Completed", T0.AddHours(25))], deadline.Token);
        await harness.Evaluator.TickAsync(deadline.Token);
        harness.Clock.SetUtcNow(T0.AddHours(27)); // 26 h after enabling, but only 2 h after the completion
        var quiet = await harness.Evaluator.TickAsync(deadline.Token);
        harness.Clock.SetUtcNow(T0.AddHours(51).AddMinutes(1)); // 26 h after the completion
        var missed = await harness.Evaluator.TickAsync(deadline.Token);
        harness.Clock.SetUtcNow(T0.AddHours(60));
        var same = await harness.Evaluator.TickAsync(deadline.Token);
        harness.Clock.SetUtcNow(T0.AddHours(77).AddMinutes(1)); // another 26 h without a completion
        var again = await harness.Evaluator.TickAsync(deadline.Token);

        Assert.Equal((0, 1, 0, 1), (quiet.Fired, missed.Fired, same.Fired, again.Fired));
    }

    [Fact]
    public async Task Threshold_CountsPerForEachValueWithinTheWindow()
    {
        using var deadline = TestDeadline.Create(TimeSpan.FromSeconds(30));
        await using var harness = new ControlPlaneHarness(T0);
        await harness.InitializeAsync(deadline.Token);
        await harness.Automations.ApplyAsync("flapping", new AutomationSpec
        {
            Trigger = new AutomationTrigger { Expect = ["flow-run.Failed"], ForEach = "deployment", Threshold = 3, Within = 60 },
            Actions = [new AutomationAction { Type = AutomationActionTypes.PauseDeployment, Deployment = "{{ event.resource.labels.deployment }}" }],
        }, "test", deadline.Token);
        await harness.Deployments.ApplyAsync(new DeploymentSpec { Flow = "report", Name = "a" }, "test", deadline.Token);
        await harness.Deployments.ApplyAsync(new DeploymentSpec { Flow = "report", Name = "b" }, "test", deadline.Token);
        await harness.Evaluator.TickAsync(deadline.Token);

        await harness.Events.AppendAsync(
        [
            RunEvents.State("a1", 3, "Failed", T0.AddSeconds(1), "report/a"),
            RunEvents.State("b1", 3, "Failed", T0.AddSeconds(2), "report/b"),
            RunEvents.State("a2", 3, "Failed", T0.AddSeconds(20), "report/a"),
            RunEvents.State("b2", 3, "Failed", T0.AddSeconds(90), "report/b"), // b's first has left the window
            RunEvents.State("b3", 3, "Failed", T0.AddSeconds(100), "report/b"),
            RunEvents.State("a3", 3, "Failed", T0.AddSeconds(50), "report/a"),
        ], deadline.Token);
        harness.Clock.SetUtcNow(T0.AddSeconds(110));
        var result = await harness.Evaluator.TickAsync(deadline.Token);

        Assert.Equal(1, result.Fired);
        var firing = Assert.Single(await harness.Automations.ListFiringsAsync("flapping", 10, deadline.Token));
        Assert.Equal("report/a", firing.Key);
        Assert.Equal(AutomationFiring.Succeeded, firing.Status);
        Assert.True((await harness.Deployments.GetAsync("report/a", deadline.Token)).Paused);
        Assert.False((await harness.Deployments.GetAsync("report/b", deadline.Token)).Paused);
    }

    [Fact]
    public async Task TwoEvaluatorsOnTheSameStores_EvaluatingAtTheSameTime_FireEachCauseOnce()
    {
        using var deadline = TestDeadline.Create(TimeSpan.FromSeconds(60));
        var events = new Flow.Engine.Events.InMemoryEventStore();
        var control = new InMemoryControlStore(events);
        await using var one = new ControlPlaneHarness(T0, controlStore: control, events: events);
        await using var two = new ControlPlaneHarness(T0, controlStore: control, events: events);
        await one.InitializeAsync(deadline.Token);
        await one.Automations.ApplyAsync("alert", new AutomationSpec
        {
            Trigger = new AutomationTrigger { Expect = ["flow-run.Failed"] },
            Actions = [new AutomationAction { Type = AutomationActionTypes.SendEvent, Kind = "alert.sent", Resource = "{{ event.resource.id }}" }],
        }, "test", deadline.Token);
        await one.Evaluator.TickAsync(deadline.Token);

        for (var round = 0; round < 20; round++)
        {
            await events.AppendAsync([RunEvents.State($"run-{round}", 3, "Failed", T0.AddSeconds(round + 1))], deadline.Token);
            one.Clock.SetUtcNow(T0.AddSeconds(round + 2));
            two.Clock.SetUtcNow(T0.AddSeconds(round + 2));
            await Task.WhenAll(Task.Run(() => one.Evaluator.TickAsync(deadline.Token)), Task.Run(() => two.Evaluator.TickAsync(deadline.Token)));
        }

        await one.Evaluator.TickAsync(deadline.Token); // settles what a lost state write left pending

        var firings = await one.Automations.ListFiringsAsync("alert", 100, deadline.Token);
        Assert.Equal(20, firings.Count);
        Assert.Equal(20, firings.Select(f => f.EventIds.Single()).Distinct().Count());
        var alerts = (await events.ReadFeedAsync(null, 1000, deadline.Token)).Events.Where(e => e.Kind == "alert.sent").ToList();
        Assert.Equal(20, alerts.Count);
        Assert.Equal(20, alerts.Select(a => a.Resource.Id).Distinct().Count());
    }

    private static async Task<ControlPlaneHarness> ProactiveAsync(CancellationToken cancellationToken)
    {
        var harness = new ControlPlaneHarness(T0);
        await harness.InitializeAsync(cancellationToken);
        await harness.Automations.ApplyAsync("etl-late", new AutomationSpec
        {
            Trigger = new AutomationTrigger
            {
                Posture = AutomationTrigger.Proactive,
                After = ["flow-run.Running"],
                Expect = ["flow-run.Completed"],
                Match = new Dictionary<string, string> { ["deployment"] = "etl/daily" },
                ForEach = "id",
                Within = 1800,
            },
            Actions = [new AutomationAction { Type = AutomationActionTypes.SendEvent, Kind = "etl.late", Resource = "{{ event.resource.id }}" }],
        }, "test", cancellationToken);
        await harness.Evaluator.TickAsync(cancellationToken);
        return harness;
    }

    private static JsonElement Json(string text) => JsonDocument.Parse(text).RootElement.Clone();
}
