using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Flow.Engine;
using Flow.ControlPlane;
using Flow.Engine.Storage;
using Flow.Sdk;
using Flow.Storage.Azure;
using Flow.LocalServices;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Flow.Benchmarks.Process;

/// <summary>
/// <c>-- process [--runs 40] [--output file.json]</c>: the process worker standalone (<c>flow worker start</c> as its own process)
/// on a private Azurite. Triggers runs of a process deployment one at a time; each subprocess prints its start time
/// (<c>date +%s%N</c>); queued → started is that minus the run's creation time. Also the worker's resident memory while idle.
/// </summary>
public static class ProcessBenchmark
{
    public static async Task<int> RunAsync(string[] args)
    {
        var runs = 40;
        string? output = null;
        for (var i = 0; i < args.Length - 1; i++)
        {
            if (args[i] == "--runs")
            {
                runs = int.Parse(args[++i], CultureInfo.InvariantCulture);
            }
            else if (args[i] == "--output")
            {
                output = args[++i];
            }
        }

        await using var azurite = new LocalAzurite();
        await azurite.StartAsync(CancellationToken.None);
        var settings = new Dictionary<string, string?>
        {
            ["AzureWebJobsStorage"] = azurite.ConnectionString,
            ["Flow:Storage:Azure:TablePrefix"] = "Pbench",
            ["Flow:Storage:Azure:QueuePrefix"] = "pbench-",
        };
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var services = new ServiceCollection();
        services.AddFlowAzureStorage(configuration);
        services.AddFlow().AddEngine(configuration).AddControlPlane(configuration);
        await using var provider = services.BuildServiceProvider();
        await provider.GetRequiredService<IFlowStore>().InitializeAsync(CancellationToken.None);
        await provider.GetRequiredService<IControlStore>().InitializeAsync(CancellationToken.None);
        var deployments = provider.GetRequiredService<DeploymentService>();
        var store = provider.GetRequiredService<IFlowStore>();
        await deployments.PutPoolAsync("bench", new WorkPoolSpec { Type = WorkPoolRecord.ProcessType }, CancellationToken.None);
        await deployments.ApplyAsync(new DeploymentSpec { Flow = "bench", Name = "date", Pool = "bench", Entrypoint = new EntrypointSpec { Kind = DeploymentEntrypoint.ProcessKind, Command = ["date", "+%s%N"] } }, "bench", CancellationToken.None);

        var environment = settings.ToDictionary(kv => kv.Key.Replace(":", "__", StringComparison.Ordinal), kv => kv.Value);
        var cli = Path.Combine(RepoPaths.Root, "src", "Flow.Cli", "bin", RepoPaths.Configuration, RepoPaths.TargetFramework, "flow.dll");
        await using var worker = ProcessRunner.Start(RepoPaths.DotNetHost, [cli, "worker", "start", "--pool", "bench", "--api", "http://127.0.0.1:9", "--allow", "date"], new ProcessRunnerOptions { Environment = environment });
        using var ready = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await worker.WaitForOutputAsync(l => l.Contains("serving process pool", StringComparison.Ordinal), ready.Token);
        await Task.Delay(TimeSpan.FromSeconds(3));
        var idleRss = ReadRssKiB(worker.Id);

        var samples = new List<double>();
        for (var i = 0; i < runs + 3; i++)
        {
            var run = (await deployments.TriggerAsync("bench/date", new TriggerRequest(), CancellationToken.None)).Run;
            FlowRunRecord final;
            while (true)
            {
                final = (await store.GetRunAsync(run.RunId, CancellationToken.None))!.Record;
                if (final.State.IsFinal())
                {
                    break;
                }

                await Task.Delay(10);
            }

            var logs = await store.GetLogsAsync(run.RunId, 100, null, CancellationToken.None);
            var printed = logs.Lines.Select(l => l.Message).FirstOrDefault(m => m.Length > 15 && m.All(char.IsAsciiDigit));
            if (i >= 3 && printed is not null)
            {
                var started = DateTimeOffset.FromUnixTimeMilliseconds(long.Parse(printed, CultureInfo.InvariantCulture) / 1_000_000);
                samples.Add((started - run.CreatedAt).TotalMilliseconds);
            }
        }

        var afterRss = ReadRssKiB(worker.Id);
        samples.Sort();
        var result = new JsonObject
        {
            ["benchmark"] = "process-worker",
            ["runs"] = samples.Count,
            ["queuedToStartedMs"] = new JsonObject
            {
                ["p50"] = Math.Round(Percentile(samples, 0.5), 1),
                ["p95"] = Math.Round(Percentile(samples, 0.95), 1),
                ["min"] = Math.Round(samples.FirstOrDefault(), 1),
                ["max"] = Math.Round(samples.LastOrDefault(), 1),
            },
            ["goalP50Ms"] = 500,
            ["workerIdleRssMiB"] = Math.Round(idleRss / 1024.0, 1),
            ["workerRssAfterRunsMiB"] = Math.Round(afterRss / 1024.0, 1),
            ["machine"] = new JsonObject { ["processors"] = Environment.ProcessorCount, ["os"] = System.Runtime.InteropServices.RuntimeInformation.OSDescription },
        };
        var json = result.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
        Console.WriteLine(json);
        if (output is not null)
        {
            await File.WriteAllTextAsync(output, json);
        }

        return 0;
    }

    private static double Percentile(List<double> sorted, double p) =>
        sorted.Count == 0 ? double.NaN : sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Count) - 1, 0, sorted.Count - 1)];

    private static long ReadRssKiB(int pid)
    {
        var line = File.ReadLines($"/proc/{pid}/status").FirstOrDefault(l => l.StartsWith("VmRSS:", StringComparison.Ordinal));
        return line is null ? 0 : long.Parse(line["VmRSS:".Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
    }
}
