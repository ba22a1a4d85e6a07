using Flow.Client;
using Flow.TestSupport;

namespace Flow.Cli.Tests;

/// <summary>The built Flow app (with the samples) running as a process on the test assembly's Azurite, and the <c>flow</c> CLI run against it as a process.</summary>
internal sealed class CliApp : IAsyncDisposable
{
    public const string Key = "cli-test-api-key-0123456789";

    private readonly ProcessRunner _app;
    private readonly ITestOutputHelper _output;

    private CliApp(ProcessRunner app, int port, ITestOutputHelper output)
    {
        _app = app;
        Port = port;
        _output = output;
    }

    public int Port { get; }

    public static string CliAssembly => Path.Combine(RepoPaths.Root, "src", "Flow.Cli", "bin", RepoPaths.Configuration, RepoPaths.TargetFramework, "flow.dll");

    /// <summary>Starts the app with its own table and queue prefixes and waits until it is healthy.</summary>
    public static async Task<CliApp> StartAsync(AzuriteFixture azurite, ITestOutputHelper output, TestDeadline deadline)
    {
        var port = FreePorts.Next();
        var prefix = "cli" + UniqueNames.Suffix()[..8].ToLowerInvariant().Replace("_", "", StringComparison.Ordinal);
        var app = new CliApp(ProcessRunner.Start(RepoPaths.DotNetHost, [RepoPaths.FunctionsAssembly, "--urls", $"http://127.0.0.1:{port}"], new ProcessRunnerOptions
        {
            WorkingDirectory = RepoPaths.Root,
            Environment = new Dictionary<string, string?>
            {
                ["AzureWebJobsStorage"] = azurite.ConnectionString,
                ["FUNCTIONS_CUSTOMHANDLER_PORT"] = null,
                ["Flow__Storage__Azure__TablePrefix"] = "C" + prefix,
                ["Flow__Storage__Azure__QueuePrefix"] = prefix + "-",
                ["Flow__App__ApiKey"] = Key,
                ["Flow__App__FlowAssemblies__0"] = RepoPaths.SamplesAssembly,
                ["Flow__Worker__MaxPollInterval"] = "00:00:00.200",
            },
        }), port, output);
        using var api = new FlowClient(new Uri($"http://127.0.0.1:{port}"));
        await deadline.PollUntilAsync(async ct =>
        {
            Assert.False(app._app.HasExited, app._app.Output);
            try
            {
                return (await api.GetHealthAsync(ct)).Status == "healthy";
            }
            catch (FlowApiException)
            {
                return false;
            }
            catch (HttpRequestException)
            {
                return false;
            }
        }, "the app to be healthy");
        return app;
    }

    /// <summary>Options that point the CLI at the app, with colours off (as a pipe would anyway).</summary>
    public static ProcessRunnerOptions CliOptions(int port) => new()
    {
        WorkingDirectory = RepoPaths.Root,
        Environment = new Dictionary<string, string?> { ["FLOW_API_URL"] = $"http://127.0.0.1:{port}", ["FLOW_API_KEY"] = Key, ["NO_COLOR"] = "1" },
    };

    /// <summary>Runs <c>flow args</c> to its end.</summary>
    public Task<ProcessResult> FlowAsync(CancellationToken ct, params string[] args) => RunFlowAsync(Port, _output, ct, args);

    /// <summary>Starts <c>flow args</c> without waiting for it.</summary>
    public ProcessRunner StartFlow(params string[] args) => ProcessRunner.Start(RepoPaths.DotNetHost, [CliAssembly, .. args], CliOptions(Port));

    /// <summary>Runs <c>flow args</c> against the API on <paramref name="port"/> and logs what it printed.</summary>
    public static async Task<ProcessResult> RunFlowAsync(int port, ITestOutputHelper output, CancellationToken ct, params string[] args)
    {
        var result = await ProcessRunner.RunAsync(RepoPaths.DotNetHost, [CliAssembly, .. args], CliOptions(port), ct);
        output.WriteLine($"$ flow {string.Join(' ', args)} -> {result.ExitCode}\n{result.Output}");
        return result;
    }

    public ValueTask DisposeAsync() => _app.DisposeAsync();
}
