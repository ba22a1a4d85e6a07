using Flow.Benchmarks.Api;
using Flow.Benchmarks.Engine;

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

if (args is ["durable", .. var durableArgs])
{
    return await Flow.Benchmarks.Durable.DurableBenchmark.RunAsync(durableArgs);
}

if (args is ["postgres", .. var postgresArgs])
{
    return await EngineBenchmark.RunAsync(["--backend", "postgres", .. postgresArgs]);
}

if (args is ["automations", .. var automationArgs])
{
    return await Flow.Benchmarks.Automations.AutomationBenchmark.RunAsync(automationArgs);
}

if (args is [ProcessBenchWorker.Mode, var workerId])
{
    return await ProcessBenchWorker.RunChildAsync(workerId);
}

// Usage: dotnet run -c Release --project bench/Flow.Benchmarks -- <benchmark> [options]
//   engine    the engine benchmark (Engine/EngineBenchmark.cs)
//   postgres  the engine benchmark on a private PostgreSQL with pgbench's simple-update TPS in the same run (= engine --backend postgres)
//   api       the API benchmark on the built app (Api/ApiBenchmark.cs)
//   dashboard the dashboard benchmark (Dashboard/DashboardBenchmark.cs)
//   process   the process worker benchmark (Process/ProcessBenchmark.cs)
//   automations event -> action latency of a reactive automation, standalone (Automations/AutomationBenchmark.cs)
//   durable   Flow's engine against the Durable Task Framework on one private Azurite (Durable/DurableBenchmark.cs)
// The storage-client benchmarks (Flow's hand-written Table/Queue clients against the official JS and .NET SDKs) went with
// the clients; their recorded results stay in bench/results/sdk-vs-rest.json and docs/benchmarks.md.
Console.Error.WriteLine("Usage: Flow.Benchmarks <engine|postgres|api|dashboard|process|durable|automations> [options]");
return 2;
