using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text.Json;
using Flow.TestSupport;

namespace Flow.Functions.Tests;

/// <summary>Starts the built Flow.Functions executable as a real subprocess, the way the Functions host and ./flow.sh do.</summary>
public sealed class FunctionsAppProcessTests(ITestOutputHelper output, AzuriteFixture azurite)
{
    private static readonly TimeSpan MaxStartup = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Standalone_WithUrls_AnswersHealthWithin30Seconds()
    {
        using var deadline = TestDeadline.Create(TimeSpan.FromSeconds(60));
        var port = FreePorts.Next();

        var (health, startup) = await StartAndGetHealthAsync(
            ["--urls", $"http://127.0.0.1:{port}"], new Dictionary<string, string?> { ["FUNCTIONS_CUSTOMHANDLER_PORT"] = null, ["AzureWebJobsStorage"] = azurite.ConnectionString },
            port, deadline);

        Assert.Equal("healthy", health.GetProperty("status").GetString());
        Assert.Equal("standalone", health.GetProperty("mode").GetString());
        Assert.False(string.IsNullOrWhiteSpace(health.GetProperty("version").GetString()));
        Assert.True(startup < MaxStartup, $"Startup took {startup.TotalSeconds:0.0} s.");
    }

    [Fact]
    public async Task UnderTheFunctionsHost_ListensOnTheCustomHandlerPort_AndReportsFunctionsMode()
    {
        using var deadline = TestDeadline.Create(TimeSpan.FromSeconds(60));
        var port = FreePorts.Next();

        var (health, startup) = await StartAndGetHealthAsync(
            [], new Dictionary<string, string?>
            {
                ["FUNCTIONS_CUSTOMHANDLER_PORT"] = port.ToString(CultureInfo.InvariantCulture),
                ["ASPNETCORE_URLS"] = null,
                ["DOTNET_URLS"] = null,
                ["AzureWebJobsStorage"] = azurite.ConnectionString,
            },
            port, deadline);

        Assert.Equal("healthy", health.GetProperty("status").GetString());
        Assert.Equal("functions", health.GetProperty("mode").GetString());
        Assert.True(startup < MaxStartup, $"Startup took {startup.TotalSeconds:0.0} s.");
    }

    [Fact]
    public async Task Start_WithoutStorageSetting_ExitsWithAMessageNamingIt()
    {
        using var deadline = TestDeadline.Create(TimeSpan.FromSeconds(60));
        var result = await ProcessRunner.RunAsync(RepoPaths.DotNetHost, [RepoPaths.FunctionsAssembly, "--urls", $"http://127.0.0.1:{FreePorts.Next()}"], new ProcessRunnerOptions
        {
            WorkingDirectory = Path.GetDirectoryName(RepoPaths.FunctionsAssembly),
            Environment = new Dictionary<string, string?> { ["AzureWebJobsStorage"] = null, ["FUNCTIONS_CUSTOMHANDLER_PORT"] = null },
        }, deadline);

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("flow: error: The storage setting 'AzureWebJobsStorage' is missing", result.Output, StringComparison.Ordinal);
    }

    private async Task<(JsonElement Health, TimeSpan Startup)> StartAndGetHealthAsync(
        IEnumerable<string> appArguments, Dictionary<string, string?> environment, int port, TestDeadline deadline)
    {
        var dll = RepoPaths.FunctionsAssembly;
        Assert.True(File.Exists(dll), $"Build the app first: dotnet build functions/Flow.Functions.csproj -c {RepoPaths.Configuration} (missing {dll}).");
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        var healthUri = new Uri($"http://127.0.0.1:{port}/api/health");

        var stopwatch = Stopwatch.StartNew();
        await using var app = ProcessRunner.Start(RepoPaths.DotNetHost, [dll, .. appArguments], new ProcessRunnerOptions
        {
            WorkingDirectory = Path.GetDirectoryName(dll),
            Environment = environment,
            OnOutputLine = output.WriteLine,
        });

        HttpResponseMessage? response = null;
        await deadline.PollUntilAsync(async ct =>
        {
            Assert.False(app.HasExited, $"Flow.Functions exited with {app.ExitCode}:\n{app.Output}");
            response?.Dispose();
            response = await http.GetAsync(healthUri, ct);
            return (await response.Content.ReadAsStringAsync(ct)).Contains("\"healthy\"", StringComparison.Ordinal);
        }, $"Flow.Functions to report healthy at {healthUri}");
        var startup = stopwatch.Elapsed;

        using (response)
        {
            Assert.Equal(HttpStatusCode.OK, response!.StatusCode);
            Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
            var body = await response.Content.ReadAsStringAsync(deadline.Token);
            output.WriteLine($"startup {startup.TotalMilliseconds:0} ms: {body}");
            return (JsonDocument.Parse(body).RootElement.Clone(), startup);
        }
    }
}
