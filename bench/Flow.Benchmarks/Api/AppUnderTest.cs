using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using Flow.LocalServices;

namespace Flow.Benchmarks.Api;

/// <summary>
/// The built Flow.Functions executable as a real subprocess, standalone, on one storage account: started with the
/// API key and the samples, timed to its first HTTP answer and to <c>/api/health</c> saying healthy, and killed (its
/// whole process tree) on dispose. Its console output is kept (not echoed); warnings and errors are counted.
/// </summary>
internal sealed class AppUnderTest : IAsyncDisposable
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(120);
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(10);

    private readonly ProcessRunner _process;
    private readonly ConcurrentDictionary<string, int> _logKinds = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, string> _logExamples = new(StringComparer.Ordinal);
    private string? _lastKind;
    private int _warnings;
    private int _errors;

    private AppUnderTest(ProcessRunner process, int port, string apiKey)
    {
        _process = process;
        Port = port;
        ApiKey = apiKey;
    }

    public int Port { get; }

    /// <summary>The app's process id.</summary>
    public int ProcessId => _process.Id;

    /// <summary>The API key the app was started with (random per run; never printed).</summary>
    public string ApiKey { get; }

    /// <summary>Process start → the first HTTP answer of any kind.</summary>
    public TimeSpan FirstAnswer { get; private set; }

    /// <summary>Process start → <c>GET /api/health</c> answering <c>"status":"healthy"</c>.</summary>
    public TimeSpan Healthy { get; private set; }

    /// <summary>Console lines at warning level (<c>warn:</c>) so far.</summary>
    public int Warnings => Volatile.Read(ref _warnings);

    /// <summary>Console lines at error or critical level (<c>fail:</c>, <c>crit:</c>) so far.</summary>
    public int Errors => Volatile.Read(ref _errors);

    /// <summary>Warning and error lines so far by their first line (level, category and event id), with counts.</summary>
    public IReadOnlyDictionary<string, int> LogKinds => _logKinds;

    /// <summary>The message of the first line of each kind in <see cref="LogKinds"/> (its first 300 characters).</summary>
    public IReadOnlyDictionary<string, string> LogExamples => _logExamples;

    /// <summary>The app's console output so far (stdout then stderr), for diagnosing a failure.</summary>
    public string Output => _process.Output;

    /// <summary>Builds Flow.Functions (Release, like this benchmark) when asked to or when its build output is missing.</summary>
    public static async Task EnsureBuiltAsync(bool force, CancellationToken cancellationToken)
    {
        if (!force && File.Exists(RepoPaths.FunctionsAssembly))
        {
            return;
        }

        Console.Error.WriteLine($"api: building functions ({RepoPaths.Configuration})…");
        var project = Path.Combine(RepoPaths.Root, "functions", "Flow.Functions.csproj");
        var result = await ProcessRunner.RunAsync(RepoPaths.DotNetHost, ["build", project, "-c", RepoPaths.Configuration, "-nologo", "-v", "q"],
            new ProcessRunnerOptions { WorkingDirectory = RepoPaths.Root }, cancellationToken).ConfigureAwait(false);
        if (result.ExitCode != 0 || !File.Exists(RepoPaths.FunctionsAssembly))
        {
            throw new InvalidOperationException($"Building Flow.Functions failed ({result.ExitCode}):\n{result.Output}");
        }
    }

    /// <summary>Starts the app on a free loopback port and waits until it is healthy, timing both steps.</summary>
    public static async Task<AppUnderTest> StartAsync(string? storageConnectionString, CancellationToken cancellationToken, string? postgresConnectionString = null)
    {
        var port = FreePorts.Next();
        var apiKey = "bench-" + Convert.ToHexString(RandomNumberGenerator.GetBytes(16));
        AppUnderTest? app = null;
        var clock = Stopwatch.StartNew();
        var process = ProcessRunner.Start(RepoPaths.DotNetHost, [RepoPaths.FunctionsAssembly, "--urls", $"http://127.0.0.1:{port}"], new ProcessRunnerOptions
        {
            WorkingDirectory = RepoPaths.Root,
            OnOutputLine = line => app?.Count(line),
            MaxCapturedLines = 2_000,
            Environment = new Dictionary<string, string?>
            {
                ["AzureWebJobsStorage"] = storageConnectionString,
                ["FUNCTIONS_CUSTOMHANDLER_PORT"] = null,
                ["Flow__App__ApiKey"] = apiKey,
                ["Flow__App__FlowAssemblies__0"] = RepoPaths.SamplesAssembly,
                ["ASPNETCORE_ENVIRONMENT"] = "Production",
                ["DOTNET_ENVIRONMENT"] = "Production",
                ["Flow__Storage__Backend"] = postgresConnectionString is null ? null : "Postgres",
                ["ConnectionStrings__Flow"] = postgresConnectionString,
            },
        });
        app = new AppUnderTest(process, port, apiKey);
        try
        {
            await app.WaitHealthyAsync(clock, cancellationToken).ConfigureAwait(false);
            return app;
        }
        catch
        {
            await app.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    /// <summary>An HTTP client for the app's API (base address <c>/api/</c>, API key header) with a connection pool large enough for open-loop load.</summary>
    public HttpClient CreateClient()
    {
        var handler = new SocketsHttpHandler
        {
            MaxConnectionsPerServer = 512,
            PooledConnectionIdleTimeout = TimeSpan.FromMinutes(5),
            ConnectTimeout = TimeSpan.FromSeconds(10),
            UseProxy = false,
            AutomaticDecompression = DecompressionMethods.None,
        };
        var http = new HttpClient(handler) { BaseAddress = new Uri($"http://127.0.0.1:{Port}/api/"), Timeout = TimeSpan.FromSeconds(60) };
        http.DefaultRequestHeaders.Add("X-Flow-Api-Key", ApiKey);
        return http;
    }

    /// <summary>The app's resident set size (VmRSS from /proc/PID/status) in MB, or null when it cannot be read.</summary>
    public double? ResidentMegabytes()
    {
        try
        {
            var line = File.ReadLines($"/proc/{_process.Id}/status").FirstOrDefault(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
            var kilobytes = line?.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1];
            return kilobytes is null ? null : Math.Round(long.Parse(kilobytes, CultureInfo.InvariantCulture) / 1024.0, 1);
        }
        catch (IOException)
        {
            return null;
        }
    }

    /// <summary>Throws, with the app's output, if the app has exited.</summary>
    public void EnsureRunning()
    {
        if (_process.HasExited)
        {
            throw new InvalidOperationException($"Flow.Functions exited with {_process.ExitCode}. Output:\n{Tail(Output)}");
        }
    }

    /// <summary>Kills the app's process tree.</summary>
    public ValueTask DisposeAsync() => _process.DisposeAsync();

    private static string Tail(string text) => text.Length <= 4_000 ? text : "…" + text[^4_000..];

    private async Task WaitHealthyAsync(Stopwatch clock, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(StartTimeout);
        using var http = new HttpClient(new SocketsHttpHandler { UseProxy = false }) { BaseAddress = new Uri($"http://127.0.0.1:{Port}/"), Timeout = TimeSpan.FromSeconds(5) };
        var answered = false;
        try
        {
            while (true)
            {
                EnsureRunning();
                try
                {
                    using var response = await http.GetAsync("api/health", timeout.Token).ConfigureAwait(false);
                    if (!answered)
                    {
                        FirstAnswer = clock.Elapsed;
                        answered = true;
                    }

                    var body = await response.Content.ReadAsStringAsync(timeout.Token).ConfigureAwait(false);
                    if (response.IsSuccessStatusCode && body.Contains("\"status\":\"healthy\"", StringComparison.Ordinal))
                    {
                        Healthy = clock.Elapsed;
                        return;
                    }
                }
                catch (HttpRequestException)
                {
                    // Not listening yet.
                }
                catch (TaskCanceledException) when (!timeout.IsCancellationRequested)
                {
                    // One health request timed out: ask again.
                }

                await Task.Delay(PollInterval, timeout.Token).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException e) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException($"Flow.Functions was not healthy within {StartTimeout.TotalSeconds} s. Output:\n{Tail(Output)}", e);
        }
    }

    private void Count(string line)
    {
        // The console logger's level prefixes; stderr lines arrive prefixed with "err: ".
        var text = line.StartsWith("err: ", StringComparison.Ordinal) ? line[5..] : line;
        if (Interlocked.Exchange(ref _lastKind, null) is { } kind)
        {
            var message = text.Trim();
            _logExamples.TryAdd(kind, message.Length <= 300 ? message : message[..300] + "…");
        }

        if (text.StartsWith("warn:", StringComparison.Ordinal))
        {
            Interlocked.Increment(ref _warnings);
        }
        else if (text.StartsWith("fail:", StringComparison.Ordinal) || text.StartsWith("crit:", StringComparison.Ordinal))
        {
            Interlocked.Increment(ref _errors);
        }
        else
        {
            return;
        }

        var key = text.Trim();
        _logKinds.AddOrUpdate(key, 1, (_, n) => n + 1);
        Volatile.Write(ref _lastKind, key); // the console logger writes the message on the next line
    }
}
