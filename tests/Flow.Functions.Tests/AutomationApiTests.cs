using System.Net;
using Flow.Client;
using Flow.ControlPlane.Automations;
using Flow.Engine.Events;
using Flow.TestSupport;

namespace Flow.Functions.Tests;

/// <summary>/api/automations over real HTTP against Azurite, and the standalone evaluator acting on an event.</summary>
public sealed class AutomationApiTests(AzuriteFixture azurite)
{
    [Fact]
    public async Task PutAutomation_Invalid400NamesFields_Created201_Same200_EnableDisableDelete()
    {
        using var deadline = TestDeadline.Create(TimeSpan.FromSeconds(90));
        await using var app = await TestApp.StartAsync(azurite, deadline);

        var (bad, problem) = await app.SendAsync(HttpMethod.Put, "/api/automations/late", new
        {
            trigger = new { posture = "proactive", expect = new[] { "flow-run.Completed" } },
            actions = new object[] { new { type = "call-webhook", url = "not a url" }, new { type = "queue-message", queue = "Bad_Queue" } },
        }, deadline);
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Equal("application/problem+json", bad.Content.Headers.ContentType?.MediaType);
        Assert.Equal(["actions[0].url", "actions[1].queue", "trigger.within"], problem.GetProperty("errors").EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));

        using var client = app.NewClient();
        var request = new AutomationRequest
        {
            Description = "tell ops",
            Trigger = new AutomationTriggerView { Expect = ["flow-run.Failed"], ForEach = "deployment", Threshold = 2, Within = 600 },
            Actions = [new AutomationActionView { Type = "send-event", Kind = "ops.alert" }],
        };
        var (created, _) = await app.SendAsync(HttpMethod.Put, "/api/automations/ops", request, deadline);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var same = await client.PutAutomationAsync("ops", request, deadline.Token);
        Assert.Equal("api", same.Source);
        Assert.Equal(2, same.Trigger.Threshold);

        Assert.False((await client.SetAutomationEnabledAsync("ops", false, deadline.Token)).Enabled);
        Assert.True((await client.SetAutomationEnabledAsync("ops", true, deadline.Token)).Enabled);
        Assert.Equal(["ops"], (await client.ListAutomationsAsync(deadline.Token)).Select(a => a.Name));
        Assert.Empty(await client.ListAutomationFiringsAsync("ops", null, deadline.Token));
        var (badCount, _) = await app.SendAsync(HttpMethod.Get, "/api/automations/ops/firings?count=0", null, deadline);
        Assert.Equal(HttpStatusCode.BadRequest, badCount.StatusCode);

        await client.DeleteAutomationAsync("ops", deadline.Token);
        var (gone, _) = await app.SendAsync(HttpMethod.Get, "/api/automations/ops", null, deadline);
        Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);

        using var anonymous = new HttpClient { BaseAddress = app.BaseAddress };
        using var response = await anonymous.PutAsync("/api/automations/x", new StringContent("{}", System.Text.Encoding.UTF8, "application/json"), deadline.Token);
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task FailedRunEvent_StandaloneEvaluatorLoop_FiresAndRunsTheActionOnce_AndTheListCanCarryItAsTheLastFiring()
    {
        using var deadline = TestDeadline.Create(TimeSpan.FromSeconds(90));
        await using var app = await TestApp.StartAsync(azurite, deadline);
        using var client = app.NewClient();
        await client.PutAutomationAsync("alert", new AutomationRequest
        {
            Trigger = new AutomationTriggerView { Expect = ["flow-run.Failed"] },
            Actions = [new AutomationActionView { Type = "send-event", Kind = "ops.alert", Resource = "{{ event.resource.id }}" }],
        }, deadline.Token);
        await app.Service<AutomationEvaluator>().TickAsync(deadline.Token); // places the cursor at the feed's end (the loop may too: both are safe)

        var events = app.Service<IEventStore>();
        await events.AppendAsync([new FlowEvent
        {
            Id = "run-x.t3",
            Kind = "flow-run.Failed",
            OccurredAt = DateTimeOffset.UtcNow,
            Resource = new EventResource("flow-run/run-x", null, new Dictionary<string, string> { ["flow"] = "greet", ["state"] = "Failed" }),
        }], deadline.Token);
        IReadOnlyList<AutomationFiringView> firings;
        while ((firings = await client.ListAutomationFiringsAsync("alert", null, deadline.Token)) is [] or [{ Status: "pending" }])
        {
            await Task.Delay(25, deadline.Token); // the standalone loop polls the feed every 250 ms
        }

        var firing = Assert.Single(firings);
        Assert.Equal("succeeded", firing.Status);
        Assert.Equal(["run-x.t3"], firing.EventIds);
        var feed = await events.ReadFeedAsync(null, 100, deadline.Token);
        Assert.Contains(feed.Events, e => e.Kind == "ops.alert" && e.Resource.Id == "flow-run/run-x");

        // The dashboard's list asks for each automation's newest firing in the same request; the plain list leaves it out.
        var (withLast, listed) = await app.SendAsync(HttpMethod.Get, "/api/automations?lastFiring=true", null, deadline.Token);
        using (withLast)
        {
            var alert = Assert.Single(listed.EnumerateArray(), a => a.GetProperty("name").GetString() == "alert");
            Assert.Equal(firing.Id, alert.GetProperty("lastFiring").GetProperty("id").GetString());
            Assert.Equal("succeeded", alert.GetProperty("lastFiring").GetProperty("actions")[0].GetProperty("status").GetString());
        }

        Assert.All(await client.ListAutomationsAsync(deadline.Token), a => Assert.Null(a.LastFiring));
    }
}
