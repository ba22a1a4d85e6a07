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
/// <c>--poll-ms</c>, default 250), a <c>flow-run.Failed</c> event is appended every <c>--interval-ms</c> (default 137, so events
/// fall at every phase of the poll), and the latency is the time from the append to the send-event action's event being stored.
/// The control store is a fresh private Azurite (default), PostgreSQL or memory; the event store is in memory (the durable
/// event stores arrive with the events work). Prints JSON: p50/p90/p99/max latency and control-store round trips per idle
/// poll and per event.
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
        switch (backend)
        {
            case "memory":
                control = new InMemoryControlStore();
                break;
            case "postgres":
                var postgres = new LocalPostgres();
                await postgres.StartAsync(CancellationToken.None).ConfigureAwait(false);
                fixture = postgres;
                control = new PostgresControlStore(NpgsqlDataSource.Create(postgres.ConnectionString), new PostgresFlowStorageOptions { Schema = "bench_automations" });
                break;
            case "azure":
                var azurite = new LocalAzurite();
                await azurite.StartAsync(CancellationToken.None).ConfigureAwait(false);
                fixture = azurite;
                control = new AzureControlStore(AzureSdkClients.CreateTableService(StorageConnection.Parse(azurite.ConnectionString)), new AzureFlowStorageOptions { TablePrefix = "Bench" });
                break;
            default:
                await Console.Error.WriteLineAsync("--backend must be azure, postgres or memory").ConfigureAwait(false);
                return 2;
        }

        try
        {
            await control.InitializeAsync(CancellationToken.None).ConfigureAwait(false);
            var (counted, counter) = CountingProxy<IControlStore>.Wrap(control);
            var events = new SignallingEventStore("bench.acted");
            var services = new ServiceCollection();
            services.AddSingleton<IFlowStore>(new InMemoryFlowStore());
            services.AddSingleton<IWorkQueue>(new InMemoryWorkQueue());
            services.AddSingleton(counted);
            services.AddSingleton<IEventStore>(events);
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
            var idleTicks0 = Interlocked.Read(ref ticks);
            await Task.Delay(TimeSpan.FromSeconds(3)).ConfigureAwait(false);
            var idlePerTick = (double)(counter.Calls - idleCalls0) / Math.Max(1, Interlocked.Read(ref ticks) - idleTicks0);

            var calls0 = counter.Calls;
            var ticks0 = Interlocked.Read(ref ticks);
            var latencies = new List<double>(count);
            var pending = new List<Task>();
            var started = Stopwatch.StartNew();
            for (var i = 0; i < count; i++)
            {
                var resource = "flow-run/bench-" + i.ToString(CultureInfo.InvariantCulture);
                var acted = events.WhenActedAsync(resource);
                var sent = DateTimeOffset.UtcNow;
                await events.AppendAsync([new FlowEvent { Id = $"bench-{i}.t3", Kind = "flow-run.Failed", OccurredAt = sent, Resource = new EventResource(resource) }], CancellationToken.None).ConfigureAwait(false);
                pending.Add(acted.ContinueWith(t => { lock (latencies) { latencies.Add((t.Result - sent).TotalMilliseconds); } }, TaskScheduler.Default));
                await Task.Delay(interval).ConfigureAwait(false);
            }

            await Task.WhenAll(pending).WaitAsync(TimeSpan.FromMinutes(2)).ConfigureAwait(false);
            var seconds = started.Elapsed.TotalSeconds;
            var eventCalls = counter.Calls - calls0;
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
                ["description"] = "latency from a flow-run.Failed event to its send-event action (a reactive automation), standalone evaluator loop; control store on the backend, event store in memory",
                ["events"] = count,
                ["intervalMs"] = interval.TotalMilliseconds,
                ["pollMs"] = poll.TotalMilliseconds,
                ["latencyMs"] = new JsonObject { ["p50"] = P(0.50), ["p90"] = P(0.90), ["p99"] = P(0.99), ["max"] = Math.Round(latencies[^1], 1) },
                ["controlStoreCallsPerIdlePoll"] = Math.Round(idlePerTick, 2),
                ["controlStoreCallsPerEvent"] = Math.Round((eventCalls - (idlePerTick * eventTicks)) / count, 2),
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
}
