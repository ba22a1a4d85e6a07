using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Flow.Engine;
using Flow.Engine.Storage;
using Flow.Engine.Storage.InMemory;
using Flow.Sdk;
using Flow.LocalServices;

namespace Flow.Benchmarks.Engine;

/// <summary>Settings of <c>Flow.Benchmarks engine</c>.</summary>
internal sealed record EngineBenchOptions
{
    public int Rounds { get; init; } = 5;

    public int SequentialTasks { get; init; } = 1000;

    public int FanOutTasks { get; init; } = 1000;

    public int FanOutConcurrency { get; init; } = 100;

    public int DistributedTasks { get; init; } = 200;

    public int DistributedConcurrency { get; init; } = 200;

    public int Workers { get; init; } = 2;

    public string[] Scenarios { get; init; } = ["sequential", "fanout", "distributed"];

    public string? ConnectionString { get; init; }

    public bool InMemory { get; init; }

    /// <summary>Run (c)'s workers in this process instead of their own processes (for profiling; always so in memory).</summary>
    public bool LocalWorkers { get; init; }

    public string? Output { get; init; }

    /// <summary>azure (a private Azurite, the default) or postgres (a private PostgreSQL cluster, plus pgbench in the same run).</summary>
    public string Backend { get; init; } = "azure";

    public bool Postgres => Backend == "postgres";

    /// <summary>How long each pgbench measurement runs (postgres only).</summary>
    public int PgbenchSeconds { get; init; } = 10;

    /// <summary>The pgbench client counts measured (postgres only): 1 (what one sequential run can use) and 8.</summary>
    public int[] PgbenchClients { get; init; } = [1, 8];

    public static EngineBenchOptions Parse(string[] args)
    {
        var o = new EngineBenchOptions { ConnectionString = Environment.GetEnvironmentVariable("FLOW_BENCH_CONNECTION_STRING") };
        for (var i = 0; i < args.Length; i++)
        {
            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value.");
            int NextInt() => int.Parse(Next(), CultureInfo.InvariantCulture);
            o = args[i] switch
            {
                "--rounds" => o with { Rounds = Math.Max(1, NextInt()) },
                "--sequential-tasks" => o with { SequentialTasks = NextInt() },
                "--fanout-tasks" => o with { FanOutTasks = NextInt() },
                "--fanout-concurrency" => o with { FanOutConcurrency = NextInt() },
                "--distributed-tasks" => o with { DistributedTasks = NextInt() },
                "--distributed-concurrency" => o with { DistributedConcurrency = NextInt() },
                "--workers" => o with { Workers = Math.Max(1, NextInt()) },
                "--scenarios" => o with { Scenarios = Next().Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) },
                "--connection-string" => o with { ConnectionString = Next() },
                "--in-memory" => o with { InMemory = true },
                "--local-workers" => o with { LocalWorkers = true },
                "--output" => o with { Output = Next() },
                "--backend" => o with { Backend = Next() is var b && b is "azure" or "postgres" ? b : throw new ArgumentException("--backend is azure or postgres.") },
                "--pgbench-seconds" => o with { PgbenchSeconds = NextInt() },
                "--pgbench-clients" => o with { PgbenchClients = Next().Split(',').Select(c => int.Parse(c, CultureInfo.InvariantCulture)).ToArray() },
                _ => throw new ArgumentException($"Unknown option {args[i]}. Options: --rounds N, --sequential-tasks N, --fanout-tasks N, --fanout-concurrency N, --distributed-tasks N, --distributed-concurrency N, --workers N, --scenarios sequential,fanout,distributed, --connection-string CS, --in-memory, --local-workers, --output FILE, --backend azure|postgres, --pgbench-seconds N, --pgbench-clients 1,8."),
            };
        }

        return o;
    }
}

/// <summary>
/// The engine benchmark: (a) one run of N sequential no-op inline tasks, (b) one run fanning out N inline tasks,
/// (c) N distributed tasks executed by worker processes, with the raw queue receive+delete rate measured in the same
/// rounds on the same Azurite. Each scenario gets a fresh private Azurite and each round fresh tables and queues;
/// the first round of each scenario warms up and is not counted. Prints one JSON document on stdout, a summary on stderr.
/// </summary>
internal static class EngineBenchmark
{
    private static readonly TimeSpan RoundTimeout = TimeSpan.FromMinutes(3);

    public static async Task<int> RunAsync(string[] args)
    {
        var options = EngineBenchOptions.Parse(args);
        var tag = Guid.NewGuid().ToString("N")[..6];
        var scenarios = new JsonArray();
        foreach (var name in options.Scenarios)
        {
            await using var target = await Target.CreateAsync(options).ConfigureAwait(false);
            var result = name switch
            {
                "sequential" => await InlineScenarioAsync(
                    target, options, "sequential-inline", BenchFlows.Sequential, new BenchInput(options.SequentialTasks, 1),
                    $"one run of {options.SequentialTasks} sequential no-op inline tasks (ctx.RunTaskAsync in a loop)",
                    minTasksPerSecond: options.Postgres ? 1000 : 500, maxRoundTripsPerTask: 1, $"{tag}a").ConfigureAwait(false),
                "fanout" => await InlineScenarioAsync(
                    target, options, "fanout-inline", BenchFlows.FanOut, new BenchInput(options.FanOutTasks, options.FanOutConcurrency),
                    $"one run fanning out {options.FanOutTasks} no-op inline tasks (ctx.MapAsync, maxConcurrency {options.FanOutConcurrency})",
                    minTasksPerSecond: options.Postgres ? 4000 : 2000, maxRoundTripsPerTask: options.Postgres ? 1 : null, $"{tag}b").ConfigureAwait(false),
                "distributed" => await DistributedScenarioAsync(target, options, $"{tag}c").ConfigureAwait(false),
                _ => throw new ArgumentException($"Unknown scenario '{name}' (sequential, fanout, distributed)."),
            };
            scenarios.Add(result);
        }

        var pgbench = options.Postgres && !options.InMemory ? await Pgbench.MeasureAsync(options, options.ConnectionString).ConfigureAwait(false) : null;
        var report = new JsonObject
        {
            ["benchmark"] = "engine",
            ["backend"] = options.InMemory ? "in-memory" : options.Backend,
            ["target"] = options.InMemory ? "in-memory store and queue (harness debugging only: no I/O)"
                : options.ConnectionString is not null ? "given connection string"
                : options.Postgres ? $"a fresh private PostgreSQL {Pgbench.ServerVersion()} cluster (loopback; fsync, synchronous_commit and full_page_writes off, as the test fixture) per scenario; a fresh schema per round"
                : "a fresh private Azurite (npm azurite 3.37.0, in-memory, loopback) per scenario; fresh tables and queues per round",
            ["machine"] = Machine(),
            ["rounds"] = options.Rounds,
            ["statistic"] = "median of the rounds (after one warm-up round per scenario); medianRound is the round with the median tasks/s",
            ["engineOptions"] = "defaults: FlowEngineOptions and FlowWorkerOptions (MaxConcurrentRuns 16, MaxConcurrentTasks 16, poll 20 ms doubling to 1 s while empty)",
            ["scenarios"] = scenarios,
            ["pgbench"] = pgbench,
            ["meetsGoals"] = scenarios.All(s => s!["goal"]!["met"]!.GetValue<bool>()),
        };
        var json = report.ToJsonString(new JsonSerializerOptions { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
        Console.WriteLine(json);
        if (options.Output is not null)
        {
            await File.WriteAllTextAsync(options.Output, json).ConfigureAwait(false);
        }

        return 0;
    }

    // ---------------------------------------------------------------- (a) and (b)

    private static async Task<JsonObject> InlineScenarioAsync(Target target, EngineBenchOptions options, string name, string flow, BenchInput input, string description, double minTasksPerSecond, double? maxRoundTripsPerTask, string tag)
    {
        var loadBefore = LoadAverage();
        var rounds = new List<RoundResult>();
        var floors = new List<double>();
        var measureFloor = maxRoundTripsPerTask is not null;
        await using var worker = new LocalBenchWorker($"bench-{name}");
        for (var round = 0; round <= options.Rounds; round++)
        {
            using var timeout = new CancellationTokenSource(RoundTimeout);

            // (a) also measures the store alone in the same round, alternating which goes first.
            async Task<double> FloorAsync() => await StoreFloor.SequentialCommitsPerSecondAsync(
                BenchStorage.Create(target.Backend($"{tag}f{round}")).RawStore, input.Tasks, timeout.Token).ConfigureAwait(false);
            var floor = measureFloor && round % 2 == 1 ? await FloorAsync().ConfigureAwait(false) : 0;

            var backend = target.Backend($"{tag}r{round}");
            await using var coordinator = await EngineNode.StartAsync(backend, "bench-coordinator", runWorker: false, timeout.Token).ConfigureAwait(false);
            var result = await EngineRoundAsync(coordinator, [worker], backend, flow, input, timeout.Token).ConfigureAwait(false);
            if (measureFloor && round % 2 == 0)
            {
                floor = await FloorAsync().ConfigureAwait(false);
            }

            Report(name, round, result.Summary() + (measureFloor ? $"; store alone {floor:F0} commits/s" : string.Empty));
            if (round > 0)
            {
                rounds.Add(result);
                floors.Add(floor);
            }
        }

        var median = RoundResult.Median(rounds);
        var met = median.TasksPerSecond >= minTasksPerSecond && (maxRoundTripsPerTask is not { } max || median.MarginalRoundTripsPerTask <= max);
        var json = median.ToJson(name, description, rounds, options.Postgres ? "sql" : "http");
        if (measureFloor)
        {
            var floor = floors.Order().ElementAt(floors.Count / 2);
            json["storeAlone"] = new JsonObject
            {
                ["method"] = $"{input.Tasks} sequential IFlowStore.CommitAsync calls of a run record plus one TaskCompleted event (what the engine commits per inline task), no engine; same Azurite, same round, fresh tables",
                ["commitsPerSecond"] = Math.Round(floor, 1),
                ["samplesCommitsPerSecond"] = new JsonArray(floors.Select(f => (JsonNode)Math.Round(f, 1)).ToArray()),
                ["engineToStoreRatio"] = Math.Round(rounds.Select((r, i) => r.TasksPerSecond / floors[i]).Order().ElementAt(rounds.Count / 2), 3),
                ["engineToStoreRatioMeaning"] = "median over the rounds of (engine tasks/s / store-alone commits/s) measured in the same round",
            };
        }

        json["loadAverage1m"] = new JsonArray(loadBefore, LoadAverage());
        json["goal"] = new JsonObject
        {
            ["tasksPerSecond"] = minTasksPerSecond,
            ["roundTripsPerTask"] = maxRoundTripsPerTask,
            ["roundTripsRule"] = maxRoundTripsPerTask is null ? null
                : "marginal round trips per task: all calls minus the worker's idle polls (empty dequeues) minus the run's fixed cost (create, enqueue, dequeue, read, journal load, lease commit, final commit, message delete), per task; the all-in figure is roundTripsPerTask",
            ["marginalRoundTripsPerTask"] = maxRoundTripsPerTask is null ? null : Math.Round(median.MarginalRoundTripsPerTask, 3),
            ["met"] = met,
        };
        return json;
    }

    // ---------------------------------------------------------------- (c)

    private static async Task<JsonObject> DistributedScenarioAsync(Target target, EngineBenchOptions options, string tag)
    {
        var input = new BenchInput(options.DistributedTasks, options.DistributedConcurrency);
        var workers = new List<IBenchWorker>();
        try
        {
            for (var i = 0; i < options.Workers; i++)
            {
                workers.Add(options.InMemory || options.LocalWorkers ? new LocalBenchWorker($"bench-worker-{i}") : ProcessBenchWorker.Launch(i));
            }

            var loadBefore = LoadAverage();
            var rounds = new List<(RoundResult Engine, RawResult Raw)>();
            for (var round = 0; round <= options.Rounds; round++)
            {
                using var timeout = new CancellationTokenSource(RoundTimeout);
                var backend = target.Backend($"{tag}r{round}");
                await using var coordinator = await EngineNode.StartAsync(backend, "bench-coordinator", runWorker: false, timeout.Token).ConfigureAwait(false);

                // Rounds alternate which goes first, so drift in Azurite's speed favours neither.
                RawResult? raw = null;
                if (round % 2 == 1)
                {
                    raw = await RawRoundAsync(coordinator, workers, backend, input.Tasks, timeout.Token).ConfigureAwait(false);
                }

                var engine = await EngineRoundAsync(coordinator, workers, backend, BenchFlows.Distributed, input, timeout.Token).ConfigureAwait(false);
                raw ??= await RawRoundAsync(coordinator, workers, backend, input.Tasks, timeout.Token).ConfigureAwait(false);
                Report("distributed", round, $"{engine.Summary()}; raw receive+delete {raw.PerSecond:F0}/s -> ratio {engine.TasksPerSecond / raw.PerSecond:F2}");
                if (round > 0)
                {
                    rounds.Add((engine, raw));
                }
            }

            var median = RoundResult.Median(rounds.Select(r => r.Engine).ToList());
            var loadAfter = LoadAverage();
            var raws = rounds.Select(r => r.Raw).OrderBy(r => r.PerSecond).ToList();
            var rawMedian = raws[raws.Count / 2];
            // Each round's engine rate against the raw rate of the same round, then the median of those ratios.
            var ratios = rounds.Select(r => r.Engine.TasksPerSecond / r.Raw.PerSecond).Order().ToList();
            var ratio = ratios[ratios.Count / 2];
            var json = median.ToJson(
                "distributed",
                $"one run fanning out {input.Tasks} no-op registered tasks with TaskOptions.Distributed() (ctx.MapTaskAsync, maxConcurrency {input.MaxConcurrency}), executed by {options.Workers} FlowWorker {(options.InMemory || options.LocalWorkers ? "instances in this process" : "processes")}; the run itself (its episodes) is also processed by those workers",
                rounds.Select(r => r.Engine).ToList(),
                options.Postgres ? "sql" : "http");
            json["workers"] = options.Workers;
            json["workerProcesses"] = !options.InMemory && !options.LocalWorkers;
            json["rawReceiveDelete"] = new JsonObject
            {
                ["method"] = $"{input.Tasks} task work items (the engine's own message format) prefilled in a fresh queue (not measured); then each of the {options.Workers} worker processes consumes it as FlowWorker consumes its task queue, without the engine: wait for one of 16 slots (MaxConcurrentTasks), take every other free slot (up to 32), receive that many in one call (IWorkQueue.DequeueAsync), delete each (IWorkQueue.CompleteAsync) on the thread pool and free its slot, until a receive finds nothing. Rate = items / (last delete - command sent). Same Azurite, same round, fresh queue.",
                ["perSecond"] = Math.Round(rawMedian.PerSecond, 1),
                ["samplesPerSecond"] = new JsonArray(raws.Select(r => (JsonNode)Math.Round(r.PerSecond, 1)).ToArray()),
                ["seconds"] = Math.Round(rawMedian.Seconds, 3),
                ["calls"] = rawMedian.Calls.ToJson(input.Tasks),
                [options.Postgres ? "sql" : "http"] = rawMedian.Http.ToJson(input.Tasks),
            };
            json["ratioToRaw"] = Math.Round(ratio, 3);
            json["ratioToRawMeaning"] = "median over the rounds of (engine tasks/s / raw receive+delete items/s) measured in the same round";
            json["samplesRatioToRaw"] = new JsonArray(ratios.Select(r => (JsonNode)Math.Round(r, 3)).ToArray());
            json["loadAverage1m"] = new JsonArray(loadBefore, loadAfter);
            json["goal"] = new JsonObject { ["ratioToRaw"] = 0.5, ["met"] = ratio >= 0.5 };
            return json;
        }
        finally
        {
            foreach (var worker in workers)
            {
                await worker.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    /// <summary>Starts the workers on the round's backend, runs the flow from the coordinator, stops the workers; the calls of all of them.</summary>
    private static async Task<RoundResult> EngineRoundAsync(EngineNode coordinator, IReadOnlyList<IBenchWorker> workers, BackendSpec backend, string flow, BenchInput input, CancellationToken cancellationToken)
    {
        await Task.WhenAll(workers.Select(w => w.StartAsync(backend, cancellationToken))).ConfigureAwait(false);
        await Task.WhenAll(workers.Select(w => w.ResetAsync(cancellationToken))).ConfigureAwait(false);
        coordinator.Storage.Reset();
        var started = DateTimeOffset.UtcNow;
        var finished = await RunFlowAsync(coordinator.Engine, workers, flow, input, cancellationToken).ConfigureAwait(false);
        var stopped = await Task.WhenAll(workers.Select(w => w.StopAsync(cancellationToken))).ConfigureAwait(false);
        var record = await Verify(coordinator.Storage, finished, input, cancellationToken).ConfigureAwait(false);
        var (calls, http) = coordinator.Storage.Snapshot();
        return new RoundResult(
            input.Tasks, started, finished.At, record,
            CallSnapshot.Merge(stopped.Select(s => s.Calls).Append(calls)),
            CallSnapshot.Merge(stopped.Select(s => s.Http).Append(http)));
    }

    private static async Task<RawResult> RawRoundAsync(EngineNode coordinator, List<IBenchWorker> workers, BackendSpec backend, int count, CancellationToken cancellationToken)
    {
        const string queue = "rawtasks-default";
        await RawConsumer.PrefillAsync(coordinator.Storage.RawQueue, queue, count, cancellationToken).ConfigureAwait(false);
        var started = DateTimeOffset.UtcNow;
        var results = await Task.WhenAll(workers.Select(w => w.DrainAsync(backend, queue, slots: new FlowWorkerOptions().MaxConcurrentTasks, cancellationToken))).ConfigureAwait(false);
        var drained = results.Sum(r => r.Result.Count);
        if (drained != count)
        {
            throw new InvalidOperationException($"The raw consumers deleted {drained} of {count} items.");
        }

        var seconds = (results.Max(r => r.Result.LastCompletedAt) - started).TotalSeconds;
        return new RawResult(count, seconds, CallSnapshot.Merge(results.Select(r => r.Calls)), CallSnapshot.Merge(results.Select(r => r.Http)));
    }

    // ---------------------------------------------------------------- shared

    /// <summary>
    /// Starts a run with a known id and waits until a worker reports it final (the time that counts), then until
    /// that worker has also deleted the run's queue message, so stopping the workers cuts nothing short.
    /// </summary>
    private static async Task<FinishedRun> RunFlowAsync(FlowEngine engine, IReadOnlyList<IBenchWorker> workers, string flow, BenchInput input, CancellationToken cancellationToken)
    {
        var runId = Guid.CreateVersion7().ToString("N");
        var finished = new TaskCompletionSource<FinishedRun>(TaskCreationOptions.RunContinuationsAsynchronously);
        var messageDone = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        void OnFinished(FinishedRun run)
        {
            if (run.RunId == runId)
            {
                finished.TrySetResult(run);
            }
        }

        void OnMessageCompleted(string id)
        {
            if (id == runId && finished.Task.IsCompleted)
            {
                messageDone.TrySetResult();
            }
        }

        foreach (var worker in workers)
        {
            worker.RunFinished += OnFinished;
            worker.RunMessageCompleted += OnMessageCompleted;
        }

        try
        {
            await engine.StartRunAsync(flow, input, new StartRunOptions { RunId = runId }, cancellationToken).ConfigureAwait(false);

            // A slow run says how far it got every 10 s.
            while (await Task.WhenAny(finished.Task, Task.Delay(TimeSpan.FromSeconds(10), cancellationToken)).ConfigureAwait(false) != finished.Task)
            {
                var progress = await engine.GetRunAsync(runId, cancellationToken).ConfigureAwait(false);
                Console.Error.WriteLine($"  ... run {runId}: {progress?.State} ({progress?.StateMessage}), {progress?.JournalLength} events, lease {progress?.LeaseOwner ?? "none"}, wake requested {progress?.WakeRequested}");
            }

            await Task.WhenAny(messageDone.Task, Task.Delay(TimeSpan.FromSeconds(10), cancellationToken)).ConfigureAwait(false);
            return await finished.Task.ConfigureAwait(false);
        }
        catch (OperationCanceledException e)
        {
            var run = await engine.GetRunAsync(runId, CancellationToken.None).ConfigureAwait(false);
            throw new TimeoutException($"Run {runId} did not finish within {RoundTimeout}: {run?.State} ({run?.StateMessage}), {run?.JournalLength} events, lease {run?.LeaseOwner} until {run?.LeaseUntil:O}, wake requested {run?.WakeRequested}.", e);
        }
        finally
        {
            foreach (var worker in workers)
            {
                worker.RunFinished -= OnFinished;
                worker.RunMessageCompleted -= OnMessageCompleted;
            }
        }
    }

    private static async Task<FlowRunRecord> Verify(BenchStorage storage, FinishedRun finished, BenchInput input, CancellationToken cancellationToken)
    {
        var record = (await storage.RawStore.GetRunAsync(finished.RunId, cancellationToken).ConfigureAwait(false))?.Record
            ?? throw new InvalidOperationException($"Run {finished.RunId} is gone.");
        var expected = BenchFlows.ExpectedResult(input.Tasks).ToString(CultureInfo.InvariantCulture);
        if (record.State != RunState.Completed || record.Result != expected)
        {
            throw new InvalidOperationException($"Run {record.RunId} ended {record.State} with result {record.Result ?? "(none)"} (expected {expected}): {record.Failure?.Message}");
        }

        return record;
    }

    private static void Report(string scenario, int round, string summary) =>
        Console.Error.WriteLine($"{scenario,-12} {(round == 0 ? "warm-up" : "round " + round),-8} {summary}");

    /// <summary>The 1-minute load average (Linux), to tell a quiet machine from a busy one.</summary>
    private static double? LoadAverage() =>
        File.Exists("/proc/loadavg") ? double.Parse(File.ReadAllText("/proc/loadavg").Split(' ')[0], CultureInfo.InvariantCulture) : null;

    private static JsonObject Machine() => new()
    {
        ["processors"] = Environment.ProcessorCount,
        ["cpu"] = File.Exists("/proc/cpuinfo") ? File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() : null,
        ["os"] = System.Runtime.InteropServices.RuntimeInformation.OSDescription,
        ["dotnet"] = Environment.Version.ToString(),
        ["gc"] = System.Runtime.GCSettings.IsServerGC ? "server" : "workstation",
    };

    /// <summary>Where the scenario's state lives: a fresh private Azurite, a given account, or shared memory.</summary>
    private sealed class Target : IAsyncDisposable
    {
        private readonly IAsyncDisposable? _server;
        private readonly string? _connectionString;
        private readonly bool _postgres;

        private Target(IAsyncDisposable? server, string? connectionString, bool postgres)
        {
            _server = server;
            _connectionString = connectionString;
            _postgres = postgres;
        }

        public static async Task<Target> CreateAsync(EngineBenchOptions options)
        {
            if (options.InMemory || options.ConnectionString is not null)
            {
                return new Target(null, options.ConnectionString, options.Postgres);
            }

            if (options.Postgres)
            {
                var postgres = new LocalPostgres();
                await postgres.StartAsync(CancellationToken.None).ConfigureAwait(false);
                return new Target(postgres, postgres.ConnectionString, postgres: true);
            }

            var azurite = new LocalAzurite();
            await azurite.StartAsync(CancellationToken.None).ConfigureAwait(false);
            return new Target(azurite, azurite.ConnectionString, postgres: false);
        }

        public BackendSpec Backend(string prefix) => _connectionString is null
            ? new BackendSpec.InMemory(new InMemoryFlowStore(), new InMemoryWorkQueue())
            : _postgres ? new BackendSpec.Postgres(_connectionString, prefix) : new BackendSpec.Azure(_connectionString, prefix);

        public async ValueTask DisposeAsync()
        {
            if (_server is not null)
            {
                await _server.DisposeAsync().ConfigureAwait(false);
            }
        }
    }
}

/// <summary>The raw baseline of one round.</summary>
internal sealed record RawResult(int Count, double Seconds, CallSnapshot Calls, CallSnapshot Http)
{
    public double PerSecond => Count / Seconds;
}

/// <summary>One measured run.</summary>
internal sealed record RoundResult(int Tasks, DateTimeOffset Started, DateTimeOffset Finished, FlowRunRecord Run, CallSnapshot Calls, CallSnapshot Http)
{
    /// <summary>From the StartRunAsync call to the commit that made the run final.</summary>
    public double WallSeconds => (Finished - Started).TotalSeconds;

    /// <summary>From the first episode's start (the run record's StartedAt) to its end (EndedAt): without the wait for a worker to pick the run up.</summary>
    public double EpisodeSeconds => ((Run.EndedAt ?? Finished) - (Run.StartedAt ?? Started)).TotalSeconds;

    public double TasksPerSecond => Tasks / WallSeconds;

    public double RoundTripsPerTask => Calls.Total / (double)Tasks;

    /// <summary>Calls that found an empty queue: the worker polling, whatever it runs.</summary>
    public long IdlePolls => Calls.Kinds.Where(k => k.Key.EndsWith("(empty)", StringComparison.Ordinal)).Sum(k => (long)k.Value.DurationsMs.Length);

    /// <summary>For one inline run: every commit but the lease and the final one is a task's; everything else is per run or idle polling.</summary>
    public double MarginalRoundTripsPerTask => (Calls.Count("store.Commit") - 2) / (double)Tasks;

    public static RoundResult Median(List<RoundResult> rounds) => rounds.OrderBy(r => r.TasksPerSecond).ElementAt(rounds.Count / 2);

    public string Summary() =>
        $"{TasksPerSecond,7:F0} tasks/s ({WallSeconds:F3} s; from episode start {Tasks / EpisodeSeconds:F0}/s), {RoundTripsPerTask:F3} round trips/task ({Calls.Count("store.Commit")} commit calls, {Calls.Total} calls{(Http.Total > 0 ? $", {Http.Total} HTTP requests or SQL statements" : string.Empty)})";

    // wire: "http" (Azure: HTTP requests) or "sql" (PostgreSQL: SQL statements, one round trip each).
    public JsonObject ToJson(string name, string description, List<RoundResult> rounds, string wire) => new()
    {
        ["name"] = name,
        ["description"] = description,
        ["tasks"] = Tasks,
        ["tasksPerSecond"] = Math.Round(TasksPerSecond, 1),
        ["samplesTasksPerSecond"] = new JsonArray(rounds.Select(r => (JsonNode)Math.Round(r.TasksPerSecond, 1)).ToArray()),
        ["roundTripsPerTask"] = Math.Round(RoundTripsPerTask, 3),
        ["roundTripsPerTaskWithoutIdlePolls"] = Math.Round((Calls.Total - IdlePolls) / (double)Tasks, 3),
        ["commitCallsPerTask"] = Math.Round(Calls.Count("store.Commit") / (double)Tasks, 3),
        [wire == "sql" ? "sqlStatementsPerTask" : "httpRequestsPerTask"] = Http.Total > 0 ? Math.Round(Http.Total / (double)Tasks, 3) : null,
        ["medianRound"] = new JsonObject
        {
            ["wallSeconds"] = Math.Round(WallSeconds, 3),
            ["wallMeaning"] = "StartRunAsync called -> the commit that made the run final returned",
            ["episodeSeconds"] = Math.Round(EpisodeSeconds, 3),
            ["episodeMeaning"] = "the run record's StartedAt (first episode took the lease) -> EndedAt: without the wait for a worker to pick the run up",
            ["tasksPerSecondFromEpisodeStart"] = Math.Round(Tasks / EpisodeSeconds, 1),
            ["roundTrips"] = Calls.Total,
            ["calls"] = Calls.ToJson(Tasks),
            [wire] = Http.Total > 0 ? Http.ToJson(Tasks) : null,
        },
    };
}
