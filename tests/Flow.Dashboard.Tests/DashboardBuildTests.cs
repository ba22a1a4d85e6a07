using System.IO.Compression;
using System.Net;
using Flow.TestSupport;

namespace Flow.Dashboard.Tests;

/// <summary>
/// What the built dashboard must keep: its TypeScript API types equal to what openapi-typescript makes of the app's OpenAPI
/// document (so UI and API cannot drift), a small JavaScript payload, and the cache headers and deep links it relies on.
/// </summary>
public sealed class DashboardBuildTests(DashboardFixture fixture) : IClassFixture<DashboardFixture>
{
    private static string UiDirectory => Path.Combine(RepoPaths.Root, "ui");

    [Fact]
    public async Task GeneratedApiTypes_MatchTheAppsOpenApiDocument()
    {
        using var deadline = TestDeadline.Create(TimeSpan.FromSeconds(90));
        var document = Path.Combine(Path.GetTempPath(), "flow-openapi-" + Guid.NewGuid().ToString("N") + ".json");
        var generated = Path.ChangeExtension(document, ".d.ts");
        try
        {
            await File.WriteAllTextAsync(document, await fixture.Api.GetStringAsync("/api/openapi.json", deadline.Token), deadline.Token);
            var node = ToolLocator.FindOnPath("node") ?? throw new InvalidOperationException("node is not on PATH");
            var cli = Path.Combine(UiDirectory, "node_modules", "openapi-typescript", "bin", "cli.js");
            var result = await ProcessRunner.RunAsync(node, [cli, document, "-o", generated], new ProcessRunnerOptions { WorkingDirectory = UiDirectory }, deadline.Token);
            Assert.True(result.ExitCode == 0, result.Output);
            var expected = await File.ReadAllTextAsync(generated, deadline.Token);
            var committed = await File.ReadAllTextAsync(Path.Combine(UiDirectory, "src", "api", "schema.d.ts"), deadline.Token);
            if (expected != committed)
            {
                // Leave the up-to-date file beside the screenshots, so the fix is a copy.
                var fresh = Path.Combine(DashboardFixture.ScreenshotDirectory, "schema.d.ts");
                Directory.CreateDirectory(DashboardFixture.ScreenshotDirectory);
                File.Copy(generated, fresh, overwrite: true);
                Assert.Fail($"ui/src/api/schema.d.ts is stale: run `npm run gen:api` in ui/ against the app's /api/openapi.json (see docs/dashboard.md), or copy {fresh}.");
            }
        }
        finally
        {
            File.Delete(document);
            File.Delete(generated);
        }
    }

    [Fact]
    public void BuiltJavaScript_IsAtMost400KilobytesGzipped()
    {
        var assets = Path.Combine(AppContext.BaseDirectory, "wwwroot", "assets");
        var index = File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "wwwroot", "index.html"));
        var total = 0L;
        foreach (var file in Directory.GetFiles(assets, "*.js").Where(f => index.Contains(Path.GetFileName(f), StringComparison.Ordinal) || Path.GetFileName(f).StartsWith("Home-", StringComparison.Ordinal)))
        {
            using var output = new MemoryStream();
            using (var gzip = new GZipStream(output, CompressionLevel.SmallestSize, leaveOpen: true))
            {
                gzip.Write(File.ReadAllBytes(file));
            }

            total += output.Length;
        }

        Assert.InRange(total, 1, 400 * 1024);
    }

    [Fact]
    public async Task Dashboard_IsServedAtTheRoot_WithCacheHeaders_AndDeepLinks_WhileTheApiStaysKeyProtected()
    {
        using var deadline = TestDeadline.Create(TimeSpan.FromSeconds(30));
        using var anonymous = new HttpClient { BaseAddress = fixture.BaseAddress };
        using var root = await anonymous.GetAsync("/", deadline.Token);
        var html = await root.Content.ReadAsStringAsync(deadline.Token);
        Assert.Equal(HttpStatusCode.OK, root.StatusCode);
        Assert.Contains("<div id=\"root\">", html, StringComparison.Ordinal);
        Assert.True(root.Headers.CacheControl!.NoCache);

        var script = System.Text.RegularExpressions.Regex.Match(html, "/assets/[^\"]+\\.js").Value;
        using var asset = await anonymous.GetAsync(script, deadline.Token);
        Assert.Equal(HttpStatusCode.OK, asset.StatusCode);
        Assert.Contains("immutable", asset.Headers.CacheControl!.ToString(), StringComparison.Ordinal);

        using var deep = await anonymous.GetAsync("/runs/some-run?tab=logs", deadline.Token);
        Assert.Equal(html, await deep.Content.ReadAsStringAsync(deadline.Token));
        using var missingAsset = await anonymous.GetAsync("/assets/missing.js", deadline.Token);
        Assert.Equal(HttpStatusCode.NotFound, missingAsset.StatusCode);
        using var api = await anonymous.GetAsync("/api/runs", deadline.Token);
        Assert.Equal(HttpStatusCode.Unauthorized, api.StatusCode);
    }
}
