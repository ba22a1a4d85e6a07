using System.Globalization;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Runtime.InteropServices;
using Flow.Engine;
using Flow.Engine.Storage;
using Flow.Sdk;
using Microsoft.Extensions.DependencyInjection;

namespace Flow.Process;

/// <summary>
/// The entry point of a flow app that a process worker starts as a subprocess:
/// <code>return await FlowProcess.RunAsync(args, flows => flows.AddFlow&lt;MyFlow&gt;());</code>
/// It reads <c>FLOW_RUN_ID</c>, <c>FLOW_API_URL</c>, <c>FLOW_RUN_TOKEN</c> and <c>FLOW_LEASE_OWNER</c> from its environment, and
/// runs one episode of that run with Flow's engine, unchanged, on a state store that is the process API (limited to this run by
/// the token): task runs, retries, caching, artifacts, logs, durable sleeps and flow retries behave as in-app, and after a crash
/// the next process replays the journal and finished tasks do not run again. Process flows run their tasks inline (no
/// distributed tasks, no subflows). With <c>FLOW_HOOK=1</c> (and a hook token) the worker started it only to run the state hook a
/// finished run still owes — the flow's OnCrashed after its process died, or a hook its process died before running: the episode
/// runs that hook and records it, and nothing else (docs/hooks.md). Exit codes: 0 the run was settled (finished, suspended or
/// awaiting a retry) or its hook recorded; 1 the episode failed; 2 the environment is missing a variable; 130 stopped by
/// SIGTERM/SIGINT.
/// </summary>
public static class FlowProcess
{
    /// <summary>Runs the flow of the run named by the environment.</summary>
    /// <param name="args">The command-line arguments (unused; reserved).</param>
    /// <param name="flows">Registers the app's flows; the run's flow name must be among them.</param>
    /// <param name="configureServices">Adds services the flows need, or null.</param>
    /// <returns>The process exit code.</returns>
    public static async Task<int> RunAsync(string[] args, Action<FlowRegistry> flows, Action<IServiceCollection>? configureServices = null)
    {
        ArgumentNullException.ThrowIfNull(flows);
        _ = args;
        var runId = Environment.GetEnvironmentVariable("FLOW_RUN_ID");
        var api = Environment.GetEnvironmentVariable("FLOW_API_URL");
        var token = Environment.GetEnvironmentVariable("FLOW_RUN_TOKEN");
        var owner = Environment.GetEnvironmentVariable("FLOW_LEASE_OWNER");
        if (string.IsNullOrEmpty(runId) || string.IsNullOrEmpty(api) || string.IsNullOrEmpty(token) || string.IsNullOrEmpty(owner))
        {
            await Console.Error.WriteLineAsync("flow process: FLOW_RUN_ID, FLOW_API_URL, FLOW_RUN_TOKEN and FLOW_LEASE_OWNER must be set; a Flow process worker sets them when it starts this program for a run.").ConfigureAwait(false);
            return 2;
        }

        var lease = double.TryParse(Environment.GetEnvironmentVariable("FLOW_LEASE_SECONDS"), NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds) && seconds >= 2 ? TimeSpan.FromSeconds(seconds) : TimeSpan.FromSeconds(60);
        using var stop = new CancellationTokenSource();
        using var term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, c => { c.Cancel = true; stop.Cancel(); });
        using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => { c.Cancel = true; stop.Cancel(); });
        using var http = new HttpClient { BaseAddress = new Uri(api.TrimEnd('/') + "/"), Timeout = TimeSpan.FromSeconds(100) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        try
        {
            AttachResponse limits;
            using (var response = await http.PostAsync($"{ProcessWire.RunsPath}/{Uri.EscapeDataString(runId)}/attach", null, stop.Token).ConfigureAwait(false))
            {
                await HttpRunStore.EnsureAsync(response, stop.Token).ConfigureAwait(false);
                limits = (await response.Content.ReadFromJsonAsync<AttachResponse>(ProcessWire.Json, stop.Token).ConfigureAwait(false))!;
            }

            var services = new ServiceCollection();
            var store = new HttpRunStore(http, runId, limits);
            var queue = new HttpRunQueue(http, runId);
            services.AddSingleton<IFlowStore>(store);
            services.AddSingleton<IWorkQueue>(queue);
            configureServices?.Invoke(services);
            services.AddFlow(flows).AddEngine(null, o =>
            {
                o.WorkerId = owner;
                o.AdoptOwnLease = true;
                o.LeaseDuration = lease;
            });
            var provider = services.BuildServiceProvider();
            await using var disposeProvider = provider.ConfigureAwait(false);
            var engine = provider.GetRequiredService<FlowEngine>();
            var current = await store.GetRunAsync(runId, stop.Token).ConfigureAwait(false);
            var owesHook = current?.Record is { HookPending: true, State: var ended } && ended.IsFinal();
            if (Environment.GetEnvironmentVariable("FLOW_HOOK") == "1" && !owesHook)
            {
                // Started only for the run's owed state hook (docs/hooks.md), which someone has recorded meanwhile: nothing to do.
                return 0;
            }

            var item = new WorkItem { Kind = WorkItem.RunKind, RunId = runId, RunAttempt = current?.Record.Attempt ?? 0, Reason = "process" };
            var leased = new LeasedWorkItem(FlowEngine.RunQueueName(current?.Record.Pool ?? "default"), item, "process-" + runId, "process", 1, DateTimeOffset.UtcNow + lease, "{}");
            await engine.ProcessDeliveredAsync(leased, stop.Token).ConfigureAwait(false);
            var after = await store.GetRunAsync(runId, CancellationToken.None).ConfigureAwait(false);
            if (after is { Record: { State: RunState.Running, LeaseOwner: var holder } } && holder == owner)
            {
                await Console.Error.WriteLineAsync($"flow process: the episode of run {runId} ended without settling the run.").ConfigureAwait(false);
                return 1;
            }

            return 0;
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            await Console.Error.WriteLineAsync("flow process: stopped by a signal.").ConfigureAwait(false);
            return 130;
        }
        catch (Exception e) when (e is FlowException or HttpRequestException or NotSupportedException or InvalidOperationException)
        {
            await Console.Error.WriteLineAsync($"flow process: run {runId} failed: {e.GetType().Name}: {e.Message}").ConfigureAwait(false);
            return 1;
        }
    }
}
