using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Flow.LocalServices;

namespace Flow.Benchmarks.Api;

/// <summary>
/// The API benchmark (issue 4, "Speed"): the built Flow.Functions app as a real process, standalone, on a private
/// Azurite — start-up time, idle memory, HTTP trigger latency under open-loop load, schedule lag, and listing runs with
/// many runs stored. Prints one JSON document on stdout (goals next to the measured values), progress on stderr.
/// The app and Azurite are killed at the end, also on failure or Ctrl+C.
/// </summary>
internal static class ApiBenchmark
{
    private const string BenchDeployment = "process-batch/bench";
    private const string ScheduleDeployment = "process-batch/sched";
    private const int TriggerWarmUp = 20;
    private const int ListWarmUp = 5;
    private const int PagesDeep = 5;
    private const int HistorySample = 20;
    private static readonly TimeSpan DrainTimeout = TimeSpan.FromMinutes(5);

    // The app's default standalone scheduler tick: a new schedule's first occurrences wait for the first tick after it is saved.
    private static readonly TimeSpan SchedulerTick = TimeSpan.FromSeconds(5);

    public static async Task<int> RunAsync(string[] args)
    {
        try
        {
            return await RunCoreAsync(ApiBenchOptions.Parse(args)).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            Console.Error.WriteLine("api: stopped; the app and Azurite are gone");
            return 130;
        }
    }

    private static async Task<int> RunCoreAsync(ApiBenchOptions options)
    {
        using var stop = new CancellationTokenSource();
        void Stop(PosixSignalContext context)
        {
            context.Cancel = true; // let the finally blocks below kill the app and Azurite
            Console.Error.WriteLine($"api: {context.Signal}: stopping");
            stop.Cancel();
        }

        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop);
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);
        var ct = stop.Token;
        var report = new JsonObject
        {
            ["benchmark"] = "api",
            ["date"] = DateTimeOffset.UtcNow.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture),
            ["target"] = "the built Flow.Functions.dll as a subprocess, standalone (api, scheduler and worker roles, default settings, samples on), on a private Azurite (npm azurite 3.37.0, in memory, loopback)",
            ["machine"] = Machine(),
            ["settings"] = new JsonObject
            {
                ["requestsPerSecond"] = options.RequestsPerSecond,
                ["durationSeconds"] = options.Duration.TotalSeconds,
                ["runs"] = options.Runs,
                ["scheduleSeconds"] = options.ScheduleDuration.TotalSeconds,
                ["listRequests"] = options.ListRequests,
                ["seedParallelism"] = options.SeedParallelism,
                ["idleSeconds"] = options.Idle.TotalSeconds,
                ["appAssembly"] = Path.GetRelativePath(RepoPaths.Root, RepoPaths.FunctionsAssembly),
            },
        };

        await AppUnderTest.EnsureBuiltAsync(options.Build, ct).ConfigureAwait(false);
        Console.Error.WriteLine("api: starting Azurite");
        var azurite = new LocalAzurite();
        await azurite.StartAsync(CancellationToken.None).ConfigureAwait(false);
        AppUnderTest? app = null;
        try
        {
            Console.Error.WriteLine("api: starting the app");
            app = await AppUnderTest.StartAsync(azurite.ConnectionString, ct).ConfigureAwait(false);
            using var http = app.CreateClient();
            var processes = new Dictionary<string, int> { ["app"] = app.ProcessId, ["benchmark"] = Environment.ProcessId };
            if (ProcessCpu.FindAzurite(azurite.TablePort) is { } azuritePid)
            {
                processes["azurite"] = azuritePid;
            }

            Console.Error.WriteLine($"api: healthy after {app.Healthy.TotalMilliseconds:F0} ms; idling {options.Idle.TotalSeconds} s");
            await Task.Delay(options.Idle, ct).ConfigureAwait(false);
            var memory = new JsonObject { ["idleAfterStartMb"] = app.ResidentMegabytes() };
            report["startup"] = new JsonObject
            {
                ["processStartToFirstHttpAnswerMs"] = Math.Round(app.FirstAnswer.TotalMilliseconds, 1),
                ["processStartToHealthyMs"] = Math.Round(app.Healthy.TotalMilliseconds, 1),
                ["method"] = "GET /api/health every 10 ms from just before the process is started until it answers \"status\":\"healthy\" (storage reachable, tables and queues created, default pool saved)",
            };

            var trigger = await TriggerPhaseAsync(app, http, processes, options, ct).ConfigureAwait(false);
            memory["afterTriggerLoadMb"] = app.ResidentMegabytes();
            var schedule = await SchedulePhaseAsync(app, http, processes, options, ct).ConfigureAwait(false);
            memory["afterSchedulePhaseMb"] = app.ResidentMegabytes();
            var list = await ListPhaseAsync(app, http, processes, azurite.ConnectionString, options, ct).ConfigureAwait(false);
            memory["afterListPhaseMb"] = app.ResidentMegabytes();
            Console.Error.WriteLine($"api: idling {options.Idle.TotalSeconds} s");
            await Task.Delay(options.Idle, ct).ConfigureAwait(false);
            memory["idleAtEndMb"] = app.ResidentMegabytes();
            memory["method"] = "VmRSS of the app process (/proc/PID/status): idle = after idling once healthy; the others right after each phase";
            report["memory"] = memory;
            report["trigger"] = trigger;
            report["scheduleLag"] = schedule;
            report["listRuns"] = list;
            report["appLog"] = AppLog(app);
            report["goals"] = Goals(report, options);
            report["allGoalsMet"] = report["goals"]!.AsArray().All(g => g!["met"]?.GetValue<bool>() != false);
            app.EnsureRunning();
        }
        catch (Exception e) when (app is not null && e is not OperationCanceledException)
        {
            Console.Error.WriteLine("api: the app's recent output:\n" + Tail(app.Output, 4_000));
            throw;
        }
        finally
        {
            if (app is not null)
            {
                await app.DisposeAsync().ConfigureAwait(false);
            }

            await azurite.DisposeAsync().ConfigureAwait(false);
        }

        report["machine"]!["loadAverageAtEnd"] = LoadAverage();
        var json = report.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
        Console.WriteLine(json);
        if (options.Output is not null)
        {
            await File.WriteAllTextAsync(options.Output, json, CancellationToken.None).ConfigureAwait(false);
        }

        return 0;
    }

    /// <summary>Open-loop POSTs triggering a run of a deployment whose flow completes at once; then waits for the runs to finish.</summary>
    private static async Task<JsonObject> TriggerPhaseAsync(AppUnderTest app, HttpClient http, IReadOnlyDictionary<string, int> processes, ApiBenchOptions options, CancellationToken ct)
    {
        await PutDeploymentAsync(http, BenchDeployment, """{"parameters":{"items":0}}""", ct).ConfigureAwait(false);
        var load = new TriggerLoad(http, $"deployments/{BenchDeployment}/runs", "{}");
        await load.WarmUpAsync(TriggerWarmUp, ct).ConfigureAwait(false);
        Console.Error.WriteLine($"api: trigger: {options.RequestsPerSecond}/s for {options.Duration.TotalSeconds} s");
        var loadAtStart = LoadAverage();
        var cpu = ProcessCpu.Start(processes);
        var result = await load.RunAsync(options.RequestsPerSecond, options.Duration, ct).ConfigureAwait(false);
        result["cpuWhileSending"] = cpu.ToJson();
        Console.Error.WriteLine($"api: trigger: p99 {load.P99:F1} ms, {result["errors"]} errors; waiting for the runs to finish");
        var drainClock = Stopwatch.StartNew();
        var drained = await WaitUntilNoRunsActiveAsync(http, BenchDeployment, DrainTimeout, ct).ConfigureAwait(false);
        var drainSeconds = drainClock.Elapsed.TotalSeconds;
        var states = await CountStatesAsync(http, BenchDeployment, ct).ConfigureAwait(false);
        result["warmUpRequests"] = TriggerWarmUp;
        result["loadAverage1mAtStart"] = loadAtStart;
        result["runsAfterLoad"] = new JsonObject
        {
            ["allFinished"] = drained,
            ["secondsFromLastAnswerUntilNoneActive"] = Math.Round(drainSeconds, 1),
            ["byState"] = states,
        };
        result["appLogWarningsAndErrorsSoFar"] = app.Warnings + app.Errors;
        result["method"] = $"POST /api/deployments/{BenchDeployment}/runs (body {{}}; process-batch with items 0) on a fixed timetable, without waiting for earlier answers; latency = due time -> 202 read; {TriggerWarmUp} sequential warm-up requests first (not counted). The app's worker executes the runs meanwhile.";
        return result;
    }

    /// <summary>A schedule every second for a while; lag = startedAt - scheduledAt of the runs that started, also from their state history.</summary>
    private static async Task<JsonObject> SchedulePhaseAsync(AppUnderTest app, HttpClient http, IReadOnlyDictionary<string, int> processes, ApiBenchOptions options, CancellationToken ct)
    {
        Console.Error.WriteLine($"api: schedule: every second for {options.ScheduleDuration.TotalSeconds} s");
        var loadAtStart = LoadAverage();
        var cpu = ProcessCpu.Start(processes);
        await PutDeploymentAsync(http, ScheduleDeployment, """{"parameters":{"items":0},"schedules":[{"interval":1}]}""", ct).ConfigureAwait(false);
        var savedAt = DateTimeOffset.UtcNow;
        await Task.Delay(options.ScheduleDuration, ct).ConfigureAwait(false);
        var cpuJson = cpu.ToJson();
        using (var paused = await http.PostAsync($"deployments/{ScheduleDeployment}/pause", null, ct).ConfigureAwait(false))
        {
            await EnsureSuccessAsync(paused, ct).ConfigureAwait(false);
        }

        await WaitUntilNoRunsActiveAsync(http, ScheduleDeployment, TimeSpan.FromSeconds(30), ct).ConfigureAwait(false);
        var page = await GetJsonAsync(http, $"runs?deployment={ScheduleDeployment}&pageSize=1000", ct).ConfigureAwait(false);
        var runs = page["runs"]!.AsArray().Select(r => r!).ToList();
        var lag = new Latencies();
        var steadyLag = new Latencies();
        var started = runs.Where(r => r["startedAt"] is not null).OrderBy(r => Time(r["scheduledAt"])).ToList();
        foreach (var run in started)
        {
            var runLag = Time(run["startedAt"]) - Time(run["scheduledAt"]);
            lag.Add(runLag);
            if (Time(run["scheduledAt"]) >= savedAt + SchedulerTick)
            {
                steadyLag.Add(runLag);
            }
        }

        // The same lag from the state history (the transition to Running), for a sample spread over the runs.
        var historyLag = new Latencies();
        var largestDifferenceMs = 0.0;
        var step = Math.Max(1, started.Count / HistorySample);
        for (var i = 0; i < started.Count; i += step)
        {
            var run = await GetJsonAsync(http, "runs/" + started[i]["id"]!.GetValue<string>(), ct).ConfigureAwait(false);
            var running = run["history"]?.AsArray().FirstOrDefault(t => t?["to"]?.GetValue<string>() == "Running");
            if (running is not null)
            {
                var fromHistory = Time(running["timestamp"]) - Time(run["scheduledAt"]);
                historyLag.Add(fromHistory);
                var fromRecord = Time(run["startedAt"]) - Time(run["scheduledAt"]);
                largestDifferenceMs = Math.Max(largestDifferenceMs, Math.Abs((fromHistory - fromRecord).TotalMilliseconds));
            }
        }

        Console.Error.WriteLine($"api: schedule: {started.Count} runs started, lag p50 {lag.Percentile(0.5):F0} ms, p99 {lag.Percentile(0.99):F0} ms; after the first tick p50 {steadyLag.Percentile(0.5):F0} ms, p99 {steadyLag.Percentile(0.99):F0} ms");
        return new JsonObject
        {
            ["runs"] = runs.Count,
            ["byState"] = new JsonObject(runs.GroupBy(r => r["state"]!.GetValue<string>()).OrderBy(g => g.Key, StringComparer.Ordinal)
                .Select(g => KeyValuePair.Create(g.Key, (JsonNode?)g.Count()))),
            ["lagStartedAtMinusScheduledAt"] = lag.ToJson(),
            ["lagAfterFirstTick"] = steadyLag.ToJson(),
            ["lagAfterFirstTickMeaning"] = $"runs scheduled at least {SchedulerTick.TotalSeconds} s (the scheduler tick) after the deployment was saved: the occurrences before the first tick are created by it, late",
            ["lagFromStateHistorySample"] = historyLag.ToJson(),
            ["largestDifferenceRecordVsHistoryMs"] = Math.Round(largestDifferenceMs, 1),
            ["lagsInScheduleOrderMs"] = new JsonArray(started.Select(r => (JsonNode)Math.Round((Time(r["startedAt"]) - Time(r["scheduledAt"])).TotalMilliseconds)).ToArray()),
            ["loadAverage1mAtStart"] = loadAtStart,
            ["cpuWhileScheduled"] = cpuJson,
            ["appLogWarningsAndErrorsSoFar"] = app.Warnings + app.Errors,
            ["method"] = $"PUT deployment {ScheduleDeployment} (process-batch, items 0, schedule interval 1 s), wait, pause it, wait until none of its runs is active, GET /api/runs?deployment=…&pageSize=1000; runs cancelled by the pause never started and are not counted. App defaults: scheduler tick 5 s, horizon 2 min (runs are created ahead and enqueued with a visibility delay).",
        };
    }

    /// <summary>Seeds many runs directly into the store, then times list queries (sequential requests).</summary>
    private static async Task<JsonObject> ListPhaseAsync(AppUnderTest app, HttpClient http, IReadOnlyDictionary<string, int> processes, string connectionString, ApiBenchOptions options, CancellationToken ct)
    {
        Console.Error.WriteLine($"api: list: seeding {options.Runs:N0} runs");
        var cpu = ProcessCpu.Start(processes);
        var seeding = await RunSeeder.SeedAsync(connectionString, options.Runs, options.SeedParallelism, ct).ConfigureAwait(false);
        seeding["cpu"] = cpu.ToJson();
        Console.Error.WriteLine($"api: list: seeded in {seeding["seconds"]} s ({seeding["runsPerSecond"]}/s)");
        app.EnsureRunning();
        var loadAtStart = LoadAverage();
        cpu = ProcessCpu.Start(processes);
        var queries = new JsonArray
        {
            await TimeQueryAsync(http, "first page", "runs?pageSize=50", options.ListRequests, ct).ConfigureAwait(false),
            await TimeQueryAsync(http, "state Completed", "runs?state=Completed&pageSize=50", options.ListRequests, ct).ConfigureAwait(false),
            await TimeQueryAsync(http, "deployment", $"runs?deployment={RunSeeder.BulkDeployment}&pageSize=50", options.ListRequests, ct).ConfigureAwait(false),
            await TimePagingAsync(http, "runs?pageSize=50", options.ListRequests, ct).ConfigureAwait(false),
        };
        var queriesCpu = cpu.ToJson();
        Console.Error.WriteLine("api: list: the storage's share (index query and run reads without the app)");
        var floor = await ListFloor.MeasureAsync(connectionString, Math.Max(10, options.ListRequests / 2), ct).ConfigureAwait(false);
        return new JsonObject
        {
            ["seeding"] = seeding,
            ["runsStored"] = options.Runs,
            ["queries"] = queries,
            ["storageFloorFirstPage"] = floor,
            ["loadAverage1mAtStart"] = loadAtStart,
            ["cpuWhileQuerying"] = queriesCpu,
            ["appLogWarningsAndErrorsSoFar"] = app.Warnings + app.Errors,
            ["method"] = $"{ListWarmUp} warm-up requests per query, then the given number of sequential requests; latency = request sent -> body read. Besides the seeded runs the store holds the runs of the earlier phases.",
        };
    }

    private static async Task<JsonObject> TimeQueryAsync(HttpClient http, string name, string path, int requests, CancellationToken ct)
    {
        Console.Error.WriteLine($"api: list: {name} ({path}) x {requests}");
        var latencies = new Latencies();
        var runsPerPage = 0;
        for (var i = -ListWarmUp; i < requests; i++)
        {
            var start = Stopwatch.GetTimestamp();
            var page = await GetJsonAsync(http, path, ct).ConfigureAwait(false);
            if (i >= 0)
            {
                latencies.Add(Stopwatch.GetElapsedTime(start));
            }

            runsPerPage = page["runs"]!.AsArray().Count;
        }

        return Query(name, path, latencies, runsPerPage);
    }

    /// <summary>Walks <see cref="PagesDeep"/> pages with continuation tokens; times the pages after the first.</summary>
    private static async Task<JsonObject> TimePagingAsync(HttpClient http, string path, int requests, CancellationToken ct)
    {
        Console.Error.WriteLine($"api: list: pages 2-{PagesDeep} ({path}&continuationToken=…) x {requests}");
        var latencies = new Latencies();
        var runsPerPage = 0;
        var walks = (requests + PagesDeep - 2) / (PagesDeep - 1);
        for (var walk = -1; walk < walks; walk++)
        {
            var page = await GetJsonAsync(http, path, ct).ConfigureAwait(false);
            for (var depth = 2; depth <= PagesDeep; depth++)
            {
                var token = page["continuationToken"]?.GetValue<string>() ?? throw new InvalidOperationException($"page {depth - 1} of {path} has no continuation token");
                var start = Stopwatch.GetTimestamp();
                page = await GetJsonAsync(http, $"{path}&continuationToken={Uri.EscapeDataString(token)}", ct).ConfigureAwait(false);
                if (walk >= 0)
                {
                    latencies.Add(Stopwatch.GetElapsedTime(start));
                }

                runsPerPage = page["runs"]!.AsArray().Count;
            }
        }

        return Query($"pages 2-{PagesDeep} with continuationToken", path + "&continuationToken=…", latencies, runsPerPage);
    }

    private static JsonObject Query(string name, string path, Latencies latencies, int runsPerPage)
    {
        var json = latencies.ToJson();
        json.Insert(0, "name", name);
        json.Insert(1, "request", "GET /api/" + path);
        json.Insert(2, "runsPerPage", runsPerPage);
        return json;
    }

    private static JsonArray Goals(JsonObject report, ApiBenchOptions options)
    {
        var trigger = report["trigger"]!;
        var triggerP99 = trigger["latencyFromDueTime"]!["p99Ms"]?.GetValue<double>() ?? double.NaN;
        var rateReached = trigger["achievedSendRequestsPerSecond"]!.GetValue<double>() >= 0.95 * options.RequestsPerSecond;
        var allLag = report["scheduleLag"]!["lagStartedAtMinusScheduledAt"]!;
        var lag = report["scheduleLag"]!["lagAfterFirstTick"]!;
        var lagP50 = lag["p50Ms"]?.GetValue<double>() ?? double.NaN;
        var lagP99 = lag["p99Ms"]?.GetValue<double>() ?? double.NaN;
        var list = report["listRuns"]!;
        var listP99 = list["queries"]!.AsArray().Max(q => q!["p99Ms"]?.GetValue<double>() ?? double.NaN);
        var atScale = options.Runs >= 100_000;
        return
        [
            Goal("HTTP trigger accepted p99 <= 50 ms at 100 requests/s", $"p99 {triggerP99} ms at {trigger["achievedSendRequestsPerSecond"]}/s sent, {trigger["errors"]} errors",
                triggerP99 <= 50 && rateReached && trigger["errors"]!.GetValue<int>() == 0 && options.RequestsPerSecond >= 100),
            Goal("scheduled time -> Running p50 <= 1 s", $"p50 {lagP50} ms ({lag["count"]} runs after the first tick; all {allLag["count"]} runs: {allLag["p50Ms"]} ms)", lagP50 <= 1_000),
            Goal("scheduled time -> Running p99 <= 2 s", $"p99 {lagP99} ms ({lag["count"]} runs after the first tick; all {allLag["count"]} runs: {allLag["p99Ms"]} ms)", lagP99 <= 2_000),
            Goal("list runs p99 <= 100 ms with 100k runs stored", $"worst query p99 {listP99} ms with {options.Runs:N0} runs seeded{(atScale ? string.Empty : " (fewer than the goal's 100k: not met by definition)")}",
                listP99 <= 100 && atScale),
            Goal("idle memory (reported)", $"{report["memory"]!["idleAfterStartMb"]} MB RSS after start, {report["memory"]!["idleAtEndMb"]} MB at the end", null),
            Goal("process start -> ready (reported)", $"{report["startup"]!["processStartToHealthyMs"]} ms to healthy, {report["startup"]!["processStartToFirstHttpAnswerMs"]} ms to the first HTTP answer", null),
        ];
    }

    private static JsonObject Goal(string goal, string measured, bool? met) =>
        new() { ["goal"] = goal, ["measured"] = measured, ["met"] = met };

    private static JsonObject AppLog(AppUnderTest app) => new()
    {
        ["warnings"] = app.Warnings,
        ["errors"] = app.Errors,
        ["kinds"] = new JsonArray(app.LogKinds.OrderByDescending(k => k.Value).Take(20).Select(k => (JsonNode)new JsonObject
        {
            ["line"] = k.Key,
            ["count"] = k.Value,
            ["firstMessage"] = app.LogExamples.GetValueOrDefault(k.Key),
        }).ToArray()),
    };

    private static async Task PutDeploymentAsync(HttpClient http, string deployment, string body, CancellationToken ct)
    {
        using var response = await http.PutAsync("deployments/" + deployment, new StringContent(body, Encoding.UTF8, "application/json"), ct).ConfigureAwait(false);
        await EnsureSuccessAsync(response, ct).ConfigureAwait(false);
    }

    /// <summary>Polls until the deployment has no run Scheduled, Pending or Running (one-run pages of each state).</summary>
    private static async Task<bool> WaitUntilNoRunsActiveAsync(HttpClient http, string deployment, TimeSpan timeout, CancellationToken ct)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < timeout)
        {
            var active = false;
            foreach (var state in new[] { "Running", "Pending", "Scheduled" })
            {
                var page = await GetJsonAsync(http, $"runs?deployment={deployment}&state={state}&pageSize=1", ct).ConfigureAwait(false);
                active |= page["runs"]!.AsArray().Count > 0;
            }

            if (!active)
            {
                return true;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(500), ct).ConfigureAwait(false);
        }

        return false;
    }

    /// <summary>The deployment's runs by state (all pages).</summary>
    private static async Task<JsonObject> CountStatesAsync(HttpClient http, string deployment, CancellationToken ct)
    {
        var counts = new SortedDictionary<string, int>(StringComparer.Ordinal);
        string? token = null;
        do
        {
            var page = await GetJsonAsync(http, $"runs?deployment={deployment}&pageSize=1000" + (token is null ? string.Empty : "&continuationToken=" + Uri.EscapeDataString(token)), ct).ConfigureAwait(false);
            foreach (var run in page["runs"]!.AsArray())
            {
                var state = run!["state"]!.GetValue<string>();
                counts[state] = counts.GetValueOrDefault(state) + 1;
            }

            token = page["continuationToken"]?.GetValue<string>();
        }
        while (token is not null);
        return new JsonObject(counts.Select(c => KeyValuePair.Create(c.Key, (JsonNode?)c.Value)));
    }

    private static async Task<JsonNode> GetJsonAsync(HttpClient http, string path, CancellationToken ct)
    {
        using var response = await http.GetAsync(path, ct).ConfigureAwait(false);
        var body = await EnsureSuccessAsync(response, ct).ConfigureAwait(false);
        return JsonNode.Parse(body) ?? throw new InvalidOperationException($"GET {path} answered null");
    }

    private static async Task<string> EnsureSuccessAsync(HttpResponseMessage response, CancellationToken ct)
    {
        var body = await response.Content.ReadAsStringAsync(ct).ConfigureAwait(false);
        return response.IsSuccessStatusCode
            ? body
            : throw new HttpRequestException($"{response.RequestMessage?.Method} {response.RequestMessage?.RequestUri?.PathAndQuery} answered {(int)response.StatusCode}: {Tail(body, 1_000)}", null, response.StatusCode);
    }

    private static DateTimeOffset Time(JsonNode? node) => node!.GetValue<DateTimeOffset>();

    private static string Tail(string text, int length) => text.Length <= length ? text : "…" + text[^length..];

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

    private static JsonObject Machine() => new()
    {
        ["processors"] = Environment.ProcessorCount,
        ["cpu"] = File.Exists("/proc/cpuinfo") ? File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() : null,
        ["os"] = RuntimeInformation.OSDescription,
        ["dotnet"] = Environment.Version.ToString(),
        ["loadAverageAtStart"] = LoadAverage(),
    };
}
