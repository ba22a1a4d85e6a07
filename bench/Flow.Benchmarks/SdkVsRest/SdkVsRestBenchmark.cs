using System.Text.Json;
using System.Text.Json.Nodes;
using Flow.Storage.Azure;
using Flow.TestSupport;
using SdkQueues = Azure.Storage.Queues;
using SdkTables = Azure.Data.Tables;

namespace Flow.Benchmarks.SdkVsRest;

/// <summary>
/// <c>Flow.Benchmarks sdk-vs-rest</c>: Flow's hand-written Table and Queue REST clients against the official .NET SDKs
/// (Azure.Data.Tables, Azure.Storage.Queues), operation by operation, in one run on one private Azurite. Each sample
/// gets fresh tables and queues, rounds alternate which client goes first, and the median of the rounds is reported.
/// Takes the storage benchmark's options (<see cref="BenchOptions"/>). Prints JSON on stdout.
/// </summary>
internal static class SdkVsRestBenchmark
{
    private static readonly string[] Operations = ["table.upsert", "table.batch100", "table.point-read", "table.query-page", "queue.receive-delete", "queue.send"];

    private static readonly string Payload = new('x', 100);

    public static async Task<int> RunAsync(string[] args)
    {
        var options = BenchOptions.Parse(args);
        await using var azurite = options.ConnectionString is null ? new AzuriteFixture() : null;
        if (azurite is not null)
        {
            await azurite.InitializeAsync();
        }

        var connectionString = options.ConnectionString ?? azurite!.ConnectionString;
        var ours = new Clients(StorageConnection.Parse(connectionString, "--connection-string"));
        var sdk = new SdkClients(connectionString);
        var runId = Guid.NewGuid().ToString("N")[..6];
        var results = new JsonArray();
        var sample = 0;
        foreach (var concurrency in options.Concurrency)
        {
            foreach (var operation in Operations)
            {
                var ourSamples = new List<Rate>();
                var sdkSamples = new List<Rate>();
                for (var round = 0; round < options.Rounds; round++)
                {
                    for (var turn = 0; turn < 2; turn++)
                    {
                        var name = $"s{runId}n{sample++}";
                        if ((turn == 0) == (round % 2 == 0))
                        {
                            ourSamples.Add(await ours.MeasureAsync(operation, name, concurrency, options));
                        }
                        else
                        {
                            sdkSamples.Add(await sdk.MeasureAsync(operation, name, concurrency, options));
                        }
                    }
                }

                var flow = Rate.Median(ourSamples);
                var official = Rate.Median(sdkSamples);
                var ratio = flow.OpsPerSecond > 0 ? official.OpsPerSecond / flow.OpsPerSecond : double.NaN;
                results.Add(new JsonObject
                {
                    ["operation"] = operation,
                    ["unit"] = operation switch { "table.batch100" => "entities/s", "table.query-page" => "pages of 100/s", _ => "operations/s" },
                    ["concurrency"] = concurrency,
                    ["flowRestClients"] = flow.ToJson(ourSamples),
                    ["officialDotnetSdk"] = official.ToJson(sdkSamples),
                    ["ratioSdkToFlow"] = Math.Round(ratio, 3),
                });
                await Console.Error.WriteLineAsync($"{operation,-22} c={concurrency,-3} ours {flow.OpsPerSecond,8:F0}/s  sdk {official.OpsPerSecond,8:F0}/s  sdk/ours {ratio:F2}");
            }
        }

        var report = new JsonObject
        {
            ["benchmark"] = "sdk-vs-rest",
            ["target"] = options.ConnectionString is not null ? "given connection string" : "one private Azurite (npm azurite, in-memory, loopback) for the whole run",
            ["clients"] = "Flow.Storage.Azure hand-written REST clients vs Azure.Data.Tables 12.13.0 / Azure.Storage.Queues 12.28.1 (base64 messages both)",
            ["machine"] = new JsonObject
            {
                ["processors"] = Environment.ProcessorCount,
                ["loadAverage"] = File.Exists("/proc/loadavg") ? (await File.ReadAllTextAsync("/proc/loadavg")).Trim() : null,
                ["dotnet"] = Environment.Version.ToString(),
            },
            ["durationSeconds"] = options.Duration.TotalSeconds,
            ["warmupSeconds"] = options.Warmup.TotalSeconds,
            ["rounds"] = options.Rounds,
            ["statistic"] = "median of the rounds; rounds alternate which client runs first; fresh table/queue per sample",
            ["results"] = results,
        };
        var json = report.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
        Console.WriteLine(json);
        if (options.Output is not null)
        {
            await File.WriteAllTextAsync(options.Output, json);
        }

        return 0;
    }

    /// <summary>Flow's own clients.</summary>
    private sealed class Clients(StorageConnection connection)
    {
        private readonly TableServiceClient _tables = new(connection);
        private readonly QueueServiceClient _queues = new(connection);

        public async Task<Rate> MeasureAsync(string operation, string name, int concurrency, BenchOptions options)
        {
            var table = _tables.GetTableClient(name);
            var queue = _queues.GetQueueClient(name);
            var warmup = await PrepareAsync(operation, options, () => table.CreateIfNotExistsAsync(), () => table.SubmitTransactionAsync(Enumerable.Range(0, 100).Select(i =>
                new TableTransactionAction(TableTransactionActionType.UpsertReplace, new TableEntity("read", $"r{i}") { ["Value"] = Payload }))),
                () => queue.CreateIfNotExistsAsync(), () => queue.SendMessageAsync(Payload));
            var rate = await Measure.RunAsync(concurrency, warmup, options.Duration, worker => operation == "table.query-page"
                ? async () =>
                {
                    await foreach (var page in table.QueryAsync("PartitionKey eq 'read'", maxPerPage: 100).AsPages())
                    {
                        return page.Values.Count == 100 ? 1 : throw new InvalidOperationException($"A page of {page.Values.Count}.");
                    }

                    return 0;
                }
                : StorageOperations.Create(operation, table, queue, worker));
            await table.DeleteIfExistsAsync();
            await queue.DeleteIfExistsAsync();
            return rate;
        }
    }

    /// <summary>The official SDK clients, with the same retry settings and message encoding as Flow's.</summary>
    private sealed class SdkClients(string connectionString)
    {
        private readonly SdkTables.TableServiceClient _tables = new(connectionString);
        private readonly SdkQueues.QueueServiceClient _queues = new(connectionString, new SdkQueues.QueueClientOptions { MessageEncoding = SdkQueues.QueueMessageEncoding.Base64 });

        public async Task<Rate> MeasureAsync(string operation, string name, int concurrency, BenchOptions options)
        {
            var table = _tables.GetTableClient(name);
            var queue = _queues.GetQueueClient(name);
            var warmup = await PrepareAsync(operation, options, () => table.CreateIfNotExistsAsync(), () => table.SubmitTransactionAsync(Enumerable.Range(0, 100).Select(i =>
                new SdkTables.TableTransactionAction(SdkTables.TableTransactionActionType.UpsertReplace, new SdkTables.TableEntity("read", $"r{i}") { ["Value"] = Payload }))),
                () => queue.CreateIfNotExistsAsync(), () => queue.SendMessageAsync(Payload));
            var rate = await Measure.RunAsync(concurrency, warmup, options.Duration, worker => Create(operation, table, queue, worker));
            await table.DeleteAsync();
            await queue.DeleteIfExistsAsync();
            return rate;
        }

        private static Func<Task<int>> Create(string operation, SdkTables.TableClient table, SdkQueues.QueueClient queue, int worker)
        {
            var i = 0;
            return operation switch
            {
                "table.upsert" => async () =>
                {
                    await table.UpsertEntityAsync(new SdkTables.TableEntity($"w{worker}", $"flow-{i++}") { ["Value"] = Payload, ["N"] = i });
                    return 1;
                },
                "table.batch100" => async () =>
                {
                    var start = i;
                    i += 100;
                    await table.SubmitTransactionAsync(Enumerable.Range(start, 100).Select(k =>
                        new SdkTables.TableTransactionAction(SdkTables.TableTransactionActionType.UpsertMerge, new SdkTables.TableEntity($"b{worker}", $"flow-{k}") { ["Value"] = Payload })));
                    return 100;
                },
                "table.point-read" => async () =>
                {
                    await table.GetEntityAsync<SdkTables.TableEntity>("read", $"r{((worker * 7) + i++) % 100}");
                    return 1;
                },
                "table.query-page" => async () =>
                {
                    await foreach (var page in table.QueryAsync<SdkTables.TableEntity>("PartitionKey eq 'read'", maxPerPage: 100).AsPages())
                    {
                        return page.Values.Count == 100 ? 1 : throw new InvalidOperationException($"A page of {page.Values.Count}.");
                    }

                    return 0;
                },
                "queue.send" => async () =>
                {
                    await queue.SendMessageAsync(Payload);
                    return 1;
                },
                "queue.receive-delete" => async () =>
                {
                    var message = (await queue.ReceiveMessageAsync(TimeSpan.FromSeconds(60))).Value;
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

    /// <summary>Creates the table (seeded with 100 rows for reads) or the queue (prefilled for receive+delete, then no warm-up); the warm-up to use.</summary>
    private static async Task<TimeSpan> PrepareAsync(string operation, BenchOptions options, Func<Task> createTable, Func<Task> seedReads, Func<Task> createQueue, Func<Task> send)
    {
        if (operation.StartsWith("table.", StringComparison.Ordinal))
        {
            await createTable();
            if (operation is "table.point-read" or "table.query-page")
            {
                await seedReads();
            }

            return options.Warmup;
        }

        await createQueue();
        if (operation != "queue.receive-delete")
        {
            return options.Warmup;
        }

        await FillAsync(options.DrainMessages, send);
        return TimeSpan.Zero;
    }

    private static async Task FillAsync(int count, Func<Task> send)
    {
        var next = 0;
        await Task.WhenAll(Enumerable.Range(0, 16).Select(async _ =>
        {
            while (Interlocked.Increment(ref next) <= count)
            {
                await send();
            }
        }));
    }
}
