using System.Net;
using Flow.Client;
using Flow.TestSupport;

namespace Flow.Functions.Tests;

/// <summary>GET and POST /api/events over real HTTP, on Azurite: run events through the outbox and its relay, external events, bad input.</summary>
public sealed class EventApiTests(AzuriteFixture azurite)
{
    [Fact]
    public async Task ListEvents_CompletedRun_ShowsEachStateChangeNewestFirst()
    {
        using var deadline = TestDeadline.Create(TimeSpan.FromSeconds(60));
        await using var app = await TestApp.StartAsync(azurite, deadline);
        using var api = app.NewClient();
        await app.SendAsync(HttpMethod.Put, "/api/deployments/greet/hello", new { parameters = new { name = "Ada" } }, deadline);
        var id = (await api.TriggerRunAsync("greet/hello", null, deadline)).Id;
        await app.WaitForRunAsync(id, r => r.GetProperty("state").GetString() == "Completed", deadline, "the run to complete");

        // The relay after the commit delivers the events within moments.
        EventPageView page = null!;
        await deadline.PollUntilAsync(async ct =>
        {
            page = await api.ListEventsAsync(new EventFilter { Resource = "flow-run/" + id }, ct);
            return page.Events.Count == 3;
        }, "the run's three events");

        Assert.Equal(["flow-run.Completed", "flow-run.Running", "flow-run.Pending"], page.Events.Select(e => e.Kind));
        Assert.Equal([id + ".t3", id + ".t2", id + ".t1"], page.Events.Select(e => e.Id));
        Assert.Equal("greet/hello", page.Events[0].Resource.Labels!["deployment"]);
        Assert.Contains(page.Events[0].Related, r => r.Id == "deployment/greet/hello" && r.Role == "deployment");
        Assert.Equal("Running", page.Events[0].Payload!.Value.GetProperty("previousState").GetString());

        var byDeployment = await api.ListEventsAsync(new EventFilter { Resource = "deployment/greet/hello", Kind = "flow-run.Comp" }, deadline);
        Assert.Equal(id + ".t3", Assert.Single(byDeployment.Events).Id);
    }

    [Fact]
    public async Task PauseDeployment_ThroughTheApi_DeploymentPausedEventIsListed()
    {
        using var deadline = TestDeadline.Create(TimeSpan.FromSeconds(60));
        await using var app = await TestApp.StartAsync(azurite, deadline);
        using var api = app.NewClient();
        await app.SendAsync(HttpMethod.Put, "/api/deployments/greet/hello", new { parameters = new { name = "Ada" }, version = "1" }, deadline);
        var (paused, _) = await app.SendAsync(HttpMethod.Post, "/api/deployments/greet/hello/pause", null, deadline);
        Assert.True(paused.IsSuccessStatusCode, paused.StatusCode.ToString());

        // The control store writes the event with the change and relays it before answering.
        var page = await api.ListEventsAsync(new EventFilter { Kind = "deployment" }, deadline);
        Assert.Equal(["deployment.paused", "deployment.created"], page.Events.Select(e => e.Kind));
        var pausedEvent = page.Events[0];
        Assert.Equal("deployment/greet/hello", pausedEvent.Resource.Id);
        Assert.Equal("greet/hello", pausedEvent.Resource.Labels!["deployment"]);
        Assert.True(pausedEvent.Payload!.Value.GetProperty("paused").GetBoolean());
        Assert.Equal("1", pausedEvent.Payload!.Value.GetProperty("version").GetString());
        Assert.False(pausedEvent.Payload!.Value.TryGetProperty("parameters", out _));

        // Pausing again changes nothing and writes no event.
        await app.SendAsync(HttpMethod.Post, "/api/deployments/greet/hello/pause", null, deadline);
        Assert.Equal(2, (await api.ListEventsAsync(new EventFilter { Kind = "deployment." }, deadline)).Events.Count);
    }

    [Fact]
    public async Task EmitEvents_OneOrAList_AreStoredOncePerIdAndListed()
    {
        using var deadline = TestDeadline.Create(TimeSpan.FromSeconds(60));
        await using var app = await TestApp.StartAsync(azurite, deadline);
        using var api = app.NewClient();
        var (single, body) = await app.SendAsync(HttpMethod.Post, "/api/events", new { kind = "ci.build.passed", resource = new { id = "repo/flow" }, payload = new { commit = "abc" } }, deadline);
        Assert.Equal(HttpStatusCode.Accepted, single.StatusCode);
        var generated = Assert.Single(body.GetProperty("ids").EnumerateArray()).GetString();
        Assert.False(string.IsNullOrEmpty(generated));

        var sent = new[]
        {
            new EmitEventRequest { Id = "deploy-42", Kind = "deploy.finished", Resource = new EventResourceView { Id = "repo/flow" }, OccurredAt = DateTimeOffset.UtcNow.AddMinutes(-1) },
            new EmitEventRequest { Id = "deploy-42", Kind = "deploy.finished", Resource = new EventResourceView { Id = "repo/other" } },
        };
        var result = await api.EmitEventsAsync(sent, deadline);
        Assert.Equal(["deploy-42", "deploy-42"], result.Ids);

        var page = await api.ListEventsAsync(new EventFilter { Resource = "repo/flow" }, deadline);
        Assert.Equal([generated, "deploy-42"], page.Events.Select(e => e.Id));
        Assert.Equal("abc", page.Events[0].Payload!.Value.GetProperty("commit").GetString());
        Assert.Empty((await api.ListEventsAsync(new EventFilter { Resource = "repo/other" }, deadline)).Events);
    }

    [Theory]
    [InlineData("{\"resource\":{\"id\":\"r\"}}", "event.kind")]
    [InlineData("{\"kind\":\"x.y\"}", "event.resource")]
    [InlineData("{\"kind\":\"x.y\",\"resource\":{\"id\":\"r\"},\"occurredAt\":\"soon\"}", "occurredAt")]
    [InlineData("{\"kind\":\"x.y\",\"resource\":{\"id\":\"\"}}", "event.resource.id")]
    [InlineData("[{\"kind\":\"x.y\",\"resource\":{\"id\":\"r\"}},{\"kind\":\"x.y\",\"resource\":{\"id\":\"r\"},\"payload\":[1]}]", "[1].payload")]
    [InlineData("{\"kind\":\"flow-run.Completed\",\"resource\":{\"id\":\"r\"}}", "event.kind")]
    [InlineData("{\"kind\":\"x.y\",\"resource\":{\"id\":\"r\"},\"related\":[{\"id\":\"t\"}]}", "event.related[0].role")]
    [InlineData("{\"kind\":\"deployment.paused\",\"resource\":{\"id\":\"deployment/etl/daily\"}}", "event.kind")]
    [InlineData("{\"kind\":\"automation.triggered\",\"resource\":{\"id\":\"automation/a\"}}", "event.kind")]
    [InlineData("[]", "(body)")]
    public async Task EmitEvents_BadInput_Is400NamingTheField(string json, string field)
    {
        using var deadline = TestDeadline.Create(TimeSpan.FromSeconds(60));
        await using var app = await TestApp.StartAsync(azurite, deadline);
        var (response, body) = await app.SendAsync(HttpMethod.Post, "/api/events", null, deadline, rawBody: json);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.True(body.GetProperty("errors").TryGetProperty(field, out _), body.ToString());
        Assert.Empty((await app.NewClient().ListEventsAsync(new EventFilter { Kind = "x." }, deadline)).Events);
    }

    [Theory]
    [InlineData("pageSize=0", "pageSize")]
    [InlineData("since=yesterday", "since")]
    [InlineData("until=2026-13-40", "until")]
    [InlineData("continuationToken=nope", "continuationToken")]
    public async Task ListEvents_BadQuery_Is400NamingTheField(string query, string field)
    {
        using var deadline = TestDeadline.Create(TimeSpan.FromSeconds(60));
        await using var app = await TestApp.StartAsync(azurite, deadline);
        var (response, body) = await app.SendAsync(HttpMethod.Get, "/api/events?" + query, null, deadline);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.True(body.GetProperty("errors").TryGetProperty(field, out _), body.ToString());
    }

    [Fact]
    public async Task EmitEvents_WithoutApiKey_Is401()
    {
        using var deadline = TestDeadline.Create(TimeSpan.FromSeconds(60));
        await using var app = await TestApp.StartAsync(azurite, deadline);
        using var anonymous = new HttpClient { BaseAddress = app.BaseAddress };
        using var response = await anonymous.PostAsync("/api/events", new StringContent("{\"kind\":\"x.y\",\"resource\":{\"id\":\"r\"}}", System.Text.Encoding.UTF8, "application/json"), deadline.Token);
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }
}
