using System.Collections.Concurrent;
using System.Globalization;
using Flow.Engine;
using Flow.Engine.Storage;
using Flow.Sdk;
using Flow.TestSupport;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace Flow.Storage.Postgres.Tests;

/// <summary>
/// A PostgreSQL restart in the middle of running flows, on a cluster of the test's own (the shared one serves other
/// tests at the same time): the workers' episodes fail with broken connections, their work items come back, the
/// workers reconnect, and every run completes with every task recorded once.
/// </summary>
public sealed class PostgresResilienceTests(ITestOutputHelper output)
{
    private const int Runs = 8;
    private const int TasksPerRun = 30;

    [Fact]
    public async Task ServerRestart_WhileFlowsRun_EveryRunCompletesAndNothingIsLost()
    {
        using var deadline = TestDeadline.Create(TimeSpan.FromSeconds(150));
        await using var postgres = new PostgresFixture();
        await postgres.InitializeAsync().AsTask().WaitAsync(deadline, "a private PostgreSQL to start");
        var executions = new ConcurrentDictionary<(string RunId, int Call), int>();

        using var logs = new CapturingLoggerFactory(LogLevel.Warning, null, "worker");
        await using var services = Services(postgres.ConnectionString, executions, logs);
        var hosted = services.GetServices<IHostedService>().ToList();
        foreach (var service in hosted)
        {
            await service.StartAsync(deadline.Token); // migrations first, then retention and the worker
        }

        var engine = services.GetRequiredService<FlowEngine>();
        var runIds = new List<string>();
        for (var i = 0; i < Runs; i++)
        {
            runIds.Add((await engine.StartRunAsync("steps", TasksPerRun, cancellationToken: deadline.Token)).RunId);
        }

        // Every run is under way (a few tasks recorded, none finished): restart the server under them.
        await using var probe = PostgresConnection.CreateDataSource(postgres.ConnectionString);
        var store = new PostgresFlowStore(probe, new PostgresFlowStorageOptions { Schema = "resilience" });
        await deadline.PollUntilAsync(
            async ct => (await Task.WhenAll(runIds.Select(id => store.GetRunAsync(id, ct)))).All(r => r!.Record.JournalLength >= 3),
            "every run to record 3 tasks");
        var before = (await Task.WhenAll(runIds.Select(id => store.GetRunAsync(id, deadline.Token)))).Select(r => r!.Record).ToList();
        Assert.All(before, r => Assert.Equal(RunState.Running, r.State));

        await postgres.StopServerAsync(deadline.Token);
        await postgres.StartServerAsync(deadline.Token);
        var restartedAt = deadline.Elapsed;

        await deadline.PollUntilAsync(
            async ct => (await Task.WhenAll(runIds.Select(id => store.GetRunAsync(id, ct)))).All(r => r!.Record.State.IsFinal()),
            "every run to finish after the restart");
        output.WriteLine($"restarted at {restartedAt.TotalSeconds:0.0} s with {before.Sum(r => r.JournalLength)} tasks recorded; all done at {deadline.Elapsed.TotalSeconds:0.0} s");

        foreach (var id in runIds)
        {
            var run = (await store.GetRunAsync(id, deadline.Token))!.Record;
            Assert.True(run.State == RunState.Completed, $"Run {id} ended {run.State}: {run.StateMessage} {run.Failure}");
            Assert.Equal((TasksPerRun * (TasksPerRun + 1) / 2).ToString(CultureInfo.InvariantCulture), run.Result);
            Assert.Equal(1, run.Attempt); // the restart failed episodes, never the run
            var journal = (await store.LoadJournalAsync(run, deadline.Token)).Events;
            Assert.Equal(Enumerable.Range(1, TasksPerRun), journal.Where(e => e.Kind == JournalEventKind.TaskCompleted).Select(e => e.CallId));
            for (var call = 1; call <= TasksPerRun; call++)
            {
                // Only a task in flight at the restart may have run twice (its result could not be recorded).
                Assert.InRange(executions.GetValueOrDefault((id, call)), 1, 2);
            }
        }

        Assert.Contains(logs.Entries, e => e.Exception is NpgsqlException); // the restart did break connections under the workers
        foreach (var service in Enumerable.Reverse(hosted))
        {
            await service.StopAsync(deadline.Token);
        }
    }

    private static ServiceProvider Services(string connectionString, ConcurrentDictionary<(string RunId, int Call), int> executions, ILoggerFactory logs)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["ConnectionStrings:Flow"] = connectionString,
            ["Flow:Storage:Postgres:Schema"] = "resilience",
            ["Flow:Engine:WorkerId"] = "worker",
            ["Flow:Engine:LeaseDuration"] = "00:00:03",
            ["Flow:Worker:MaxPollInterval"] = "00:00:00.200",
        }).Build();
        var services = new ServiceCollection();
        services.AddSingleton(logs);
        services.AddLogging();
        services.AddFlowPostgresStorage(configuration);
        services.AddFlow(r => r.AddFlow<int, int>("steps", async (ctx, count) =>
        {
            var total = 0;
            for (var i = 1; i <= count; i++)
            {
                total += await ctx.RunTaskAsync("step", i, async (t, x) =>
                {
                    await Task.Delay(40, t.CancellationToken);
                    executions.AddOrUpdate((ctx.RunId, x), 1, (_, n) => n + 1);
                    return x;
                });
            }

            return total;
        }))
            .AddEngine(configuration)
            .AddWorker(configuration);
        return services.BuildServiceProvider();
    }
}
