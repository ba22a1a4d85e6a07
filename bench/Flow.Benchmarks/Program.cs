using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Flow.Benchmarks;
using Flow.Benchmarks.Api;
using Flow.Benchmarks.Engine;
using Flow.Storage.Azure;
using Flow.TestSupport;

if (args is ["process", .. var processArgs])
{
    return await Flow.Benchmarks.Process.ProcessBenchmark.RunAsync(processArgs);
}

if (args is ["engine", .. var engineArgs])
{
    return await EngineBenchmark.RunAsync(engineArgs);
}

if (args is ["api", .. var apiArgs])
{
    return await ApiBenchmark.RunAsync(apiArgs);
}

if (args is ["dashboard", .. var dashboardArgs])
{
    return await Flow.Benchmarks.Dashboard.DashboardBenchmark.RunAsync(dashboardArgs);
}

if (args is ["sdk-vs-rest", .. var sdkArgs])
{
    return await Flow.Benchmarks.SdkVsRest.SdkVsRestBenchmark.RunAsync(sdkArgs);
}

if (args is ["durable", .. var durableArgs])
{
    return await Flow.Benchmarks.Durable.DurableBenchmark.RunAsync(durableArgs);
}

if (args is ["postgres", .. var postgresArgs])
{
    return await EngineBenchmark.RunAsync(["--backend", "postgres", .. postgresArgs]);
}

if (args is [ProcessBenchWorker.Mode, var workerId])
{
    return await ProcessBenchWorker.RunChildAsync(workerId);
}

// Flow's storage-client benchmark: operations per second for Flow's Table and Queue clients and, in the same
// run against the same Azurite, for the official Azure JS SDKs, with the ratio. Prints JSON on stdout.
// `-- engine [options]` runs the engine benchmark instead (Engine/EngineBenchmark.cs); `-- postgres [options]` runs it on
// a private PostgreSQL with pgbench's simple-update TPS measured in the same run (= `engine --backend postgres`);
// `-- api [options]` the API benchmark on the built app (Api/ApiBenchmark.cs); `-- sdk-vs-rest [options]` Flow's REST
// clients against the official .NET SDKs on one private Azurite (SdkVsRest/SdkVsRestBenchmark.cs); `-- durable [options]`
// Flow's engine against the Durable Task Framework on one private Azurite (Durable/DurableBenchmark.cs).
//   dotnet run -c Release --project bench/Flow.Benchmarks -- [--duration 3] [--warmup 0.5] [--concurrency 1,16]
//                                                          [--connection-string CS] [--output file.json] [--drain-messages 1000] [--rounds 3]
var options = BenchOptions.Parse(args);
var runId = Guid.NewGuid().ToString("N")[..8];
var results = new JsonArray();

// Without a connection string, each concurrency level gets a fresh private Azurite: Azurite is single-threaded
// and slows down (even stalls) with the state earlier levels leave behind, which would skew the later levels.
foreach (var concurrency in options.Concurrency)
{
    AzuriteFixture? azurite = null;
    var connectionString = options.ConnectionString;
    if (connectionString is null)
    {
        azurite = new AzuriteFixture();
        await azurite.InitializeAsync();
        connectionString = azurite.ConnectionString;
    }

    try
    {
        var connection = StorageConnection.Parse(connectionString, "--connection-string");
        var tables = new TableServiceClient(connection);
        var queues = new QueueServiceClient(connection);
        var tableName = $"bench{runId}c{concurrency}";
        var flowQueue = $"bench-{runId}-flow-c{concurrency}";
        var jsQueue = $"bench-{runId}-js-c{concurrency}";
        var flowTable = tables.GetTableClient(tableName + "flow");
        await flowTable.CreateIfNotExistsAsync();
        var queue = queues.GetQueueClient(flowQueue);
        await queue.CreateIfNotExistsAsync();
        await StorageOperations.SeedPointReadsAsync(flowTable);

        foreach (var operation in StorageOperations.Names)
        {
            // Azurite slows down as a table grows and with every message held in the account, so each sample of a
            // table write gets a fresh table, and receive+delete drains a fresh queue prefilled with the same number
            // of messages for each client (measured without warm-up); both are deleted afterwards.
            var drain = operation == "queue.receive-delete";
            var freshTable = operation is "table.upsert" or "table.batch100";
            var warmup = drain ? TimeSpan.Zero : options.Warmup;
            var jsName = operation.StartsWith("table.", StringComparison.Ordinal) ? tableName + "js" : jsQueue;
            var flowSamples = new List<Rate>();
            var jsSamples = new List<Rate>();

            async Task MeasureFlowAsync(int round)
            {
                var target = drain ? await StorageOperations.PrefillAsync(queues, $"drain-{runId}-flow-c{concurrency}-{round}", options.DrainMessages) : queue;
                var table = flowTable;
                if (freshTable)
                {
                    table = tables.GetTableClient($"{tableName}flow{round}");
                    await table.CreateIfNotExistsAsync();
                }

                flowSamples.Add(await Measure.RunAsync(concurrency, warmup, options.Duration,
                    worker => StorageOperations.Create(operation, table, target, worker)));
                if (drain)
                {
                    await target.DeleteIfExistsAsync();
                }

                if (freshTable)
                {
                    await table.DeleteIfExistsAsync();
                }
            }

            async Task MeasureJsAsync(int round)
            {
                var name = drain ? (await StorageOperations.PrefillAsync(queues, $"drain-{runId}-js-c{concurrency}-{round}", options.DrainMessages)).Name
                    : freshTable ? $"{tableName}js{round}" : jsName;
                jsSamples.Add(await JsPeer.RunAsync(operation, connectionString, name, concurrency, warmup, options.Duration));
                if (drain)
                {
                    await queues.GetQueueClient(name).DeleteIfExistsAsync();
                }

                if (freshTable)
                {
                    await tables.GetTableClient(name).DeleteIfExistsAsync();
                }
            }

            // Rounds alternate which client goes first, so drift in Azurite's speed does not favour either.
            for (var round = 0; round < options.Rounds; round++)
            {
                if (round % 2 == 0)
                {
                    await MeasureFlowAsync(round);
                    await MeasureJsAsync(round);
                }
                else
                {
                    await MeasureJsAsync(round);
                    await MeasureFlowAsync(round);
                }
            }

            var flow = Rate.Median(flowSamples);
            var js = Rate.Median(jsSamples);
            var ratio = js.OpsPerSecond > 0 ? flow.OpsPerSecond / js.OpsPerSecond : double.NaN;
            results.Add(new JsonObject
            {
                ["operation"] = operation,
                ["unit"] = operation == "table.batch100" ? "entities/s" : "operations/s",
                ["concurrency"] = concurrency,
                ["flow"] = flow.ToJson(flowSamples),
                ["officialJsSdk"] = js.ToJson(jsSamples),
                ["ratioFlowToJs"] = Math.Round(ratio, 3),
            });
            Console.Error.WriteLine($"{operation,-22} c={concurrency,-3} flow {flow.OpsPerSecond,9:F0}/s  js {js.OpsPerSecond,9:F0}/s  ratio {ratio:F2}  (median of {options.Rounds})");
        }

        // Leave nothing behind that would slow the next round's queue operations.
        await queue.DeleteIfExistsAsync();
        await queues.GetQueueClient(jsQueue).DeleteIfExistsAsync();
    }
    finally
    {
        if (azurite is not null)
        {
            await azurite.DisposeAsync();
        }
    }
}

var report = new JsonObject
{
    ["benchmark"] = "storage-clients",
    ["target"] = options.ConnectionString is not null ? "given connection string" : "a fresh private Azurite (npm azurite 3.37.0, in-memory, loopback) per concurrency level",
    ["machine"] = new JsonObject
    {
        ["processors"] = Environment.ProcessorCount,
        ["os"] = System.Runtime.InteropServices.RuntimeInformation.OSDescription,
        ["dotnet"] = Environment.Version.ToString(),
    },
    ["durationSeconds"] = options.Duration.TotalSeconds,
    ["warmupSeconds"] = options.Warmup.TotalSeconds,
    ["rounds"] = options.Rounds,
    ["statistic"] = "median of the rounds; rounds alternate which client runs first",
    ["goal"] = "Flow within 10% of the official client's rate, or better (ratioFlowToJs >= 0.9)",
    ["results"] = results,
    ["meetsGoal"] = results.All(r => r!["ratioFlowToJs"]!.GetValue<double>() >= 0.9),
};
var json = report.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
Console.WriteLine(json);
if (options.Output is not null)
{
    await File.WriteAllTextAsync(options.Output, json);
}

return 0;

namespace Flow.Benchmarks
{
    internal sealed record BenchOptions(TimeSpan Duration, TimeSpan Warmup, int[] Concurrency, string? ConnectionString, string? Output, int DrainMessages, int Rounds)
    {
        public static BenchOptions Parse(string[] args)
        {
            var duration = TimeSpan.FromSeconds(3);
            var warmup = TimeSpan.FromSeconds(0.5);
            int[] concurrency = [1, 16];
            string? connectionString = Environment.GetEnvironmentVariable("FLOW_BENCH_CONNECTION_STRING");
            string? output = null;
            var drainMessages = 1000;
            var rounds = 3;
            for (var i = 0; i < args.Length; i++)
            {
                string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value.");
                switch (args[i])
                {
                    case "--duration": duration = TimeSpan.FromSeconds(double.Parse(Next(), CultureInfo.InvariantCulture)); break;
                    case "--warmup": warmup = TimeSpan.FromSeconds(double.Parse(Next(), CultureInfo.InvariantCulture)); break;
                    case "--concurrency": concurrency = Next().Split(',').Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToArray(); break;
                    case "--connection-string": connectionString = Next(); break;
                    case "--output": output = Next(); break;
                    case "--drain-messages": drainMessages = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                    case "--rounds": rounds = Math.Max(1, int.Parse(Next(), CultureInfo.InvariantCulture)); break;
                    default: throw new ArgumentException($"Unknown option {args[i]}. Options: --duration S, --warmup S, --concurrency 1,16, --connection-string CS, --output FILE, --drain-messages N, --rounds N.");
                }
            }

            return new BenchOptions(duration, warmup, concurrency, connectionString, output, drainMessages, rounds);
        }
    }

    internal sealed record Rate(long Count, double Seconds)
    {
        public double OpsPerSecond => Seconds > 0 ? Count / Seconds : 0;

        /// <summary>The sample with the median rate.</summary>
        public static Rate Median(List<Rate> samples) => samples.OrderBy(r => r.OpsPerSecond).ElementAt(samples.Count / 2);

        public JsonObject ToJson(IEnumerable<Rate> samples) => new()
        {
            ["opsPerSecond"] = Math.Round(OpsPerSecond, 1),
            ["count"] = Count,
            ["seconds"] = Math.Round(Seconds, 3),
            ["samplesOpsPerSecond"] = new JsonArray(samples.Select(r => (JsonNode)Math.Round(r.OpsPerSecond, 1)).ToArray()),
        };
    }

    internal static class Measure
    {
        /// <summary>
        /// Runs <paramref name="concurrency"/> workers in a closed loop; counts what completes inside the measured window.
        /// An operation returning a negative count means "nothing left" (a drained queue) and ends the window early.
        /// </summary>
        public static async Task<Rate> RunAsync(int concurrency, TimeSpan warmup, TimeSpan duration, Func<int, Func<Task<int>>> factory)
        {
            long count = 0;
            var counting = 0;
            var stop = false;
            long drainedAt = 0;
            var clock = Stopwatch.StartNew();
            var workers = Enumerable.Range(0, concurrency).Select(w => Task.Run(async () =>
            {
                var op = factory(w);
                while (!Volatile.Read(ref stop))
                {
                    var n = await op();
                    if (n < 0)
                    {
                        Interlocked.CompareExchange(ref drainedAt, clock.ElapsedTicks, 0);
                        Volatile.Write(ref stop, true);
                        break;
                    }

                    if (Volatile.Read(ref counting) == 1)
                    {
                        Interlocked.Add(ref count, n);
                    }
                }
            })).ToArray();

            await Task.WhenAny(Task.WhenAll(workers), Task.Delay(warmup));
            var started = clock.Elapsed;
            Volatile.Write(ref counting, 1);
            await Task.WhenAny(Task.WhenAll(workers), Task.Delay(duration));
            var drained = Interlocked.Read(ref drainedAt);
            var ended = drained > 0 ? TimeSpan.FromTicks(drained * TimeSpan.TicksPerSecond / Stopwatch.Frequency) : clock.Elapsed;
            Volatile.Write(ref counting, 0);
            var measured = Interlocked.Read(ref count);
            Volatile.Write(ref stop, true);

            // The count is final; let in-flight operations finish, but never hang on one the server never answers.
            await Task.WhenAny(Task.WhenAll(workers), Task.Delay(TimeSpan.FromSeconds(10)));
            return new Rate(measured, Math.Max(0.001, (ended - started).TotalSeconds));
        }
    }

    internal static class StorageOperations
    {
        // receive-delete runs before send: Azurite's receive cost grows with every message held in the account.
        public static readonly string[] Names = ["table.upsert", "table.batch100", "table.point-read", "queue.receive-delete", "queue.send"];

        private static readonly string Payload = new('x', 100);

        public static async Task SeedPointReadsAsync(TableClient table)
        {
            for (var i = 0; i < 100; i++)
            {
                await table.UpsertEntityAsync(new TableEntity("read", $"r{i}") { ["Value"] = Payload }, TableUpdateMode.Replace);
            }
        }

        /// <summary>Creates a fresh queue holding exactly <paramref name="count"/> messages (not measured).</summary>
        public static async Task<QueueClient> PrefillAsync(QueueServiceClient queues, string name, int count)
        {
            var queue = queues.GetQueueClient(name);
            await queue.CreateIfNotExistsAsync();
            var next = 0;
            await Task.WhenAll(Enumerable.Range(0, 16).Select(async _ =>
            {
                while (Interlocked.Increment(ref next) <= count)
                {
                    await queue.SendMessageAsync(Payload);
                }
            }));
            return queue;
        }

        public static Func<Task<int>> Create(string operation, TableClient table, QueueClient queue, int worker)
        {
            var i = 0;
            return operation switch
            {
                "table.upsert" => async () =>
                {
                    await table.UpsertEntityAsync(new TableEntity($"w{worker}", $"flow-{i++}") { ["Value"] = Payload, ["N"] = i });
                    return 1;
                },
                "table.batch100" => async () =>
                {
                    var start = i;
                    i += 100;
                    var actions = new List<TableTransactionAction>(100);
                    for (var k = start; k < start + 100; k++)
                    {
                        actions.Add(new TableTransactionAction(TableTransactionActionType.UpsertMerge, new TableEntity($"b{worker}", $"flow-{k}") { ["Value"] = Payload }));
                    }

                    await table.SubmitTransactionAsync(actions);
                    return 100;
                },
                "table.point-read" => async () =>
                {
                    await table.GetEntityAsync("read", $"r{((worker * 7) + i++) % 100}");
                    return 1;
                },
                "queue.send" => async () =>
                {
                    await queue.SendMessageAsync(Payload);
                    return 1;
                },
                "queue.receive-delete" => async () =>
                {
                    var message = await queue.ReceiveMessageAsync(TimeSpan.FromSeconds(60));
                    if (message is null)
                    {
                        return -1;
                    }

                    await queue.DeleteMessageAsync(message.MessageId, message.PopReceipt);
                    return 1;
                },
                _ => throw new ArgumentException($"Unknown operation {operation}."),
            };
        }
    }

    internal static class JsPeer
    {
        public static async Task<Rate> RunAsync(string operation, string connectionString, string name, int concurrency, TimeSpan warmup, TimeSpan duration)
        {
            var script = Path.Combine(RepoPaths.Root, "bench", "js", "storage-bench.mjs");
            string[] arguments =
            [
                script, operation, connectionString, name, concurrency.ToString(CultureInfo.InvariantCulture),
                ((int)duration.TotalMilliseconds).ToString(CultureInfo.InvariantCulture),
                ((int)warmup.TotalMilliseconds).ToString(CultureInfo.InvariantCulture),
            ];
            using var timeout = new CancellationTokenSource(duration + warmup + TimeSpan.FromSeconds(60));
            var result = await ProcessRunner.RunAsync(NodeTools.NodePath, arguments, new ProcessRunnerOptions { WorkingDirectory = RepoPaths.Root }, timeout.Token);
            if (result.ExitCode != 0)
            {
                throw new InvalidOperationException($"The JS benchmark for {operation} exited with {result.ExitCode}:\n{result.Output}");
            }


            var line = result.StandardOutput.Last(l => l.StartsWith('{'));
            using var doc = JsonDocument.Parse(line);
            return new Rate(doc.RootElement.GetProperty("count").GetInt64(), doc.RootElement.GetProperty("seconds").GetDouble());
        }
    }
}
