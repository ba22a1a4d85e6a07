using System.Globalization;
using System.Text.Json;
using Flow.Engine;
using Flow.ControlPlane;
using Flow.Engine.Storage;
using Flow.Functions;
using Flow.Sdk;
using Flow.TestSupport;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Flow.Process.Tests;

/// <summary>
/// The Flow app started in this process on a real loopback port against the assembly's Azurite (own table and queue prefixes),
/// optionally with its process worker serving the test's pool; short leases so crash tests take seconds.
/// </summary>
internal sealed class ProcessTestApp : IAsyncDisposable
{
    private ProcessTestApp(WebApplication app, string apiUrl, Dictionary<string, string?> settings, string pool)
    {
        App = app;
        ApiUrl = apiUrl;
        Settings = settings;
        Pool = pool;
    }

    public WebApplication App { get; }

    public string ApiUrl { get; }

    public string Pool { get; }

    /// <summary>The storage and engine settings, for worker processes (as environment variables).</summary>
    public Dictionary<string, string?> Settings { get; }

    public DeploymentService Deployments => App.Services.GetRequiredService<DeploymentService>();

    public FlowEngine Engine => App.Services.GetRequiredService<FlowEngine>();

    public IFlowStore Store => App.Services.GetRequiredService<IFlowStore>();

    public static Task<ProcessTestApp> StartAsync(AzuriteFixture azurite, CancellationToken cancellationToken, bool hostWorker = true, int? poolLimit = null) =>
        StartAsync(azurite, postgres: null, cancellationToken, hostWorker, poolLimit);

    /// <summary>Starts the app on Azurite, or on PostgreSQL alone (no Azure setting at all) when <paramref name="postgres"/> is given.</summary>
    public static async Task<ProcessTestApp> StartAsync(AzuriteFixture azurite, PostgresFixture? postgres, CancellationToken cancellationToken, bool hostWorker = true, int? poolLimit = null)
    {
        var suffix = UniqueNames.Suffix();
        var clean = new string([.. suffix.Where(char.IsAsciiLetterOrDigit)]).ToLowerInvariant();
        var tag = clean[..Math.Min(clean.Length, 10)];
        var pool = "proc-" + tag;
        var port = FreePorts.Next();
        var apiUrl = string.Create(CultureInfo.InvariantCulture, $"http://127.0.0.1:{port}");
        var settings = postgres is null
            ? new Dictionary<string, string?>
            {
                ["AzureWebJobsStorage"] = azurite.ConnectionString,
                ["Flow:Storage:Azure:TablePrefix"] = "P" + tag,
                ["Flow:Storage:Azure:QueuePrefix"] = "p" + tag + "-",
            }
            : new Dictionary<string, string?>
            {
                ["AzureWebJobsStorage"] = null,
                ["Flow:Storage:Backend"] = "Postgres",
                ["ConnectionStrings:Flow"] = postgres.ConnectionString,
                ["Flow:Storage:Postgres:Schema"] = UniqueNames.Schema("proc"),
            };
        foreach (var (key, value) in new Dictionary<string, string?>
        {
            ["Flow:Engine:LeaseDuration"] = "00:00:03",
            ["Flow:Engine:HeartbeatInterval"] = "00:00:01",
            ["Flow:ControlPlane:SlotRetryInterval"] = "00:00:00.100",
        })
        {
            settings[key] = value;
        }

        var config = new Dictionary<string, string?>(settings)
        {
            ["Flow:App:AllowAnonymousLoopback"] = "true",
            ["Flow:App:Roles"] = "api,worker",
            ["Flow:Worker:MaxPollInterval"] = "00:00:00.100",
            ["Flow:ProcessWorker:ApiUrl"] = apiUrl,
            ["Flow:ProcessWorker:GracePeriod"] = "00:00:01",
            ["Flow:ProcessWorker:MaxPollInterval"] = "00:00:00.100",
            ["Flow:ProcessWorker:AllowAnyExecutable"] = "true",
            ["Flow:Secrets:GREETING"] = "top-secret-value",
            ["FUNCTIONS_CUSTOMHANDLER_PORT"] = null,
        };
        if (hostWorker)
        {
            config["Flow:ProcessWorker:Pools:0"] = pool;
        }

        var app = FlowApp.Build(["--urls", apiUrl], _ => { }, builder => builder.Configuration.AddInMemoryCollection(config));
        await app.StartAsync(cancellationToken);
        using (var http = new HttpClient { BaseAddress = new Uri(apiUrl) })
        {
            while (true)
            {
                using var health = await http.GetAsync("/api/health", cancellationToken);
                if ((await health.Content.ReadAsStringAsync(cancellationToken)).Contains("\"healthy\"", StringComparison.Ordinal))
                {
                    break;
                }

                await Task.Delay(50, cancellationToken);
            }
        }

        var started = new ProcessTestApp(app, apiUrl, settings, pool);
        await started.Deployments.PutPoolAsync(pool, new WorkPoolSpec { Type = WorkPoolRecord.ProcessType, ConcurrencyLimit = poolLimit }, cancellationToken);
        return started;
    }

    /// <summary>Creates a process deployment on the test's pool.</summary>
    public async Task<string> DeployAsync(string name, IReadOnlyList<string> command, CancellationToken cancellationToken, int retries = 0, int? timeoutSeconds = null, Dictionary<string, string>? environment = null, object? parameters = null, int? concurrencyLimit = null, string flow = "script")
    {
        var result = await Deployments.ApplyAsync(new DeploymentSpec
        {
            Flow = flow,
            Name = name,
            Pool = Pool,
            ConcurrencyLimit = concurrencyLimit,
            Parameters = parameters is null ? null : JsonSerializer.SerializeToElement(parameters),
            Entrypoint = new EntrypointSpec
            {
                Kind = DeploymentEntrypoint.ProcessKind,
                Command = [.. command],
                Environment = environment,
                Retries = retries,
                RetryDelaySeconds = 0,
                TimeoutSeconds = timeoutSeconds,
            },
        }, "test", cancellationToken);
        return result.Name;
    }

    public async Task<string> TriggerAsync(string deployment, CancellationToken cancellationToken) =>
        (await Deployments.TriggerAsync(deployment, new TriggerRequest(), cancellationToken)).Run.RunId;

    public async Task<FlowRunRecord> WaitAsync(string runId, Func<FlowRunRecord, bool> condition, TestDeadline deadline, string what)
    {
        FlowRunRecord? last = null;
        await deadline.PollUntilAsync(async ct =>
        {
            last = (await Store.GetRunAsync(runId, ct))?.Record;
            return last is not null && condition(last);
        }, what + $" (run {runId}, last state {last?.State})");
        return last!;
    }

    public Task<FlowRunRecord> WaitFinalAsync(string runId, TestDeadline deadline) => WaitAsync(runId, r => r.State.IsFinal(), deadline, "a final state");

    public async Task<List<RunLogLine>> LogsAsync(string runId, CancellationToken cancellationToken)
    {
        var lines = new List<RunLogLine>();
        string? token = null;
        do
        {
            var page = await Store.GetLogsAsync(runId, 1000, token, cancellationToken);
            lines.AddRange(page.Lines);
            token = page.ContinuationToken;
        }
        while (token is not null);
        return lines;
    }

    /// <summary>Starts <c>flow worker start</c> as a separate process on this app's storage and pool.</summary>
    /// <param name="id">The worker id.</param>
    /// <param name="allow">The worker's <c>--allow</c> entries; null for <c>--allow-any-executable</c>.</param>
    /// <param name="environment">More variables of the worker's environment.</param>
    /// <param name="workingDirectory">The worker's working directory.</param>
    public ProcessRunner StartCliWorker(string id, IReadOnlyList<string>? allow = null, IReadOnlyDictionary<string, string?>? environment = null, string? workingDirectory = null)
    {
        var variables = Settings.ToDictionary(kv => kv.Key.Replace(":", "__", StringComparison.Ordinal), kv => kv.Value);
        variables["Flow__ProcessWorker__GracePeriod"] = "00:00:01";
        variables["Flow__ProcessWorker__MaxPollInterval"] = "00:00:00.100";
        foreach (var (k, v) in environment ?? new Dictionary<string, string?>())
        {
            variables[k] = v;
        }

        var cli = Path.Combine(RepoPaths.Root, "src", "Flow.Cli", "bin", RepoPaths.Configuration, RepoPaths.TargetFramework, "flow.dll");
        List<string> arguments = [cli, "worker", "start", "--pool", Pool, "--api", ApiUrl, "--id", id];
        arguments.AddRange(allow is null ? ["--allow-any-executable"] : allow.SelectMany(a => new[] { "--allow", a }));
        return ProcessRunner.Start(RepoPaths.DotNetHost, arguments, new ProcessRunnerOptions { Environment = variables, WorkingDirectory = workingDirectory });
    }

    public async ValueTask DisposeAsync()
    {
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await App.StopAsync(stop.Token);
        await App.DisposeAsync();
    }
}
