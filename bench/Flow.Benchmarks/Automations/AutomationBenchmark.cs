using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Flow.ControlPlane;
using Flow.ControlPlane.Automations;
using Flow.Engine;
using Flow.Engine.Events;
using Flow.Engine.Storage;
using Flow.Engine.Storage.InMemory;
using Flow.Sdk;
using Flow.Storage.Azure;
using Flow.Storage.Postgres;
using Flow.LocalServices;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Flow.Benchmarks.Automations;

/// <summary>
/// Event → action latency of a reactive automation, standalone: the evaluator polls as <c>AutomationLoop</c> does (every
/// <c>--poll-ms</c>, default 250); every <c>--interval-ms</c> (default 137, so events fall at every phase of the poll) the
/// backend's flow store creates a run in state Failed, whose <c>flow-run.Failed</c> event is written by the store's outbox in
/// that commit (and on Azure relayed to the event table after it); the latency is the time from the commit's return to the
/// send-event action's event being stored. Flow store, event store and control store are all the backend's: a fresh private
/// Azurite (default), PostgreSQL, or memory. Prints JSON: p50/p90/p99/max latency, and the control-store and event-store
/// calls (round trips) per idle poll and per event.
/// Usage: Flow.Benchmarks automations [--backend azure|postgres|memory] [--events 200] [--interval-ms 137] [--poll-ms 250]
/// </summary>
public static class AutomationBenchmark
{
    /// <summary>Runs the benchmark.</summary>
    /// <param name="args">The options.</param>
    /// <returns>The exit code.</returns>
    public static async Task<int> RunAsync(string[] args)
    {
        ArgumentNullException.ThrowIfNull(args);
        string Arg(string name, string fallback) => args.SkipWhile(a => a != name).Skip(1).FirstOrDefault() ?? fallback;
        var backend = Arg("--backend", "azure");
        var count = int.Parse(Arg("--events", "200"), CultureInfo.InvariantCulture);
        var interval = TimeSpan.FromMilliseconds(int.Parse(Arg("--interval-ms", "137"), CultureInfo.InvariantCulture));
        var poll = TimeSpan.FromMilliseconds(int.Parse(Arg("--poll-ms", "250"), CultureInfo.InvariantCulture));

        IAsyncDisposable? fixture = null;
        IControlStore control;
        IFlowStore runs;
        IEventStore eventStore;
        switch (backend)
        {
            case "memory":
                var memoryEvents = new InMemoryEventStore();
                control = new InMemoryControlStore(memoryEvents);
                runs = new InMemoryFlowStore(events: memoryEvents);
                eventStore = memoryEvents;
                break;
            case "postgres":
                var postgres = new LocalPostgres();
                await postgres.StartAsync(CancellationToken.None).ConfigureAwait(false);
                fixture = postgres;
                var dataSource = NpgsqlDataSource.Create(postgres.ConnectionString);
                var pgOptions = new PostgresFlowStorageOptions { Schema = "bench_automations" };
                control = new PostgresControlStore(dataSource, pgOptions);
                runs = new PostgresFlowStore(dataSource, pgOptions);
                eventStore = new PostgresEventStore(dataSource, pgOptions);
                break;
            case "azure":
                var azurite = new LocalAzurite();
                await azurite.StartAsync(CancellationToken.None).ConfigureAwait(false);
                fixture = azurite;
                var tables = AzureSdkClients.CreateTableService(StorageConnection.Parse(azurite.ConnectionString));
                var azOptions = new AzureFlowStorageOptions { TablePrefix = "Bench" };
                var azureEvents = new AzureEventStore(tables, azOptions);
                control = new AzureControlStore(tables, azOptions, null, azureEvents);
                runs = new AzureFlowStore(tables, azOptions, null, azureEvents);
                eventStore = azureEvents;
                break;
            default:
                await Console.Error.WriteLineAsync("--backend must be azure, postgres or memory").ConfigureAwait(false);
                return 2;
        }

        try
        {
            await control.InitializeAsync(CancellationToken.None).ConfigureAwait(false);
            await runs.InitializeAsync(CancellationToken.None).ConfigureAwait(false);
            await eventStore.InitializeAsync(CancellationToken.None).ConfigureAwait(false);
            var (counted, counter) = CountingProxy<IControlStore>.Wrap(control);
            var events = new SignallingEventStore("bench.acted", eventStore);
            var (countedEvents, eventCounter) = CountingProxy<IEventStore>.Wrap(events);
            var services = new ServiceCollection();
            services.AddSingleton(runs);
            services.AddSingleton<IWorkQueue>(new InMemoryWorkQueue());
            services.AddSingleton(counted);
            services.AddSingleton(countedEvents);
            services.AddFlow(_ => { }).AddEngine().AddControlPlane();
            services.Configure<AutomationOptions>(o => o.PollInterval = poll);
            await using var provider = services.BuildServiceProvider();
            await provider.GetRequiredService<AutomationService>().ApplyAsync("bench", new AutomationSpec
            {
                Trigger = new AutomationTrigger { Expect = ["flow-run.Failed"] },
                Actions = [new AutomationAction { Type = AutomationActionTypes.SendEvent, Kind = "bench.acted", Resource = "{{ event.resource.id }}" }],
            }, "bench", CancellationToken.None).ConfigureAwait(false);
            var evaluator = provider.GetRequiredService<AutomationEvaluator>();
            await evaluator.TickAsync(CancellationToken.None).ConfigureAwait(false);

            using var stop = new CancellationTokenSource();
            long ticks = 0;
            var loop = Task.Run(async () =>
            {
                using var timer = new PeriodicTimer(provider.GetRequiredService<IOptions<AutomationOptions>>().Value.PollInterval);
                while (await timer.WaitForNextTickAsync(stop.Token).ConfigureAwait(false))
                {
                    await evaluator.TickAsync(stop.Token).ConfigureAwait(false);
                    Interlocked.Increment(ref ticks);
                }
            });

            // Idle: what polling costs with nothing to do.
            var idleCalls0 = counter.Calls;
            var idleEventCalls0 = eventCounter.Calls;
            var idleTicks0 = Interlocked.Read(ref ticks);
            await Task.Delay(TimeSpan.FromSeconds(3)).ConfigureAwait(false);
            var idleTickCount = Math.Max(1, Interlocked.Read(ref ticks) - idleTicks0);
            var idlePerTick = (double)(counter.Calls - idleCalls0) / idleTickCount;
            var idleEventPerTick = (double)(eventCounter.Calls - idleEventCalls0) / idleTickCount;

            var calls0 = counter.Calls;
            var eventCalls0 = eventCounter.Calls;
            var ticks0 = Interlocked.Read(ref ticks);
            var latencies = new List<double>(count);
            var pending = new List<Task>();
            var started = Stopwatch.StartNew();
            for (var i = 0; i < count; i++)
            {
                var runId = "bench-" + i.ToString(CultureInfo.InvariantCulture);
                var acted = events.WhenActedAsync("flow-run/" + runId);
                var (run, first) = FailedRun(runId, DateTimeOffset.UtcNow);
                await runs.CreateRunAsync(run, first, CancellationToken.None).ConfigureAwait(false);
                var sent = DateTimeOffset.UtcNow; // the commit has returned: the event is stored (in the outbox on Azure)
                pending.Add(acted.ContinueWith(t => { lock (latencies) { latencies.Add((t.Result - sent).TotalMilliseconds); } }, TaskScheduler.Default));
                await Task.Delay(interval).ConfigureAwait(false);
            }

            await Task.WhenAll(pending).WaitAsync(TimeSpan.FromMinutes(2)).ConfigureAwait(false);
            var seconds = started.Elapsed.TotalSeconds;
            var eventCalls = counter.Calls - calls0;
            var eventStoreCalls = eventCounter.Calls - eventCalls0;
            var eventTicks = Interlocked.Read(ref ticks) - ticks0;
            await stop.CancelAsync().ConfigureAwait(false);
            try
            {
                await loop.ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
            }

            latencies.Sort();
            double P(double q) => Math.Round(latencies[Math.Min(latencies.Count - 1, (int)Math.Ceiling(q * latencies.Count) - 1)], 1);
            var json = new JsonObject
            {
                ["benchmark"] = "automations",
                ["backend"] = backend,
                ["description"] = "latency from the commit of a run's Failed state (its flow-run.Failed event in that commit's outbox) to the send-event action's event being stored (a reactive automation), standalone evaluator loop; flow, event and control stores all on the backend",
                ["events"] = count,
                ["intervalMs"] = interval.TotalMilliseconds,
                ["pollMs"] = poll.TotalMilliseconds,
                ["latencyMs"] = new JsonObject { ["p50"] = P(0.50), ["p90"] = P(0.90), ["p99"] = P(0.99), ["max"] = Math.Round(latencies[^1], 1) },
                ["controlStoreCallsPerIdlePoll"] = Math.Round(idlePerTick, 2),
                ["controlStoreCallsPerEvent"] = Math.Round((eventCalls - (idlePerTick * eventTicks)) / count, 2),
                ["eventStoreCallsPerIdlePoll"] = Math.Round(idleEventPerTick, 2),
                ["eventStoreCallsPerEvent"] = Math.Round((eventStoreCalls - (idleEventPerTick * eventTicks)) / count, 2),
                ["notCounted"] = backend == "azure" ? "the outbox relay's requests (docs/events.md: 8 for a run's one pending event), made by the flow store after the commit" : null,
                ["eventsPerSecondOffered"] = Math.Round(count / seconds, 1),
                ["processorCount"] = Environment.ProcessorCount,
                ["load"] = File.Exists("/proc/loadavg") ? (await File.ReadAllTextAsync("/proc/loadavg").ConfigureAwait(false)).Trim() : null,
            };
            Console.WriteLine(json.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
            return 0;
        }
        finally
        {
            if (fixture is not null)
            {
                await fixture.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    private static (FlowRunRecord Run, StateTransition First) FailedRun(string runId, DateTimeOffset now)
    {
        var run = new FlowRunRecord
        {
            RunId = runId,
            FlowName = "bench",
            Deployment = "bench/failing",
            State = RunState.Failed,
            StateMessage = "bench failure",
            StateTime = now,
            TransitionCount = 1,
            Parameters = "{}",
            Failure = new FailureInfo("System.InvalidOperationException", "bench failure"),
            CreatedAt = now,
            ScheduledAt = now,
            StartedAt = now,
            EndedAt = now,
        };
        return (run, new StateTransition(1, null, RunState.Failed, now, run.StateMessage, 1));
    }
}
