using System.Diagnostics;
using System.Net;
using System.Text.Json;
using Flow.TestSupport;

namespace Flow.Functions.Tests;

/// <summary>The app while its storage hangs (a real TCP proxy to Azurite, cut by the test): health says degraded naming the storage, API calls answer 503 with Retry-After quickly, and all is well again once the storage answers.</summary>
public sealed class StorageOutageTests(AzuriteFixture azurite, ITestOutputHelper output)
{
    [Fact]
    public async Task StorageHangs_HealthDegradedAndCallsAnswer503Quickly_ThenRecovers()
    {
        using var deadline = TestDeadline.Create(TimeSpan.FromSeconds(90));
        await using var table = new CuttableProxy(azurite.TablePort);
        await using var queue = new CuttableProxy(azurite.QueuePort);
        await using var blob = new CuttableProxy(azurite.BlobPort);
        var connection = $"DefaultEndpointsProtocol=http;AccountName={azurite.AccountName};AccountKey={azurite.AccountKey};" +
            $"BlobEndpoint=http://127.0.0.1:{blob.Port}/{azurite.AccountName};QueueEndpoint=http://127.0.0.1:{queue.Port}/{azurite.AccountName};TableEndpoint=http://127.0.0.1:{table.Port}/{azurite.AccountName};";
        await using var app = await TestApp.StartAsync(azurite, deadline, new Dictionary<string, string?> { ["AzureWebJobsStorage"] = connection, ["Flow:App:StorageProbeInterval"] = "00:00:30" });
        using (var before = await app.Client.GetAsync("/api/deployments", deadline))
        {
            Assert.Equal(HttpStatusCode.OK, before.StatusCode);
        }

        table.Cut();
        queue.Cut();
        blob.Cut();
        var first = Stopwatch.StartNew();
        using var during = await app.Client.GetAsync("/api/deployments", deadline);
        first.Stop();
        var second = Stopwatch.StartNew();
        using var again = await app.Client.GetAsync("/api/work-pools", deadline);
        second.Stop();
        using var health = await app.Client.GetAsync("/api/health", deadline);
        var report = JsonDocument.Parse(await health.Content.ReadAsStringAsync(deadline)).RootElement;
        output.WriteLine($"first call during the outage: {first.ElapsedMilliseconds} ms, second: {second.ElapsedMilliseconds} ms; health: {report}");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, during.StatusCode);
        Assert.Equal("application/problem+json", during.Content.Headers.ContentType?.MediaType);
        Assert.NotNull(during.Headers.RetryAfter);
        Assert.True(first.Elapsed < TimeSpan.FromSeconds(2.5), $"the first call took {first.Elapsed.TotalSeconds:0.0} s");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, again.StatusCode);
        Assert.True(second.Elapsed < TimeSpan.FromSeconds(1), $"a call once the outage is known took {second.Elapsed.TotalSeconds:0.0} s");
        Assert.Equal("degraded", report.GetProperty("status").GetString());
        Assert.Equal(["storage"], report.GetProperty("failing").EnumerateArray().Select(e => e.GetString()));

        table.Restore();
        queue.Restore();
        blob.Restore();
        await deadline.PollUntilAsync(async ct =>
        {
            using var h = await app.Client.GetAsync("/api/health", ct);
            return (await h.Content.ReadAsStringAsync(ct)).Contains("\"healthy\"", StringComparison.Ordinal);
        }, "health to say healthy again once the storage answers");
        using var after = await app.Client.GetAsync("/api/deployments", deadline);
        Assert.Equal(HttpStatusCode.OK, after.StatusCode);
    }
}
