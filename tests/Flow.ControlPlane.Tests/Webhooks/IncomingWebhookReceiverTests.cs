using System.Text;
using System.Text.Json.Nodes;
using Flow.ControlPlane.Secrets;
using Flow.ControlPlane.Webhooks;
using Flow.Engine.Events;
using Flow.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Flow.ControlPlane.Tests.Webhooks;

public sealed class IncomingWebhookReceiverTests
{
    private static readonly byte[] Secret = "gh-secret"u8.ToArray();
    private readonly InMemoryEventStore _events = new();
    private readonly FakeClock _clock = new(new DateTimeOffset(2026, 12, 6, 22, 0, 0, TimeSpan.Zero));

    private IncomingWebhookReceiver Receiver(IncomingWebhookDefinition definition)
    {
        var secrets = new ConfigurationSecrets(new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["Flow:Secrets:github"] = "gh-secret" }).Build());
        var options = new IncomingWebhookOptions { Webhooks = { ["github"] = definition } };
        options.Validate();
        return new IncomingWebhookReceiver(_events, secrets, Options.Create(options), _clock, NullLogger<IncomingWebhookReceiver>.Instance);
    }

    private static IncomingWebhookDefinition GitHub() => new()
    {
        Kind = "github.{{ headers.X-GitHub-Event }}",
        Resource = "repo/{{ body.repository.full_name }}",
        Labels = { ["branch"] = "{{ body.ref }}" },
        Payload = """{"sha":"{{ body.after }}","commits":"{{ body.commits }}"}""",
        Secret = "github",
        SignatureHeader = "X-Hub-Signature-256",
        DeliveryIdHeader = "X-GitHub-Delivery",
    };

    private static Func<string, string?> Headers(params (string Name, string Value)[] headers) =>
        name => headers.FirstOrDefault(h => string.Equals(h.Name, name, StringComparison.OrdinalIgnoreCase)).Value;

    private async Task<IReadOnlyList<FlowEvent>> StoredAsync() =>
        (await _events.ReadFeedAsync(null, 100, CancellationToken.None)).Events;

    [Fact]
    public async Task SignedCall_BecomesOneEventFilledFromBodyAndHeaders()
    {
        var body = Encoding.UTF8.GetBytes("""{"ref":"refs/heads/main","after":"abc123","repository":{"full_name":"acme/etl"},"commits":[{"id":"abc123"}]}""");
        var headers = Headers(("X-GitHub-Event", "push"), ("X-Hub-Signature-256", WebhookSignature.SignBody(Secret, body)), ("X-GitHub-Delivery", "d-1"), ("Authorization", "token nope"));

        var receipt = await Receiver(GitHub()).ReceiveAsync("github", headers, body, authenticatedByApiKey: false, CancellationToken.None);

        Assert.Equal(202, receipt.StatusCode);
        var stored = Assert.Single(await StoredAsync());
        Assert.Equal("webhook.github.d-1", stored.Id);
        Assert.Equal("github.push", stored.Kind);
        Assert.Equal("repo/acme/etl", stored.Resource.Id);
        Assert.Equal("refs/heads/main", stored.Resource.Labels!["branch"]);
        Assert.Equal("github", stored.Resource.Labels["webhook"]);
        var payload = JsonNode.Parse(stored.Payload!)!;
        Assert.Equal("abc123", payload["sha"]!.GetValue<string>());
        Assert.Equal("abc123", payload["commits"]![0]!["id"]!.GetValue<string>());
        Assert.DoesNotContain("token nope", stored.Payload!, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RedeliveredCall_WithTheSameDeliveryId_StoresOneEvent()
    {
        var body = Encoding.UTF8.GetBytes("""{"ref":"r","after":"a","repository":{"full_name":"acme/etl"}}""");
        var headers = Headers(("X-GitHub-Event", "push"), ("X-Hub-Signature-256", WebhookSignature.SignBody(Secret, body)), ("X-GitHub-Delivery", "same"));
        var receiver = Receiver(GitHub());

        await receiver.ReceiveAsync("github", headers, body, false, CancellationToken.None);
        await receiver.ReceiveAsync("github", headers, body, false, CancellationToken.None);

        Assert.Single(await StoredAsync());
    }

    [Theory]
    [InlineData(null, "not signed")]
    [InlineData("sha256=0000000000000000000000000000000000000000000000000000000000000000", "does not match")]
    [InlineData("garbage", "does not match")]
    public async Task UnsignedOrBadlySignedCall_Is401AndRecordedWithoutTheSignature(string? signature, string reason)
    {
        var body = """{"ref":"r"}"""u8.ToArray();
        var headers = signature is null ? Headers(("X-GitHub-Event", "push")) : Headers(("X-GitHub-Event", "push"), ("X-Hub-Signature-256", signature));

        var receipt = await Receiver(GitHub()).ReceiveAsync("github", headers, body, authenticatedByApiKey: true, CancellationToken.None);

        Assert.Equal(401, receipt.StatusCode);
        Assert.Contains(reason, receipt.Error, StringComparison.Ordinal);
        var recorded = Assert.Single(await StoredAsync());
        Assert.Equal(IncomingWebhookReceiver.RefusedKind, recorded.Kind);
        Assert.Equal("webhook/github", recorded.Resource.Id);
        Assert.Contains(reason, recorded.Payload!, StringComparison.Ordinal);
        Assert.DoesNotContain("gh-secret", recorded.Payload!, StringComparison.Ordinal);
        if (signature is not null)
        {
            Assert.DoesNotContain(signature, recorded.Payload!, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task TimestampedScheme_RefusesAStaleTimestampAndAcceptsAFreshOne()
    {
        var definition = new IncomingWebhookDefinition { Kind = "ci.done", Secret = "github", Scheme = WebhookSignatureScheme.Timestamped };
        var receiver = Receiver(definition);
        var body = """{"build":7}"""u8.ToArray();
        var stale = _clock.GetUtcNow().AddMinutes(-6).ToUnixTimeSeconds();
        var fresh = _clock.GetUtcNow().AddSeconds(-30).ToUnixTimeSeconds();

        var refused = await receiver.ReceiveAsync("github", Headers(("X-Flow-Timestamp", stale.ToString(System.Globalization.CultureInfo.InvariantCulture)), ("X-Flow-Signature", WebhookSignature.SignTimestamped(Secret, stale, body))), body, false, CancellationToken.None);
        var accepted = await receiver.ReceiveAsync("github", Headers(("X-Flow-Timestamp", fresh.ToString(System.Globalization.CultureInfo.InvariantCulture)), ("X-Flow-Signature", WebhookSignature.SignTimestamped(Secret, fresh, body))), body, false, CancellationToken.None);

        Assert.Equal(401, refused.StatusCode);
        Assert.Contains("timestamp", refused.Error, StringComparison.Ordinal);
        Assert.Equal(202, accepted.StatusCode);
        Assert.Equal("webhook/github", (await StoredAsync()).Single(e => e.Kind == "ci.done").Resource.Id);
        Assert.Equal("""{"build":7}""", (await StoredAsync()).Single(e => e.Kind == "ci.done").Payload);
    }

    [Fact]
    public async Task WebhookWithoutSecret_NeedsTheApiKey()
    {
        var receiver = Receiver(new IncomingWebhookDefinition { Kind = "ops.ping" });

        var withoutKey = await receiver.ReceiveAsync("github", Headers(), "{}"u8.ToArray(), authenticatedByApiKey: false, CancellationToken.None);
        var withKey = await receiver.ReceiveAsync("github", Headers(), "{}"u8.ToArray(), authenticatedByApiKey: true, CancellationToken.None);

        Assert.Equal(401, withoutKey.StatusCode);
        Assert.Equal(202, withKey.StatusCode);
    }

    [Fact]
    public async Task UnknownWebhookOrBadBody_IsA4xxNamingTheProblem_AndStoresNothing()
    {
        var receiver = Receiver(new IncomingWebhookDefinition { Kind = "{{ body.kind }}" });

        var unknown = await receiver.ReceiveAsync("gitlab", Headers(), "{}"u8.ToArray(), true, CancellationToken.None);
        var notJson = await receiver.ReceiveAsync("github", Headers(), "{not json"u8.ToArray(), true, CancellationToken.None);
        var noKind = await receiver.ReceiveAsync("github", Headers(), """{"other":1}"""u8.ToArray(), true, CancellationToken.None);
        var huge = await receiver.ReceiveAsync("github", Headers(), Encoding.UTF8.GetBytes($$"""{"kind":"k","blob":"{{new string('x', 20_000)}}"}"""), true, CancellationToken.None);

        Assert.Equal(404, unknown.StatusCode);
        Assert.Equal((400, "body"), (notJson.StatusCode, notJson.Field));
        Assert.Equal((400, "event.kind"), (noKind.StatusCode, noKind.Field));
        Assert.Equal((400, "body"), (huge.StatusCode, huge.Field));
        Assert.Empty(await StoredAsync());
    }

    [Theory]
    [InlineData("Kind", "", "Kind is required")]
    [InlineData("Kind", "x.{{ body.", "Kind has '{{'")]
    [InlineData("Payload", "[1]", "Payload must be a JSON object")]
    [InlineData("Secret", "bad name!", "Secret must name a secret")]
    public void Validate_BadDefinition_NamesTheSetting(string setting, string value, string expected)
    {
        var definition = new IncomingWebhookDefinition { Kind = "ok" };
        typeof(IncomingWebhookDefinition).GetProperty(setting)!.SetValue(definition, value);
        var options = new IncomingWebhookOptions { Webhooks = { ["hook"] = definition } };

        var error = Assert.Throws<InvalidOperationException>(options.Validate);

        Assert.StartsWith("Flow:Webhooks:hook:", error.Message, StringComparison.Ordinal);
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }
}
