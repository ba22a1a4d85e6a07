using System.Net;
using Flow.Client;
using Flow.Sdk;
using Flow.TestSupport;

namespace Flow.Functions.Tests;

/// <summary>Flow.Client's <see cref="FlowClient"/> against the app over real HTTP: typed answers, and problems as <see cref="FlowApiException"/>.</summary>
public sealed class FlowClientTests(AzuriteFixture azurite)
{
    [Fact]
    public async Task FlowClient_BadRequestOrMissingRun_ThrowsFlowApiExceptionWithStatusTitleAndField()
    {
        using var deadline = TestDeadline.Create(TimeSpan.FromSeconds(60));
        await using var app = await TestApp.StartAsync(azurite, deadline);
        using var api = new FlowClient(app.BaseAddress, TestApp.ApiKey);

        var invalid = await Assert.ThrowsAsync<FlowApiException>(() => api.ListRunsAsync(new RunFilter { PageSize = 0 }, deadline));
        var missing = await Assert.ThrowsAsync<FlowApiException>(() => api.GetRunAsync("no-such-run", deadline));
        using var anonymous = new FlowClient(app.BaseAddress);
        var unauthorized = await Assert.ThrowsAsync<FlowApiException>(() => anonymous.ListDeploymentsAsync(deadline));

        Assert.Equal(HttpStatusCode.BadRequest, invalid.StatusCode);
        Assert.Equal("The request is invalid", invalid.Title);
        Assert.Equal(["must be 1-1000"], invalid.Errors["pageSize"]);
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Contains("no-such-run", missing.Message, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Unauthorized, unauthorized.StatusCode);
    }

    [Fact]
    public async Task FlowClient_DeploymentsPoolsRunsAndCancel_AreTyped()
    {
        using var deadline = TestDeadline.Create(TimeSpan.FromSeconds(60));
        await using var app = await TestApp.StartAsync(azurite, deadline);
        using var api = new FlowClient(app.BaseAddress, TestApp.ApiKey);
        await app.SendAsync(HttpMethod.Put, "/api/deployments/wait-for-approval/w", new { parameters = new { name = "x" } }, deadline);

        var health = await api.GetHealthAsync(deadline);
        var flows = await api.ListFlowsAsync(deadline);
        var deployment = await api.GetDeploymentAsync("wait-for-approval/w", deadline);
        var pools = await api.ListWorkPoolsAsync(deadline);
        var run = await api.TriggerRunAsync("wait-for-approval/w", new TriggerRunRequest { IdempotencyKey = "client-test-1" }, deadline);
        var again = await api.TriggerRunAsync("wait-for-approval/w", new TriggerRunRequest { IdempotencyKey = "client-test-1" }, deadline);
        var cancel = await api.CancelRunAsync(run.Id, "not needed", deadline);
        var page = await api.ListRunsAsync(new RunFilter { Deployment = "wait-for-approval/w" }, deadline);

        Assert.Equal("healthy", health.Status);
        Assert.Contains(flows, f => f.Name == "greet" && f.Input == "GreetInput");
        Assert.Equal("wait-for-approval", deployment.Flow);
        Assert.Equal("flow", deployment.Entrypoint.Kind);
        Assert.Contains(pools, p => p.Name == "default");
        Assert.True(run.Created);
        Assert.False(again.Created);
        Assert.Equal(run.Id, again.Id);
        Assert.True(cancel.CancelRequested);
        var listed = Assert.Single(page.Runs);
        Assert.Equal(run.Id, listed.Id);
        Assert.True(listed.CancelRequested || listed.State is RunState.Cancelling or RunState.Cancelled, listed.State.ToString());
    }
}
