using System.Diagnostics;
using System.Globalization;
using System.IO.Compression;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using Flow.Benchmarks.Api;
using Flow.Client;
using Flow.Sdk;
using Flow.LocalServices;
using Microsoft.Playwright;

namespace Flow.Benchmarks.Dashboard;

/// <summary>
/// The dashboard's speed in Debian's Chromium against the built app on a private Azurite or PostgreSQL holding many runs
/// (seeded straight into the store): first render of Runs and of a run page from navigation (p50/p95 over repeated navigations), API requests
/// per view change, the timeline of a run with many task runs (render time, scroll frame times), and the built JavaScript's
/// gzipped size. Prints JSON on stdout.
///   dotnet run -c Release --project bench/Flow.Benchmarks -- dashboard [--backend azure|postgres] [--runs 10000] [--tasks 1000] [--samples 20] [--output f.json]
/// </summary>
internal static class DashboardBenchmark
{
    private static readonly string[] ChromiumArgs =
        ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run", "--disable-sync", "--disable-quic"];

    public static async Task<int> RunAsync(string[] args)
    {
        int runs = 10_000, tasks = 1_000, samples = 20;
        string? output = null;
        var backend = "azure";
        for (var i = 0; i < args.Length; i++)
        {
            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            switch (args[i])
            {
                case "--runs": runs = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--tasks": tasks = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--samples": samples = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--output": output = Next(); break;
                case "--backend": backend = Next() is var b && b is "azure" or "postgres" ? b : throw new ArgumentException("--backend is azure or postgres"); break;
                default: throw new ArgumentException($"unknown option {args[i]}");
            }
        }

        using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(30));
        var ct = cts.Token;
        await AppUnderTest.EnsureBuiltAsync(force: false, ct);
        await using var azurite = backend == "azure" ? new LocalAzurite() : null;
        await using var postgres = backend == "postgres" ? new LocalPostgres() : null;
        string? postgresConnection = null;
        JsonObject seeding;
        Console.Error.WriteLine($"dashboard: seeding {runs:N0} runs on {backend}");
        if (postgres is not null)
        {
            await postgres.StartAsync(ct);
            postgresConnection = await postgres.CreateNamedDatabaseAsync("dashboard", ct);
            await using var dataSource = Flow.Storage.Postgres.PostgresConnection.CreateDataSource(postgresConnection);
            seeding = await RunSeeder.SeedAsync(new Flow.Storage.Postgres.PostgresFlowStore(dataSource), runs, 16, ct);
        }
        else
        {
            await azurite!.StartAsync(ct);
            seeding = await RunSeeder.SeedAsync(azurite.ConnectionString, runs, 16, ct);
        }

        await using var app = await AppUnderTest.StartAsync(azurite?.ConnectionString, ct, postgresConnection);
        using var http = app.CreateClient();

        // A run with many task runs: the process-batch sample, one task per item, no delay.
        using (var put = await http.PutAsJsonAsync("deployments/process-batch/wide", new { pool = "default" }, ct))
        {
            put.EnsureSuccessStatusCode();
        }

        using var api = new FlowClient(new Uri($"http://127.0.0.1:{app.Port}"), app.ApiKey);
        var trigger = new TriggerRunRequest { Parameters = JsonSerializer.SerializeToElement(new { items = tasks, delayMs = 0 }) };
        var wideId = (await api.TriggerRunAsync("process-batch/wide", trigger, ct)).Id;
        var wideClock = Stopwatch.StartNew();
        while ((await api.GetRunAsync(wideId, ct)).State is not (RunState.Completed or RunState.Failed))
        {
            await Task.Delay(500, ct);
        }

        Console.Error.WriteLine($"dashboard: {tasks} task run finished in {wideClock.Elapsed.TotalSeconds:F0} s");
        var someRun = (await api.ListRunsAsync(new RunFilter { PageSize = 30 }, ct)).Runs[^1].Id;

        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions { ExecutablePath = "/usr/bin/chromium", Headless = true, Args = ChromiumArgs });
        var context = await browser.NewContextAsync(new BrowserNewContextOptions { BaseURL = $"http://127.0.0.1:{app.Port}", ViewportSize = new ViewportSize { Width = 1280, Height = 720 } });
        await context.AddInitScriptAsync($"sessionStorage.setItem('flow.apiKey', '{app.ApiKey}')");
        var page = await context.NewPageAsync();
        page.SetDefaultTimeout(30_000);
        var apiRequests = 0;
        page.Request += (_, r) => apiRequests += r.Url.Contains("/api/", StringComparison.Ordinal) ? 1 : 0;

        var load = LoadAverage();
        var runsRender = await FirstRenderAsync(page, "/runs", "table.runs tbody tr", samples);
        var runRender = await FirstRenderAsync(page, "/runs/" + someRun, "h1 .badge", samples);
        var wideRender = await FirstRenderAsync(page, "/runs/" + wideId, ".tl-row", Math.Max(3, samples / 4));
        var scroll = await ScrollTimelineAsync(page);

        // API requests per view change: click through the views in the app (no reload), count /api/ requests in the first 1.5 s.
        var changes = new JsonObject();
        await page.GotoAsync("/");
        await page.Locator(".chart canvas").WaitForAsync();
        foreach (var (name, link, ready) in new[]
        {
            ("Home→Runs", "nav >> text=Runs", "table.runs tbody tr"),
            ("Runs→Run page", "table.runs tbody tr >> nth=0 >> a.mono", "h1 .badge"),
            ("Run page→Deployments", "nav >> text=Deployments", "main table tbody tr"),
            ("Deployments→Work pools", "nav >> text=Work pools", "table.pools tbody tr"),
            ("Work pools→Home", "nav >> text=Home", ".chart canvas"),
        })
        {
            await page.WaitForTimeoutAsync(300);
            apiRequests = 0;
            await page.Locator(link).First.ClickAsync();
            await page.Locator(ready).First.WaitForAsync();
            await page.WaitForTimeoutAsync(1500);
            changes[name] = apiRequests;
        }

        var result = new JsonObject
        {
            ["benchmark"] = "dashboard",
            ["backend"] = backend == "postgres" ? "postgres" : "azurite",
            ["runsStored"] = runs,
            ["seeding"] = seeding,
            ["loadAverage1m"] = load,
            ["firstRenderRunsMs"] = runsRender,
            ["firstRenderRunPageMs"] = runRender,
            ["timeline"] = new JsonObject { ["taskRuns"] = tasks, ["firstRenderMs"] = wideRender, ["scroll"] = scroll },
            ["apiRequestsPerViewChange"] = changes,
            ["jsGzipBytes"] = GzipSize(),
            ["method"] = "Chromium (Debian, headless) at 1280x720 via Playwright; each sample is a full navigation (page.goto) and the figure is performance.now() when the first row is in the DOM (ms from navigation start); assets cached after the first sample. Requests counted are the page's /api/ requests within 1.5 s after a click on an in-app link.",
        };
        var json = result.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
        Console.WriteLine(json);
        if (output is not null)
        {
            await File.WriteAllTextAsync(output, json, ct);
        }

        return 0;
    }

    private static async Task<JsonObject> FirstRenderAsync(IPage page, string path, string selector, int samples)
    {
        var latencies = new Latencies();
        for (var i = 0; i < samples; i++)
        {
            await page.GotoAsync(path, new PageGotoOptions { WaitUntil = WaitUntilState.Commit });
            var handle = await page.WaitForFunctionAsync($"document.querySelector({JsonSerializer.Serialize(selector)}) ? performance.now() : 0");
            latencies.Add(await handle.JsonValueAsync<double>());
        }

        return latencies.ToJson();
    }

    private static async Task<JsonObject> ScrollTimelineAsync(IPage page)
    {
        // Scrolls the timeline from top to bottom, one step per animation frame, and records the frame intervals.
        var frames = await page.EvaluateAsync<double[]>(@"async () => {
            const el = document.querySelector('.tl-scroll');
            const times = [];
            let last = performance.now();
            while (el.scrollTop + el.clientHeight < el.scrollHeight - 1) {
                el.scrollTop += 120;
                el.dispatchEvent(new Event('scroll'));
                await new Promise(r => requestAnimationFrame(r));
                const now = performance.now();
                times.push(now - last);
                last = now;
            }
            return times;
        }");
        var latencies = new Latencies();
        foreach (var f in frames)
        {
            latencies.Add(f);
        }

        var json = latencies.ToJson();
        json["framesOver50Ms"] = frames.Count(f => f > 50);
        json["rowsInDom"] = await page.Locator(".tl-row").CountAsync();
        return json;
    }

    private static long GzipSize()
    {
        var root = Path.Combine(Path.GetDirectoryName(RepoPaths.FunctionsAssembly)!, "wwwroot");
        var index = File.ReadAllText(Path.Combine(root, "index.html"));
        long total = 0;
        foreach (var file in Directory.GetFiles(Path.Combine(root, "assets"), "*.js").Where(f => index.Contains(Path.GetFileName(f), StringComparison.Ordinal) || Path.GetFileName(f).StartsWith("Home-", StringComparison.Ordinal)))
        {
            using var buffer = new MemoryStream();
            using (var gzip = new GZipStream(buffer, CompressionLevel.SmallestSize, leaveOpen: true))
            {
                gzip.Write(File.ReadAllBytes(file));
            }

            total += buffer.Length;
        }

        return total;
    }

    private static double? LoadAverage()
    {
        try
        {
            return double.Parse(File.ReadAllText("/proc/loadavg").Split(' ')[0], CultureInfo.InvariantCulture);
        }
        catch (IOException)
        {
            return null;
        }
    }
}
