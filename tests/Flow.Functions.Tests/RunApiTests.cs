using System.Net;
using System.Text.Json;
using Flow.Client;
using Flow.Sdk;
using Flow.TestSupport;

namespace Flow.Functions.Tests;

/// <summary>Runs over real HTTP: details with task runs, lists with filters and paging, cancel, events, logs, artifacts.</summary>
public sealed class RunApiTests(AzuriteFixture azurite)
{
    private static async Task<string> TriggerAsync(TestApp app, string deployment, object? body, TestDeadline deadline)
    {
        var (response, run) = await app.SendAsync(HttpMethod.Post, $"/api/deployments/{deployment}/runs", body, deadline);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        return run.GetProperty("id").GetString()!;
    }

    [Fact]
    public async Task GetRun_Completed_HasHistoryTaskRunsLogsAndArtifacts()
    {
        using var deadline = TestDeadline.Create(TimeSpan.FromSeconds(60));
        await using var app = await TestApp.StartAsync(azurite, deadline);
        using var api = app.NewClient();
        await app.SendAsync(HttpMethod.Put, "/api/deployments/greet/hello", new { parameters = new { name = "Ada" } }, deadline);
        var triggered = await api.TriggerRunAsync("greet/hello", new TriggerRunRequest { Parameters = JsonSerializer.SerializeToElement(new { excitement = 1 }) }, deadline);
        var id = triggered.Id;

        await app.WaitForRunAsync(id, r => r.GetProperty("state").GetString() == "Completed", deadline, "the run to complete");
        var run = await api.GetRunAsync(id, deadline);

        Assert.True(triggered.Created);
        Assert.Equal(RunState.Completed, run.State);
        Assert.Equal("Hello, Ada!", run.Result!.Value.GetString());
        Assert.Equal(1, run.Parameters!.Value.GetProperty("excitement").GetInt32());
        Assert.Equal([RunState.Pending, RunState.Running, RunState.Completed], run.History!.Select(t => t.To));
        var task = Assert.Single(run.TaskRuns!);
        Assert.Equal("compose", task.Name);
        Assert.Equal("Completed", task.State);
        Assert.Equal(1, task.Attempts);
        Assert.True(task.DurationMs >= 0);
        Assert.Equal($"/api/runs/{id}/logs", run.Links.Logs);

        var logs = await api.GetRunLogsAsync(id, null, null, deadline);
        Assert.Contains(logs.Lines, l => l.Message.Contains("greeted Ada", StringComparison.Ordinal));
        var artifact = Assert.Single(await api.GetRunArtifactsAsync(id, deadline));
        Assert.Equal("greeting", artifact.Key);
        Assert.Equal("Table", artifact.Type);
        Assert.Equal("Hello, Ada!", artifact.Data!.Value[0].GetProperty("text").GetString());
    }

    [Fact]
    public async Task ListRuns_FilterByDeploymentAndState_PagesNewestFirst()
    {
        using var deadline = TestDeadline.Create(TimeSpan.FromSeconds(90));
        await using var app = await TestApp.StartAsync(azurite, deadline);
        await app.SendAsync(HttpMethod.Put, "/api/deployments/greet/a", new { parameters = new { name = "A" } }, deadline);
        await app.SendAsync(HttpMethod.Put, "/api/deployments/greet/b", new { parameters = new { name = "B" } }, deadline);
        var ids = new List<string>();
        for (var i = 0; i < 5; i++)
        {
            ids.Add(await TriggerAsync(app, "greet/a", null, deadline));
        }

        await TriggerAsync(app, "greet/b", null, deadline);
        foreach (var id in ids)
        {
            await app.WaitForRunAsync(id, r => r.GetProperty("state").GetString() == "Completed", deadline, "the runs to complete");
        }

        var seen = new List<string>();
        string? token = null;
        do
        {
            var path = "/api/runs?deployment=greet/a&state=Completed&pageSize=2" + (token is null ? "" : "&continuationToken=" + Uri.EscapeDataString(token));
            var (response, page) = await app.SendAsync(HttpMethod.Get, path, null, deadline);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            seen.AddRange(page.GetProperty("runs").EnumerateArray().Select(r => r.GetProperty("id").GetString()!));
            token = page.TryGetProperty("continuationToken", out var t) ? t.GetString() : null;
        }
        while (token is not null);

        Assert.Equal(ids.AsEnumerable().Reverse().ToList(), seen);
    }

    [Fact]
    public async Task CancelRun_WaitingForEvent_EndsCancelled()
    {
        using var deadline = TestDeadline.Create(TimeSpan.FromSeconds(60));
        await using var app = await TestApp.StartAsync(azurite, deadline);
        await app.SendAsync(HttpMethod.Put, "/api/deployments/wait-for-approval/w", new { parameters = new { name = "x" } }, deadline);
        var id = await TriggerAsync(app, "wait-for-approval/w", null, deadline);
        await app.WaitForRunAsync(id, r => r.GetProperty("state").GetString() == "Paused", deadline, "the run to wait");

        var (accepted, _) = await app.SendAsync(HttpMethod.Post, $"/api/runs/{id}/cancel", new { reason = "not needed" }, deadline);
        var run = await app.WaitForRunAsync(id, r => r.GetProperty("state").GetString() == "Cancelled", deadline, "the run to be cancelled");
        var (again, problem) = await app.SendAsync(HttpMethod.Post, $"/api/runs/{id}/cancel", null, deadline);

        Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);
        Assert.Contains(run.GetProperty("history").EnumerateArray(), t => t.GetProperty("to").GetString() == "Cancelling" && t.GetProperty("message").GetString() == "not needed");
        Assert.Equal(HttpStatusCode.Conflict, again.StatusCode);
        Assert.Contains("Cancelled", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ResumeRun_PausedFlow_ReceivesTheBodyAsInputAndCompletes()
    {
        using var deadline = TestDeadline.Create(TimeSpan.FromSeconds(60));
        await using var app = await TestApp.StartAsync(azurite, deadline);
        await app.SendAsync(HttpMethod.Put, "/api/deployments/needs-review/r", new { parameters = new { name = "invoice-17" } }, deadline);
        var id = await TriggerAsync(app, "needs-review/r", null, deadline);
        var paused = await app.WaitForRunAsync(id, r => r.GetProperty("state").GetString() == "Paused", deadline, "the run to pause");

        var (resumed, _) = await app.SendAsync(HttpMethod.Post, $"/api/runs/{id}/resume", new { by = "Ada", approved = true }, deadline);
        var run = await app.WaitForRunAsync(id, r => r.GetProperty("state").GetString() == "Completed", deadline, "the run to complete");

        Assert.Contains("resume", paused.GetProperty("stateMessage").GetString(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Accepted, resumed.StatusCode);
        Assert.Equal("invoice-17: approved by Ada", run.GetProperty("result").GetString());
    }

    [Fact]
    public async Task SendEvent_SameIdempotencyKeyTwice_DeliveredOnce()
    {
        using var deadline = TestDeadline.Create(TimeSpan.FromSeconds(60));
        await using var app = await TestApp.StartAsync(azurite, deadline);
        await app.SendAsync(HttpMethod.Put, "/api/deployments/wait-for-approval/w", new { parameters = new { name = "x" } }, deadline);
        var id = await TriggerAsync(app, "wait-for-approval/w", null, deadline);
        await app.WaitForRunAsync(id, r => r.GetProperty("state").GetString() == "Paused", deadline, "the run to wait");

        using var first = new HttpRequestMessage(HttpMethod.Post, $"/api/runs/{id}/events/approve") { Content = new StringContent("\"Ada\"", System.Text.Encoding.UTF8, "application/json") };
        first.Headers.Add("Idempotency-Key", "approval-1");
        using var second = new HttpRequestMessage(HttpMethod.Post, $"/api/runs/{id}/events/approve") { Content = new StringContent("\"Bob\"", System.Text.Encoding.UTF8, "application/json") };
        second.Headers.Add("Idempotency-Key", "approval-1");
        using var a = await app.Client.SendAsync(first, deadline.Token);
        using var b = await app.Client.SendAsync(second, deadline.Token);

        var run = await app.WaitForRunAsync(id, r => r.GetProperty("state").GetString() == "Completed", deadline, "the run to complete");
        Assert.Equal("x approved by Ada", run.GetProperty("result").GetString());
    }

    [Fact]
    public async Task GetRun_Unknown_Returns404ProblemAndBadIdReturns400()
    {
        using var deadline = TestDeadline.Create(TimeSpan.FromSeconds(60));
        await using var app = await TestApp.StartAsync(azurite, deadline);

        var (missing, problem) = await app.SendAsync(HttpMethod.Get, "/api/runs/no-such-run", null, deadline);
        var (bad, badProblem) = await app.SendAsync(HttpMethod.Get, "/api/runs/bad%20id", null, deadline);

        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Equal("application/problem+json", missing.Content.Headers.ContentType?.MediaType);
        Assert.Contains("no-such-run", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.True(badProblem.GetProperty("errors").TryGetProperty("id", out _));
    }
}
