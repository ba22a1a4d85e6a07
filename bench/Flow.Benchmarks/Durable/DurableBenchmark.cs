using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Flow.Benchmarks.Engine;
using Flow.Sdk;
using Flow.LocalServices;

namespace Flow.Benchmarks.Durable;

/// <summary>
/// <c>Flow.Benchmarks durable</c>: Flow's engine and the Durable Task Framework (DurableTask.Core + DurableTask.AzureStorage,
/// the engine under Durable Functions) on the same work, in one run, on one private Azurite: (a) 1,000 sequential no-op
/// activities in one orchestration, (b) a fan-out/fan-in of 1,000, (c) 100 orchestrations of 5 activities started at
/// once. Each measurement gets fresh tables/queues (Flow) or a fresh task hub (Durable); the two alternate which goes first
/// per round; items/s = activities / (last completion - start). Prints JSON on stdout.
/// </summary>
/// <remarks>
/// Both sides run one worker in this process with default settings, except Durable's MaxQueuePollingInterval (1 s, as
/// Flow's worker; Durable Functions' default is 30 s). Flow's activities are its inline tasks (ctx.RunTaskAsync /
/// ctx.MapAsync, journaled by the run's episode); Durable's are activities dispatched through its work-item queue.
/// </remarks>
internal static class DurableBenchmark
{
    private static readonly TimeSpan RoundTimeout = TimeSpan.FromMinutes(10);

    public static async Task<int> RunAsync(string[] args)
    {
        var rounds = 1;
        string? output = null;
        var scale = 1.0;
        for (var i = 0; i < args.Length; i++)
        {
            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value.");
            switch (args[i])
            {
                case "--rounds": rounds = Math.Max(1, int.Parse(Next(), CultureInfo.InvariantCulture)); break;
                case "--output": output = Next(); break;
                case "--scale": scale = double.Parse(Next(), CultureInfo.InvariantCulture); break;
                default: throw new ArgumentException($"Unknown option {args[i]}. Options: --rounds N, --output FILE, --scale F (multiplies the activity counts, for a quick try).");
            }
        }

        int Scaled(int n) => Math.Max(1, (int)(n * scale));
        var scenarios = new (string Name, string Description, Type Orchestration, string FlowName, int Activities, int Instances)[]
        {
            ("a-sequential", $"{Scaled(1000)} sequential no-op activities in one orchestration", typeof(SequentialOrchestration), BenchFlows.Sequential, Scaled(1000), 1),
            ("b-fanout", $"fan-out/fan-in of {Scaled(1000)} no-op activities in one orchestration", typeof(FanOutOrchestration), BenchFlows.FanOut, Scaled(1000), 1),
            ("c-many", $"{Scaled(100)} orchestrations of 5 sequential no-op activities started at once", typeof(SequentialOrchestration), BenchFlows.Sequential, 5, Scaled(100)),
        };

        await using var azurite = new LocalAzurite();
        await azurite.StartAsync(CancellationToken.None);
        var tag = Guid.NewGuid().ToString("N")[..6];
        var load = new List<string> { Uptime() };
        var results = new JsonArray();

        // A small warm-up of each side (JIT, connections, table creation paths), not counted.
        await FlowAsync(azurite.ConnectionString, $"{tag}w", BenchFlows.Sequential, 5, 2);
        await DurableTaskBaseline.RunAsync(azurite.ConnectionString, $"hub{tag}w", typeof(SequentialOrchestration), 5, 2, 10, CancellationToken.None);

        foreach (var (name, description, orchestration, flowName, activities, instances) in scenarios)
        {
            var items = activities * instances;
            var flowSeconds = new List<double>();
            var durableSeconds = new List<double>();
            for (var round = 0; round < rounds; round++)
            {
                var id = $"{tag}{name[0]}{round}";
                async Task FlowSide() => flowSeconds.Add(await FlowAsync(azurite.ConnectionString, id, flowName, activities, instances));
                async Task DurableSide()
                {
                    using var timeout = new CancellationTokenSource(RoundTimeout);
                    durableSeconds.Add(await DurableTaskBaseline.RunAsync(azurite.ConnectionString, $"hub{id}", orchestration, activities, instances, BenchFlows.ExpectedResult(activities), timeout.Token));
                }

                if (round % 2 == 0)
                {
                    await FlowSide();
                    await DurableSide();
                }
                else
                {
                    await DurableSide();
                    await FlowSide();
                }

                await Console.Error.WriteLineAsync($"{name,-14} round {round + 1}: flow {items / flowSeconds[^1],8:F1} items/s ({flowSeconds[^1]:F2} s)  durable {items / durableSeconds[^1],8:F1} items/s ({durableSeconds[^1]:F2} s)");
            }

            var flow = items / Median(flowSeconds);
            var durable = items / Median(durableSeconds);
            results.Add(new JsonObject
            {
                ["scenario"] = name,
                ["description"] = description,
                ["items"] = items,
                ["flowItemsPerSecond"] = Math.Round(flow, 1),
                ["durableItemsPerSecond"] = Math.Round(durable, 1),
                ["ratioFlowToDurable"] = Math.Round(flow / durable, 2),
                ["flowSeconds"] = new JsonArray(flowSeconds.Select(s => (JsonNode)Math.Round(s, 3)).ToArray()),
                ["durableSeconds"] = new JsonArray(durableSeconds.Select(s => (JsonNode)Math.Round(s, 3)).ToArray()),
            });
            load.Add(Uptime());
        }

        var report = new JsonObject
        {
            ["benchmark"] = "flow-vs-durabletask",
            ["target"] = "one private Azurite (npm azurite, in-memory, loopback) shared by both sides, in one run",
            ["durableTask"] = "Microsoft.Azure.DurableTask.Core 3.11.3 + Microsoft.Azure.DurableTask.AzureStorage 2.11.3, one TaskHubWorker in process, defaults except MaxQueuePollingInterval 1 s",
            ["flow"] = "FlowEngine + one FlowWorker in process (AddFlow().AddEngine().AddWorker(), defaults) on the Azure store and queue",
            ["rounds"] = rounds,
            ["statistic"] = "items / median seconds over the rounds; rounds alternate which side goes first",
            ["processors"] = Environment.ProcessorCount,
            ["uptime"] = new JsonArray(load.Select(l => (JsonNode)l).ToArray()),
            ["results"] = results,
        };
        var json = report.ToJsonString(new JsonSerializerOptions { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
        Console.WriteLine(json);
        if (output is not null)
        {
            await File.WriteAllTextAsync(output, json);
        }

        return 0;
    }

    /// <summary>Flow's side: <paramref name="instances"/> runs of <paramref name="flowName"/> started at once on fresh tables; seconds to the last final state.</summary>
    private static async Task<double> FlowAsync(string connectionString, string prefix, string flowName, int activities, int instances)
    {
        using var timeout = new CancellationTokenSource(RoundTimeout);
        await using var node = await EngineNode.StartAsync(new BackendSpec.Azure(connectionString, prefix), "bench-durable-" + prefix, runWorker: true, timeout.Token);
        var input = new BenchInput(activities, Math.Min(activities, 1000));
        var clock = Stopwatch.StartNew();
        var runs = await Task.WhenAll(Enumerable.Range(0, instances).Select(_ => node.Engine.StartRunAsync(flowName, input, cancellationToken: timeout.Token)));
        var expected = BenchFlows.ExpectedResult(activities).ToString(CultureInfo.InvariantCulture);
        foreach (var run in runs)
        {
            while (true)
            {
                var record = await node.Engine.GetRunAsync(run.RunId, timeout.Token);
                if (record is not null && record.State.IsFinal())
                {
                    if (record.State != RunState.Completed || record.Result != expected)
                    {
                        throw new InvalidOperationException($"Flow run {run.RunId} ended {record.State} with {record.Result}: {record.Failure?.Message}");
                    }

                    break;
                }

                await Task.Delay(TimeSpan.FromMilliseconds(50), timeout.Token);
            }
        }

        return clock.Elapsed.TotalSeconds;
    }

    private static double Median(List<double> values) => values.Order().ElementAt(values.Count / 2);

    private static string Uptime() =>
        $"{DateTimeOffset.UtcNow:HH:mm:ss}Z load {(File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Trim() : "n/a")}";
}
