using System.Net;
using System.Text.Json;
using Flow.Client;
using Flow.TestSupport;

namespace Flow.Functions.Tests;

/// <summary>The purge API over real HTTP (Azurite): <c>DELETE /api/runs/{id}</c> and <c>DELETE /api/runs?finishedBefore=</c>.</summary>
public sealed class RunPurgeApiTests(AzuriteFixture azurite)
{
    [Fact]
    public async Task DeleteRun_FinishedIs204AndGone_LiveIs409_UnknownIs404_BadIdIs400_NoKeyIs401()
    {
        using var deadline = TestDeadline.Create(TimeSpan.FromSeconds(90));
        await using var app = await TestApp.StartAsync(azurite, deadline);
        var done = await CompletedRunAsync(app, deadline);
        var live = await WaitingRunAsync(app, deadline);

        using var anonymous = new HttpClient { BaseAddress = app.BaseAddress };
        using (var refused = await anonymous.DeleteAsync($"/api/runs/{done}", deadline.Token))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        }

        var (conflict, problem) = await app.SendAsync(HttpMethod.Delete, $"/api/runs/{live}", null, deadline);
        Assert.Equal(HttpStatusCode.Conflict, conflict.StatusCode);
        Assert.Equal("application/problem+json", conflict.Content.Headers.ContentType?.MediaType);
        Assert.Contains("not finished", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);

        var (deleted, _) = await app.SendAsync(HttpMethod.Delete, $"/api/runs/{done}", null, deadline);
        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        var (gone, _) = await app.SendAsync(HttpMethod.Get, $"/api/runs/{done}", null, deadline);
        Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
        var (again, _) = await app.SendAsync(HttpMethod.Delete, $"/api/runs/{done}", null, deadline);
        Assert.Equal(HttpStatusCode.NotFound, again.StatusCode);
        Assert.Equal("application/problem+json", again.Content.Headers.ContentType?.MediaType);

        var (bad, badBody) = await app.SendAsync(HttpMethod.Delete, "/api/runs/not%20an%20id", null, deadline);
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.True(badBody.GetProperty("errors").TryGetProperty("id", out _));

        var (stillThere, run) = await app.SendAsync(HttpMethod.Get, $"/api/runs/{live}", null, deadline);
        Assert.Equal(HttpStatusCode.OK, stillThere.StatusCode);
        Assert.NotEqual("Completed", run.GetProperty("state").GetString());
    }

    [Fact]
    public async Task PurgeRuns_FinishedBefore_DeletesOnlyFinishedRunsInBoundedCalls_AndReportsHowMany()
    {
        using var deadline = TestDeadline.Create(TimeSpan.FromSeconds(120));
        await using var app = await TestApp.StartAsync(azurite, deadline);
        using var api = app.NewClient();
        var done = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            done.Add(await CompletedRunAsync(app, deadline));
        }

        var live = await WaitingRunAsync(app, deadline);
        var cutoff = DateTimeOffset.UtcNow.AddMinutes(1);

        var first = await api.PurgeRunsAsync(cutoff, 2, deadline);
        Assert.Equal((2, true), (first.Deleted, first.More));
        var (response, second) = await app.SendAsync(HttpMethod.Delete, "/api/runs?finishedBefore=" + Uri.EscapeDataString(cutoff.ToString("O")) + "&limit=2", null, deadline);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(1, second.GetProperty("deleted").GetInt32());
        Assert.False(second.GetProperty("more").GetBoolean());

        foreach (var id in done)
        {
            var (gone, _) = await app.SendAsync(HttpMethod.Get, $"/api/runs/{id}", null, deadline);
            Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
        }

        Assert.Equal(live, (await api.GetRunAsync(live, deadline)).Id);
        var purgeAgain = await api.PurgeRunsAsync(cutoff, null, deadline);
        Assert.Equal((0, false), (purgeAgain.Deleted, purgeAgain.More));
    }

    [Theory]
    [InlineData("", "finishedBefore")]
    [InlineData("?finishedBefore=yesterday", "finishedBefore")]
    [InlineData("?finishedBefore=2026-01-01T00:00:00Z&limit=0", "limit")]
    [InlineData("?finishedBefore=2026-01-01T00:00:00Z&limit=1001", "limit")]
    [InlineData("?finishedBefore=2026-01-01T00:00:00Z&limit=ten", "limit")]
    [InlineData("?finishedBefore=2026-01-01T00:00:00Z&state=Completed", "state")]
    [InlineData("?finishedBefore=2026-01-01T00:00:00Z&finishedBefore=2026-02-01T00:00:00Z", "finishedBefore")]
    public async Task PurgeRuns_BadInput_Is400NamingTheField(string query, string field)
    {
        using var deadline = TestDeadline.Create(TimeSpan.FromSeconds(60));
        await using var app = await TestApp.StartAsync(azurite, deadline);

        var (response, problem) = await app.SendAsync(HttpMethod.Delete, "/api/runs" + query, null, deadline);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.True(problem.GetProperty("errors").TryGetProperty(field, out _), problem.ToString());
    }

    private static async Task<string> CompletedRunAsync(TestApp app, TestDeadline deadline)
    {
        await app.SendAsync(HttpMethod.Put, "/api/deployments/greet/purge", new { parameters = new { name = "Ada" } }, deadline);
        using var api = app.NewClient();
        var id = (await api.TriggerRunAsync("greet/purge", new TriggerRunRequest { Parameters = JsonSerializer.SerializeToElement(new { excitement = 1 }) }, deadline)).Id;
        await app.WaitForRunAsync(id, r => r.GetProperty("state").GetString() == "Completed", deadline, "the run to complete");
        return id;
    }

    private static async Task<string> WaitingRunAsync(TestApp app, TestDeadline deadline)
    {
        await app.SendAsync(HttpMethod.Put, "/api/deployments/wait-for-approval/purge", new { parameters = new { name = "x" } }, deadline);
        using var api = app.NewClient();
        var id = (await api.TriggerRunAsync("wait-for-approval/purge", new TriggerRunRequest(), deadline)).Id;
        await app.WaitForRunAsync(id, r => r.GetProperty("state").GetString() == "Paused", deadline, "the run to wait for its event");
        return id;
    }
}
