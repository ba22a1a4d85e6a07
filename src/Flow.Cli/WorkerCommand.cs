using System.CommandLine;
using Flow.Engine;
using Flow.ControlPlane;
using Flow.Engine.Storage;
using Flow.Process;
using Flow.Sdk;
using Flow.Storage.Azure;
using Microsoft.Extensions.Configuration;
using Flow.Storage.Backends;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Spectre.Console;

namespace Flow.Cli;

/// <summary><c>flow worker start --pool NAME</c>: a process worker on this machine (the hybrid model: code and data stay here).</summary>
internal static class WorkerCommand
{
    public static Command Create()
    {
        var pool = new Option<string[]>("--pool", "-p") { Description = "The process work pool(s) to serve.", Required = true, AllowMultipleArgumentsPerToken = true };
        var api = new Option<string?>("--api") { Description = "The Flow API's address, handed to each subprocess (default: FLOW_API_URL, else http://127.0.0.1:7071)." };
        var limit = new Option<int?>("--limit") { Description = "The most subprocesses at once (default 8)." };
        var workerId = new Option<string?>("--id") { Description = "This worker's id as a lease owner (default: host-pid-random)." };
        var allow = new Option<string[]>("--allow") { Description = "An executable deployments may run on this machine (repeatable): an absolute path, a name looked up on this worker's PATH, or a path relative to this directory. A deployment's command must resolve to one of them; its PATH is never used. An interpreter you allow (bash, python3, dotnet) runs whatever it is given.", AllowMultipleArgumentsPerToken = true };
        var allowAny = new Option<bool>("--allow-any-executable") { Description = "Let deployments run any executable of this machine instead of an --allow list." };
        var start = new Command("start", "Start a process worker: it takes runs from the pools' queues and runs each deployment's command as a subprocess. Storage as in the app: Flow:Storage:Backend = Azure (AzureWebJobsStorage) or Postgres (ConnectionStrings:Flow), from the environment or --Flow:Storage:... settings.")
        {
            pool, api, limit, workerId, allow, allowAny,
        };
        start.TreatUnmatchedTokensAsErrors = false;
        start.SetAction(async (parse, ct) => await StartAsync(parse.GetValue(pool)!, parse.GetValue(api), parse.GetValue(limit), parse.GetValue(workerId), new Allowed(parse.GetValue(allow) ?? [], parse.GetValue(allowAny)), [.. parse.UnmatchedTokens], ct));
        var worker = new Command("worker", "Process workers.") { start };
        return worker;
    }

    private static async Task<int> StartAsync(string[] pools, string? api, int? limit, string? workerId, Allowed allowed, string[] extra, CancellationToken ct)
    {
        var builder = Host.CreateApplicationBuilder(extra);
        if (allowed.Executables.Length == 0 && !allowed.Any && builder.Configuration.GetSection("Flow:ProcessWorker:AllowedExecutables").GetChildren().All(c => string.IsNullOrEmpty(c.Value)) && !builder.Configuration.GetValue<bool>("Flow:ProcessWorker:AllowAnyExecutable"))
        {
            await Console.Error.WriteLineAsync("flow: error: say what may run on this machine: --allow EXECUTABLE (repeatable, e.g. --allow /usr/bin/python3 --allow ./etl.sh) or --allow-any-executable.");
            return 2;
        }

        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.Logging.AddFilter("Flow.Process", LogLevel.Information);
        var apiUrl = api ?? Environment.GetEnvironmentVariable("FLOW_API_URL") ?? builder.Configuration["Flow:ProcessWorker:ApiUrl"] ?? "http://127.0.0.1:7071";
        try
        {
            // The app's backend selection: Flow:Storage:Backend = Azure (AzureWebJobsStorage) or Postgres (ConnectionStrings:Flow).
            builder.Services.AddFlowStorage(builder.Configuration, functionsMode: false);
            builder.Services.AddFlow().AddEngine(builder.Configuration, o =>
            {
                if (workerId is not null)
                {
                    o.WorkerId = workerId;
                }
            }).AddControlPlane(builder.Configuration);
            builder.Services.AddFlowProcess(builder.Configuration, hostWorker: true, o =>
            {
                o.Pools.Clear();
                foreach (var p in pools)
                {
                    o.Pools.Add(p);
                }

                o.ApiUrl = apiUrl;
                foreach (var executable in allowed.Executables)
                {
                    o.AllowedExecutables.Add(executable);
                }

                o.AllowAnyExecutable |= allowed.Any;
                if (limit is { } n)
                {
                    o.MaxConcurrentRuns = n;
                }
            });
            using var host = builder.Build();
            var control = host.Services.GetRequiredService<IControlStore>();
            await host.Services.GetRequiredService<IFlowStore>().InitializeAsync(ct);
            await control.InitializeAsync(ct);
            foreach (var name in pools)
            {
                var record = (await control.GetWorkPoolAsync(name, ct))?.Record;
                if (record is null)
                {
                    AnsiConsole.MarkupLineInterpolated($"[red]flow: work pool '{name}' does not exist[/] (create it with type process: PUT /api/work-pools/{name}).");
                    return 2;
                }

                if (record.Type != WorkPoolRecord.ProcessType)
                {
                    AnsiConsole.MarkupLineInterpolated($"[red]flow: work pool '{name}' is a {record.Type} pool[/]; a process worker serves process pools only.");
                    return 2;
                }
            }

            var id = host.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<FlowEngineOptions>>().Value.WorkerId;
            var allowList = host.Services.GetRequiredService<ProcessRunExecutor>().AllowList;
            AnsiConsole.MarkupLineInterpolated($"[green]Worker {id}[/] serving process pool(s) [bold]{string.Join(", ", pools)}[/]; API {apiUrl}; may run {(allowList.AllowsAny ? "any executable" : string.Join(", ", allowList.Files))}. Ctrl-C stops it.");
            await host.RunAsync(ct);
            return 0;
        }
        catch (Exception e) when (e is StorageConfigurationException or ArgumentException or InvalidOperationException or Microsoft.Extensions.Options.OptionsValidationException or FlowStoreException)
        {
            await Console.Error.WriteLineAsync("flow: error: " + e.Message);
            return 2;
        }
    }

    private sealed record Allowed(string[] Executables, bool Any);
}
