using System.Net.Http.Json;
using System.Text.Json;
using Flow.Functions;
using Flow.TestSupport;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;

namespace Flow.Dashboard.Tests;

/// <summary>
/// The Flow app with the built dashboard, started in this process on a real loopback port against a private Azurite, with an
/// API key, the samples and the dashboard test flows and deployments; and Debian's Chromium driven by Playwright (no browser
/// download: the executable is /usr/bin/chromium).
/// </summary>
public sealed class DashboardFixture : IAsyncLifetime
{
    public const string ApiKey = "dashboard-test-key-0123456789";

    /// <summary>Chromium's flags on this machine: no sandbox (root), no GPU, and no calls to Google's services.</summary>
    internal static readonly string[] ChromiumArgs =
        ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run", "--disable-sync", "--disable-quic"];

    private readonly AzuriteFixture _azurite = new();
    private WebApplication? _app;
    private IPlaywright? _playwright;

    public Uri BaseAddress { get; private set; } = null!;

    public HttpClient Api { get; private set; } = null!;

    public IBrowser Browser { get; private set; } = null!;

    public static string ChromiumPath => Environment.GetEnvironmentVariable("FLOW_CHROMIUM") ?? "/usr/bin/chromium";

    public static string ScreenshotDirectory => Path.Combine(RepoPaths.Root, "artifacts", "dashboard");

    public async ValueTask InitializeAsync()
    {
        using var deadline = TestDeadline.Create(TimeSpan.FromSeconds(120));
        await _azurite.InitializeAsync();
        var suffix = UniqueNames.Suffix().Replace("-", "", StringComparison.Ordinal).Replace("_", "", StringComparison.Ordinal);
        var prefix = suffix[..Math.Min(suffix.Length, 10)];
        var config = new Dictionary<string, string?>
        {
            ["AzureWebJobsStorage"] = _azurite.ConnectionString,
            ["Flow:Storage:Azure:TablePrefix"] = "D" + prefix,
            ["Flow:Storage:Azure:QueuePrefix"] = "d" + prefix.ToLowerInvariant() + "-",
            ["Flow:App:ApiKey"] = ApiKey,
            ["Flow:App:FlowAssemblies:0"] = RepoPaths.SamplesAssembly,
            ["Flow:App:SchedulerTickInterval"] = "00:00:00.500",
            ["Flow:Worker:MaxPollInterval"] = "00:00:00.100",
            ["FUNCTIONS_CUSTOMHANDLER_PORT"] = null,
        };
        _app = FlowApp.Build(["--urls", "http://127.0.0.1:0"], DashboardFlows.Register, builder => builder.Configuration.AddInMemoryCollection(config));
        await _app.StartAsync(deadline.Token);
        BaseAddress = new Uri(_app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
        Api = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
        Api.DefaultRequestHeaders.Add("X-Flow-Api-Key", ApiKey);
        await deadline.PollUntilAsync(async ct => (await Api.GetFromJsonAsync<JsonElement>("/api/health", ct)).GetProperty("status").GetString() == "healthy", "the app to be healthy");

        foreach (var (flow, name, parameters) in new[] { ("dash-report", "nightly", (object)new { region = "north" }), ("dash-hold", "long", new { steps = 300 }), ("dash-review", "approval", new { steps = 1 }) })
        {
            using var put = await Api.PutAsJsonAsync($"/api/deployments/{flow}/{name}", new { pool = "default", parameters, description = $"The {flow} test flow." }, deadline.Token);
            Assert.True(put.IsSuccessStatusCode, await put.Content.ReadAsStringAsync(deadline.Token));
        }

        using var pool = await Api.PutAsJsonAsync("/api/work-pools/spare", new { description = "A pool the tests pause and resume.", concurrencyLimit = 4 }, deadline.Token);
        Assert.True(pool.IsSuccessStatusCode, await pool.Content.ReadAsStringAsync(deadline.Token));

        Assert.True(File.Exists(ChromiumPath), $"Chromium is not at {ChromiumPath}: apt-get install -y chromium (.ci/run does).");
        _playwright = await Microsoft.Playwright.Playwright.CreateAsync();
        Browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions { ExecutablePath = ChromiumPath, Headless = true, Args = ChromiumArgs });
        Directory.CreateDirectory(ScreenshotDirectory);
    }

    /// <summary>A fresh browser tab at 1280x720 (or the given size), signed in unless told otherwise.</summary>
    public async Task<IPage> NewPageAsync(bool signedIn = true, int width = 1280, int height = 720)
    {
        var context = await Browser.NewContextAsync(new BrowserNewContextOptions { BaseURL = BaseAddress.ToString(), ViewportSize = new ViewportSize { Width = width, Height = height } });
        if (signedIn)
        {
            await context.AddInitScriptAsync($"sessionStorage.setItem('flow.apiKey', '{ApiKey}')");
        }

        var page = await context.NewPageAsync();
        page.SetDefaultTimeout(20_000);
        return page;
    }

    /// <summary>Triggers a deployment over the API and returns the run id.</summary>
    public async Task<string> TriggerAsync(string deployment, object? parameters, CancellationToken cancellationToken)
    {
        using var response = await Api.PostAsJsonAsync($"/api/deployments/{deployment}/runs", new { parameters }, cancellationToken);
        var body = await response.Content.ReadFromJsonAsync<JsonElement>(cancellationToken);
        Assert.True(response.IsSuccessStatusCode, body.ToString());
        return body.GetProperty("id").GetString()!;
    }

    public async Task<string> StateAsync(string runId, CancellationToken cancellationToken) =>
        (await Api.GetFromJsonAsync<JsonElement>($"/api/runs/{runId}", cancellationToken)).GetProperty("stateName").GetString()!;

    public static async Task ScreenshotAsync(IPage page, string name) =>
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(ScreenshotDirectory, name + ".png"), FullPage = true });

    public async ValueTask DisposeAsync()
    {
        if (Browser is not null)
        {
            await Browser.CloseAsync();
        }

        _playwright?.Dispose();
        Api?.Dispose();
        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }

        await _azurite.DisposeAsync();
    }
}
