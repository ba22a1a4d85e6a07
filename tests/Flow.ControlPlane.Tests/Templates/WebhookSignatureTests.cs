using System.Text;
using Flow.ControlPlane.Secrets;
using Microsoft.Extensions.Configuration;

namespace Flow.ControlPlane.Tests.Templates;

public sealed class WebhookSignatureTests
{
    [Fact]
    public void SignBody_Rfc4231TestCase2_GivesTheKnownMac()
    {
        var signature = WebhookSignature.SignBody("Jefe"u8, "what do ya want for nothing?"u8);

        Assert.Equal("sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843", signature);
    }

    [Fact]
    public void VerifyBody_AcceptsItsOwnSignatureWithOrWithoutPrefix_AndRefusesAnyChange()
    {
        var secret = "s3cret"u8.ToArray();
        var body = """{"kind":"push"}"""u8.ToArray();
        var signature = WebhookSignature.SignBody(secret, body);

        Assert.True(WebhookSignature.VerifyBody(secret, body, signature));
        Assert.True(WebhookSignature.VerifyBody(secret, body, signature["sha256=".Length..].ToUpperInvariant()));
        Assert.False(WebhookSignature.VerifyBody(secret, """{"kind":"pull"}"""u8, signature));
        Assert.False(WebhookSignature.VerifyBody("other"u8, body, signature));
        Assert.False(WebhookSignature.VerifyBody(secret, body, null));
        Assert.False(WebhookSignature.VerifyBody(secret, body, "sha256=zz"));
        Assert.False(WebhookSignature.VerifyBody(secret, body, "sha256=" + new string('g', 64)));
    }

    [Fact]
    public void SignTimestamped_SignsTimestampDotBody_SoAnotherTimestampFails()
    {
        var secret = "k"u8.ToArray();
        var body = "{}"u8.ToArray();

        var signature = WebhookSignature.SignTimestamped(secret, 1_765_000_000, body);

        Assert.Equal(WebhookSignature.SignBody(secret, Encoding.ASCII.GetBytes("1765000000.{}")), signature);
        Assert.True(WebhookSignature.VerifyTimestamped(secret, 1_765_000_000, body, signature));
        Assert.False(WebhookSignature.VerifyTimestamped(secret, 1_765_000_001, body, signature));
    }

    [Fact]
    public void ConfigurationSecrets_ReadsFlowSecretsByValidNameOnly()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Flow:Secrets:slack"] = "xoxb",
            ["Flow:Secrets:empty"] = string.Empty,
        }).Build();
        var secrets = new ConfigurationSecrets(configuration);

        Assert.True(secrets.TryGet("slack", out var value));
        Assert.Equal("xoxb"u8.ToArray(), value);
        Assert.False(secrets.TryGet("empty", out _));
        Assert.False(secrets.TryGet("missing", out _));
        Assert.False(secrets.TryGet("../slack", out _));
        Assert.False(SecretNames.IsValid(new string('a', SecretNames.MaxLength + 1)));
    }
}
