using System.Net;
using Flow.Client;
using Flow.TestSupport;

namespace Flow.Functions.Tests;

/// <summary><c>GET /api/runs</c> with <c>state=Late</c> and <c>tag</c> filters over real HTTP, through the API and the typed client.</summary>
public sealed class RunFilterApiTests(AzuriteFixture azurite)
{
    [Fact]
    public async Task ListRuns_LateAndTagFilters_ListOnlyMatchingRunsAndAgreeWithTheStateName()
    {
        using var deadline = TestDeadline.Create(TimeSpan.FromSeconds(90));
        // No grace, and a paused pool: triggered runs stay Pending, never started, and are Late at once.
        await using var app = await TestApp.StartAsync(azurite, deadline, new() { ["Flow:ControlPlane:LateAfter"] = "00:00:00" });
        using var api = app.NewClient();
        await app.SendAsync(HttpMethod.Put, "/api/work-pools/default", new { }, deadline);
        await app.SendAsync(HttpMethod.Post, "/api/work-pools/default/pause", null, deadline);
        await app.SendAsync(HttpMethod.Put, "/api/deployments/greet/a", new { parameters = new { name = "A" }, tags = new { team = "data" } }, deadline);
        var a1 = (await api.TriggerRunAsync("greet/a", new TriggerRunRequest(), deadline)).Id;
        var a2 = (await api.TriggerRunAsync("greet/a", new TriggerRunRequest(), deadline)).Id;
        var b = (await api.TriggerRunAsync("greet/a", new TriggerRunRequest { Tags = new Dictionary<string, string> { ["team"] = "ml", ["env"] = "prod" } }, deadline)).Id;
        var future = (await api.TriggerRunAsync("greet/a", new TriggerRunRequest { ScheduledTime = DateTimeOffset.UtcNow.AddHours(1) }, deadline)).Id;

        async Task<string[]> IdsAsync(string query)
        {
            var (response, page) = await app.SendAsync(HttpMethod.Get, "/api/runs?" + query, null, deadline);
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"{query}: {page}");
            var runs = page.GetProperty("runs").EnumerateArray().ToList();
            if (query.Contains("state=Late", StringComparison.Ordinal))
            {
                Assert.All(runs, r => Assert.Equal("Late", r.GetProperty("stateName").GetString()));
            }

            return [.. runs.Select(r => r.GetProperty("id").GetString()!)];
        }

        Assert.Equal([b, a2, a1], await IdsAsync("state=Late"));
        Assert.Equal([b, a2, a1], await IdsAsync("state=late&deployment=greet/a"));
        Assert.Equal([a2, a1], await IdsAsync("state=Late&tag=team=data"));
        Assert.Equal([b], await IdsAsync("tag=team&tag=env=prod"));
        Assert.Equal([future, b, a2, a1], await IdsAsync("tag=team"));
        Assert.Empty(await IdsAsync("tag=team=Data"));
        var scheduled = await IdsAsync("state=Scheduled");
        Assert.Equal([future], scheduled);

        var late = await api.ListRunsAsync(new RunFilter { Late = true, Tags = ["team=ml"] }, deadline);
        Assert.Equal([b], late.Runs.Select(r => r.Id));
        Assert.Equal("Late", late.Runs[0].StateName);
        var paged = await api.ListRunsAsync(new RunFilter { Late = true, PageSize = 2 }, deadline);
        var rest = await api.ListRunsAsync(new RunFilter { Late = true, PageSize = 2, ContinuationToken = paged.ContinuationToken }, deadline);
        Assert.Equal([b, a2, a1], paged.Runs.Concat(rest.Runs).Select(r => r.Id));
        Assert.Null(rest.ContinuationToken);

        var (_, stats) = await app.SendAsync(HttpMethod.Get, "/api/runs/stats", null, deadline);
        Assert.Equal(3, stats.GetProperty("totals").GetProperty("Late").GetInt32());
        Assert.Equal(1, stats.GetProperty("totals").GetProperty("Scheduled").GetInt32());
    }

    public static TheoryData<string> BadTagQueries => new()
    {
        "tag=",
        "tag==data",
        "tag=team&tag=",
        "tag=" + Uri.EscapeDataString("te\u0001am"),
        "tag=" + new string('k', 101),
        "tag=team=" + new string('v', 1001),
        string.Join('&', Enumerable.Range(0, 11).Select(i => $"tag=k{i}")),
    };

    [Theory]
    [MemberData(nameof(BadTagQueries))]
    public async Task ListRuns_BadTag_Returns400NamingTheTagField(string query)
    {
        using var deadline = TestDeadline.Create(TimeSpan.FromSeconds(60));
        await using var app = await TestApp.StartAsync(azurite, deadline);

        var (response, problem) = await app.SendAsync(HttpMethod.Get, "/api/runs?" + query, null, deadline);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.True(problem.GetProperty("errors").TryGetProperty("tag", out var errors), problem.ToString());
        Assert.NotEmpty(errors.EnumerateArray());
    }

    [Fact]
    public async Task ListRuns_LateWithATokenOfAnotherList_Returns400NamingTheToken()
    {
        using var deadline = TestDeadline.Create(TimeSpan.FromSeconds(60));
        await using var app = await TestApp.StartAsync(azurite, deadline);
        await app.SendAsync(HttpMethod.Put, "/api/deployments/greet/a", new { parameters = new { name = "A" } }, deadline);
        using var api = app.NewClient();
        await api.TriggerRunAsync("greet/a", new TriggerRunRequest(), deadline);
        await api.TriggerRunAsync("greet/a", new TriggerRunRequest(), deadline);
        var byCreation = await api.ListRunsAsync(new RunFilter { PageSize = 1 }, deadline);

        var (response, problem) = await app.SendAsync(HttpMethod.Get, "/api/runs?state=Late&continuationToken=" + Uri.EscapeDataString(byCreation.ContinuationToken!), null, deadline);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.True(problem.GetProperty("errors").TryGetProperty("continuationToken", out _), problem.ToString());
        Assert.Throws<ArgumentException>(() => { _ = api.ListRunsAsync(new RunFilter { Late = true, State = Flow.Sdk.RunState.Pending }, deadline); });
    }
}
