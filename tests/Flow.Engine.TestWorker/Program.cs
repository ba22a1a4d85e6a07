// A Flow worker process for the crash-recovery tests: the engine and its FlowWorker on Azure Storage or PostgreSQL, serving one flow,
// "twenty-tasks", of sequential inline tasks. Each task appends a side-effect line to a file outside the engine, then
// prints "task {callId} done", so a test can SIGKILL the process at a chosen point and count side effects afterwards.
//
// Configuration (command line --Key=value or environment Key with __ for ':'):
//   Flow:Storage:Backend                Azure (default) or Postgres
//   AzureWebJobsStorage                 Azure: the storage connection string
//   Flow:Storage:Azure:TablePrefix      Azure: table prefix (isolates a test)
//   Flow:Storage:Azure:QueuePrefix      Azure: queue prefix (isolates a test)
//   ConnectionStrings:Flow              Postgres: the connection string
//   Flow:Storage:Postgres:Schema        Postgres: the schema (isolates a test)
//   Flow:Engine:WorkerId                this process's lease owner id (different per process)
//   Flow:Engine:LeaseDuration           e.g. 00:00:03: a killed worker's run is taken over after this
//   CrashTest:SideEffectFile            where each task appends "{callId} {attempt} {pid} {workerId} {idempotencyKey}"
//   CrashTest:TaskDelay                 how long each task works before its side effect (default 0)
//   CrashTest:PauseAt                   the call id of the task that stops and waits forever (default 0: none) ...
//   CrashTest:PauseBeforeSideEffect     ... before its side effect (true; it prints "task {callId} started") or after it (false)
//   CrashTest:PauseInHook               the flow's OnCompletion hook prints "hook started" and waits forever before its side effect
//                                       (a line "{idempotencyKey} {pid} {workerId}" in SideEffectFile + ".hooks"; then "hook done")
//
// Output: "ready pid={pid}" once the worker runs; "task {callId} done" after each side effect ("task {callId} started"
// before the task that pauses before it); the engine's logs, one line each.
using System.Globalization;
using Flow.Engine;
using Flow.Engine.TestWorker;
using Flow.Sdk;
using Flow.Storage.Azure;
using Flow.Storage.Postgres;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

var builder = Host.CreateApplicationBuilder(args);
builder.Logging.ClearProviders();
builder.Logging.AddSimpleConsole(o =>
{
    o.SingleLine = true;
    o.TimestampFormat = "HH:mm:ss.fff ";
});
builder.Logging.AddFilter("Flow.Engine", LogLevel.Debug); // episode starts (with "recovery: True"), dropped items, lost leases

var settings = new CrashTestSettings();
builder.Configuration.GetSection(CrashTestSettings.SectionName).Bind(settings);
settings.Validate();
var workerId = builder.Configuration["Flow:Engine:WorkerId"] ?? "worker";
var sideEffects = new SideEffects(settings, workerId);

var backend = builder.Configuration["Flow:Storage:Backend"] ?? "Azure";
if (string.Equals(backend, "Postgres", StringComparison.OrdinalIgnoreCase))
{
    builder.Services.AddFlowPostgresStorage(builder.Configuration);
}
else
{
    builder.Services.AddFlowAzureStorage(builder.Configuration);
}

builder.Services.AddFlow(r => r.AddFlow<int, int>(CrashTestSettings.FlowName, async (ctx, count) =>
{
    var total = 0;
    for (var i = 1; i <= count; i++)
    {
        total += await ctx.RunTaskAsync("step", i, sideEffects.StepAsync);
    }

    return total;
}, new FlowOptions { OnCompletion = sideEffects.HookAsync }))
    .AddEngine(builder.Configuration)
    .AddWorker(builder.Configuration);

using var host = builder.Build();
host.Services.GetRequiredService<IHostApplicationLifetime>().ApplicationStarted.Register(() =>
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"ready pid={Environment.ProcessId}")));
await host.RunAsync();
