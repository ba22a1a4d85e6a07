using System.Net;
using System.Text;
using System.Text.Json;
using Flow.ControlPlane.Secrets;
using Flow.Engine.Events;
using Flow.TestSupport;

namespace Flow.Functions.Tests;

/// <summary>Incoming webhooks over real HTTP: signed calls need no API key, unsigned webhooks need it, refusals are problem+json.</summary>
public sealed class WebhookApiTests(AzuriteFixture azurite)
{
    private static readonly Dictionary<string, string?> Settings = new()
    {
        ["Flow:Secrets:ci"] = "ci-secret-value",
        ["Flow:Webhooks:ci:Kind"] = "ci.{{ body.status }}",
        ["Flow:Webhooks:ci:Resource"] = "pipeline/{{ body.pipeline }}",
        ["Flow:Webhooks:ci:Secret"] = "ci",
        ["Flow:Webhooks:ops:Kind"] = "ops.ping",
    };

    private static async Task<HttpResponseMessage> PostAsync(HttpClient client, string path, string body, string? signature, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        if (signature is not null)
        {
            request.Headers.Add(WebhookSignature.SignatureHeader, signature);
        }

        return await client.SendAsync(request, cancellationToken);
    }

    [Fact]
    public async Task SignedWebhook_WithoutApiKey_StoresTheEvent_AndABadSignatureIs401Recorded()
    {
        using var deadline = TestDeadline.Create(TimeSpan.FromSeconds(60));
        await using var app = await TestApp.StartAsync(azurite, deadline, new(Settings));
        using var anonymous = new HttpClient { BaseAddress = app.BaseAddress };
        const string body = """{"status":"succeeded","pipeline":"nightly"}""";

        using var signed = await PostAsync(anonymous, "/api/webhooks/ci", body, WebhookSignature.SignBody("ci-secret-value"u8, Encoding.UTF8.GetBytes(body)), deadline.Token);
        using var forged = await PostAsync(anonymous, "/api/webhooks/ci", body, WebhookSignature.SignBody("guess"u8, Encoding.UTF8.GetBytes(body)), deadline.Token);

        Assert.Equal(HttpStatusCode.Accepted, signed.StatusCode);
        var eventId = JsonDocument.Parse(await signed.Content.ReadAsStringAsync(deadline.Token)).RootElement.GetProperty("eventId").GetString();
        Assert.Equal(HttpStatusCode.Unauthorized, forged.StatusCode);
        Assert.Equal("application/problem+json", forged.Content.Headers.ContentType?.MediaType);
        var events = (await app.Service<IEventStore>().ListAsync(new EventQuery { ResourceId = "pipeline/nightly" }, deadline.Token)).Events;
        var stored = Assert.Single(events);
        Assert.Equal((eventId, "ci.succeeded"), (stored.Id, stored.Kind));
        var refusals = (await app.Service<IEventStore>().ListAsync(new EventQuery { KindPrefix = "webhook.refused" }, deadline.Token)).Events;
        Assert.Equal("webhook/ci", Assert.Single(refusals).Resource.Id);
    }

    [Fact]
    public async Task UnsignedWebhook_NeedsTheApiKey_UnknownIs404_TooLargeIs413()
    {
        using var deadline = TestDeadline.Create(TimeSpan.FromSeconds(60));
        await using var app = await TestApp.StartAsync(azurite, deadline, new(Settings));
        using var anonymous = new HttpClient { BaseAddress = app.BaseAddress };

        using var noKey = await PostAsync(anonymous, "/api/webhooks/ops", "{}", null, deadline.Token);
        using var withKey = await PostAsync(app.Client, "/api/webhooks/ops", "{}", null, deadline.Token);
        using var unknown = await PostAsync(app.Client, "/api/webhooks/nope", "{}", null, deadline.Token);
        using var tooLarge = await PostAsync(app.Client, "/api/webhooks/ops", $$"""{"x":"{{new string('x', 1_100_000)}}"}""", null, deadline.Token);

        Assert.Equal(HttpStatusCode.Unauthorized, noKey.StatusCode);
        Assert.Equal(HttpStatusCode.Accepted, withKey.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, tooLarge.StatusCode);
        Assert.Contains("body", await tooLarge.Content.ReadAsStringAsync(deadline.Token), StringComparison.Ordinal);
    }
}
