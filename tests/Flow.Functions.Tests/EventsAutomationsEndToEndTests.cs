using System.Net;
using System.Text;
using System.Text.Json;
using Flow.Client;
using Flow.ControlPlane.Secrets;
using Flow.Sdk;
using Flow.TestSupport;

namespace Flow.Functions.Tests;

/// <summary>
/// Issue 16's scenarios end to end in the app, with real runs (not hand-written events): a run that fails reaches a signed
/// webhook receiver through an automation, exactly once in effect; a signed incoming webhook starts a deployment through an
/// automation. On Azurite and on PostgreSQL.
/// </summary>
public abstract class EventsAutomationsEndToEndTests
{
    private const string HookSecret = "hook-secret-value";

    /// <summary>Starts the app on the backend under test.</summary>
    internal abstract Task<TestApp> StartAsync(Dictionary<string, string?> settings, TestDeadline deadline);

    private static void Flows(FlowRegistry registry)
    {
        TestFlows.Register(registry);
        registry.AddFlow<GreetInput, string>("explode", (_, input) => throw new InvalidOperationException($"{input.Name} exploded"));
    }

    [Fact]
    public async Task FailedRun_FiresASignedWebhookOnce_AndItsEventsAreListed()
    {
        using var deadline = TestDeadline.Create(TimeSpan.FromSeconds(120));
        await using var receiver = await WebhookReceiver.StartAsync(Encoding.UTF8.GetBytes(HookSecret), failFirst: 1, deadline.Token);
        await using var app = await StartAsync(new() { ["Flow:Secrets:ops"] = HookSecret }, deadline);
        using var client = app.NewClient();
        await client.PutAutomationAsync("explosions", new AutomationRequest
        {
            Trigger = new AutomationTriggerView { Expect = ["flow-run.Failed"], Match = new Dictionary<string, string> { ["flow"] = "explode" } },
            Actions =
            [
                new AutomationActionView
                {
                    Type = "call-webhook",
                    Url = receiver.Url,
                    Secret = "ops",
                    Body = JsonDocument.Parse("""{"run":"{{ event.resource.id }}","state":"{{ event.resource.labels.state }}"}""").RootElement.Clone(),
                },
            ],
        }, deadline.Token);
        var (put, _) = await app.SendAsync(HttpMethod.Put, "/api/deployments/explode/once", new { }, deadline);
        Assert.True(put.IsSuccessStatusCode, $"PUT deployment: {put.StatusCode}");

        var runId = (await client.TriggerRunAsync("explode/once", new TriggerRunRequest { Parameters = JsonSerializer.SerializeToElement(new { name = "boiler" }) }, deadline.Token)).Id;
        await deadline.PollUntilAsync(async ct => (await client.GetRunAsync(runId, ct)).State == RunState.Failed, "the run to fail");
        await deadline.PollUntilAsync(async ct => (await client.ListAutomationFiringsAsync("explosions", null, ct)) is [{ Status: "succeeded" }], "the firing to succeed");

        var (key, body) = Assert.Single(receiver.Applied);
        Assert.All(receiver.Deliveries, d => Assert.True(d.SignatureValid));
        Assert.Equal(2, receiver.Deliveries.Count); // a 503 first, retried once
        using (var sent = JsonDocument.Parse(body))
        {
            Assert.Equal($"flow-run/{runId}", sent.RootElement.GetProperty("run").GetString());
            Assert.Equal("Failed", sent.RootElement.GetProperty("state").GetString());
        }

        var firing = Assert.Single(await client.ListAutomationFiringsAsync("explosions", null, deadline.Token));
        Assert.Equal(firing.Id + ".a0", key);
        var events = await client.ListEventsAsync(new EventFilter { Resource = $"flow-run/{runId}", Kind = "flow-run." }, deadline.Token);
        Assert.Equal("flow-run.Failed", events.Events[0].Kind);

        // The firing and its action's outcome are events too, related to the run that triggered them.
        var automationEvents = await client.ListEventsAsync(new EventFilter { Resource = $"flow-run/{runId}", Kind = "automation." }, deadline.Token);
        Assert.Equal(["automation.action.succeeded", "automation.triggered"], automationEvents.Events.Select(e => e.Kind).Order(StringComparer.Ordinal));
        Assert.All(automationEvents.Events, e => Assert.Equal("automation/explosions", e.Resource.Id));
        Assert.Contains(events.Events, e => e.Kind == "flow-run.Running");
        Assert.Contains(firing.EventIds, id => events.Events.Any(e => e.Id == id && e.Kind == "flow-run.Failed"));
    }

    [Fact]
    public async Task SignedIncomingWebhook_StartsADeploymentThroughAnAutomation()
    {
        using var deadline = TestDeadline.Create(TimeSpan.FromSeconds(120));
        await using var app = await StartAsync(new()
        {
            ["Flow:Secrets:ci"] = "ci-secret",
            ["Flow:Webhooks:ci:Kind"] = "ci.build.{{ body.status }}",
            ["Flow:Webhooks:ci:Resource"] = "repo/{{ body.repo }}",
            ["Flow:Webhooks:ci:Secret"] = "ci",
        }, deadline);
        using var client = app.NewClient();
        var (put, _) = await app.SendAsync(HttpMethod.Put, "/api/deployments/greet/after-ci", new { }, deadline);
        Assert.True(put.IsSuccessStatusCode, $"PUT deployment: {put.StatusCode}");
        await client.PutAutomationAsync("deploy-on-green", new AutomationRequest
        {
            Trigger = new AutomationTriggerView { Expect = ["ci.build.succeeded"], Match = new Dictionary<string, string> { ["id"] = "repo/shop" } },
            Actions = [new AutomationActionView { Type = "run-deployment", Deployment = "greet/after-ci", Parameters = JsonDocument.Parse("""{"name":"{{ event.payload.commit }}"}""").RootElement.Clone() }],
        }, deadline.Token);

        const string payload = """{"status":"succeeded","repo":"shop","commit":"abc123"}""";
        using var anonymous = new HttpClient { BaseAddress = app.BaseAddress };
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/webhooks/ci") { Content = new StringContent(payload, Encoding.UTF8, "application/json") };
        request.Headers.Add(WebhookSignature.SignatureHeader, WebhookSignature.SignBody("ci-secret"u8, Encoding.UTF8.GetBytes(payload)));
        using var response = await anonymous.SendAsync(request, deadline.Token);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);

        RunView? run = null;
        await deadline.PollUntilAsync(async ct =>
        {
            run = (await client.ListRunsAsync(new RunFilter { Deployment = "greet/after-ci" }, ct)).Runs.SingleOrDefault();
            return run?.State == RunState.Completed;
        }, "the deployment's run to complete");
        Assert.Contains("abc123", (await client.GetRunAsync(run!.Id, deadline.Token)).Result?.ToString(), StringComparison.Ordinal);
    }

    /// <summary>On a private Azurite.</summary>
    public sealed class OnAzurite(AzuriteFixture azurite) : EventsAutomationsEndToEndTests
    {
        internal override Task<TestApp> StartAsync(Dictionary<string, string?> settings, TestDeadline deadline) =>
            TestApp.StartAsync(azurite, deadline, settings, Flows);
    }

    /// <summary>On PostgreSQL (the app's store, control store, queue and events there).</summary>
    public sealed class OnPostgres(AzuriteFixture azurite, PostgresFixture postgres) : EventsAutomationsEndToEndTests, IClassFixture<PostgresFixture>
    {
        internal override async Task<TestApp> StartAsync(Dictionary<string, string?> settings, TestDeadline deadline)
        {
            settings["Flow:Storage:Backend"] = "Postgres";
            settings["ConnectionStrings:Flow"] = await postgres.CreateDatabaseAsync("e2e", deadline.Token);
            return await TestApp.StartAsync(azurite, deadline, settings, Flows);
        }
    }
}
