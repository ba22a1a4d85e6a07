using System.Net;
using Flow.TestSupport;

namespace Flow.Functions.Tests;

/// <summary>Standalone authentication: the API key on everything but health and the OpenAPI document.</summary>
public sealed class AuthTests(AzuriteFixture azurite)
{
    [Fact]
    public async Task Api_WithoutOrWithWrongKey_Returns401_HealthAndOpenApiStayOpen()
    {
        using var deadline = TestDeadline.Create(TimeSpan.FromSeconds(60));
        await using var app = await TestApp.StartAsync(azurite, deadline);
        using var anonymous = new HttpClient { BaseAddress = app.BaseAddress };
        using var wrong = new HttpClient { BaseAddress = app.BaseAddress };
        wrong.DefaultRequestHeaders.Add("X-Flow-Api-Key", "not-the-key-000000000");
        using var bearer = new HttpClient { BaseAddress = app.BaseAddress };
        bearer.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", TestApp.ApiKey);

        using var noKey = await anonymous.PutAsync("/api/deployments/greet/x", new StringContent("{}"), deadline.Token);
        using var badKey = await wrong.GetAsync("/api/runs", deadline.Token);
        using var withBearer = await bearer.GetAsync("/api/runs", deadline.Token);
        using var health = await anonymous.GetAsync("/api/health", deadline.Token);
        using var openApi = await anonymous.GetAsync("/api/openapi.json", deadline.Token);

        Assert.Equal(HttpStatusCode.Unauthorized, noKey.StatusCode);
        Assert.Equal("application/problem+json", noKey.Content.Headers.ContentType?.MediaType);
        Assert.Equal(HttpStatusCode.Unauthorized, badKey.StatusCode);
        Assert.Equal(HttpStatusCode.OK, withBearer.StatusCode);
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        Assert.Equal(HttpStatusCode.OK, openApi.StatusCode);
        var document = await openApi.Content.ReadAsStringAsync(deadline.Token);
        Assert.Contains("/api/deployments/{flow}/{name}/runs", document, StringComparison.Ordinal);
        Assert.Contains("/api/runs/{id}/cancel", document, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Api_NoKeyConfigured_RefusedUnlessLoopbackAnonymousIsAllowed()
    {
        using var deadline = TestDeadline.Create(TimeSpan.FromSeconds(60));
        await using var locked = await TestApp.StartAsync(azurite, deadline, new() { ["Flow:App:ApiKey"] = null });
        await using var open = await TestApp.StartAsync(azurite, deadline, new() { ["Flow:App:ApiKey"] = null, ["Flow:App:AllowAnonymousLoopback"] = "true" });

        using var refused = await locked.Client.GetAsync("/api/runs", deadline.Token);
        using var allowed = await open.Client.GetAsync("/api/runs", deadline.Token);

        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        Assert.Equal(HttpStatusCode.OK, allowed.StatusCode);
    }
}
