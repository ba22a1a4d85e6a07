using System.Net;
using Flow.TestSupport;

namespace Flow.Functions.Tests;

/// <summary>The API's JSON is readable: '+' and apostrophes are written as they are, not as \u002B and \u0027.</summary>
public sealed class ReadableJsonTests(AzuriteFixture azurite)
{
    [Fact]
    public async Task GetRun_PlusAndApostrophe_AreWrittenAsTheyAre()
    {
        using var deadline = TestDeadline.Create(TimeSpan.FromSeconds(60));
        await using var app = await TestApp.StartAsync(azurite, deadline);
        await app.SendAsync(HttpMethod.Put, "/api/deployments/greet/quoted", new { parameters = new { name = "O'Brien+1" } }, deadline);
        var (started, run) = await app.SendAsync(HttpMethod.Post, "/api/deployments/greet/quoted/runs", null, deadline);
        Assert.Equal(HttpStatusCode.Accepted, started.StatusCode);
        var id = run.GetProperty("id").GetString()!;
        await app.WaitForRunAsync(id, r => r.GetProperty("state").GetString() == "Completed", deadline, "the run to complete");

        var text = await app.Client.GetStringAsync(new Uri($"/api/runs/{id}", UriKind.Relative), deadline.Token);

        Assert.Contains("\"Hello, O'Brien+1\"", text, StringComparison.Ordinal);
        Assert.Contains("+00:00\"", text, StringComparison.Ordinal);
        Assert.DoesNotContain("\\u002B", text, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("\\u0027", text, StringComparison.OrdinalIgnoreCase);
    }
}
