using Flow.Engine;
using Flow.Sdk;
using Flow.TestSupport;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Flow.Storage.Postgres.Tests;

/// <summary>An idle FlowWorker on PostgreSQL is woken by NOTIFY instead of waiting out its poll interval.</summary>
public sealed class PostgresWorkerWakeUpTests(PostgresFixture postgres)
{
    [Fact]
    public async Task FlowWorker_IdleWithATenMinutePollInterval_StartsANewRunAtOnceThroughNotify()
    {
        using var deadline = TestDeadline.Create(TimeSpan.FromSeconds(60));
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["ConnectionStrings:Flow"] = postgres.ConnectionString,
            ["Flow:Storage:Postgres:Schema"] = "wakeup_" + UniqueNames.Suffix()[..8].ToLowerInvariant().Replace("-", "_", StringComparison.Ordinal),
            ["Flow:Worker:MinPollInterval"] = "00:10:00",
            ["Flow:Worker:MaxPollInterval"] = "00:10:00",
        }).Build();
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddFlowPostgresStorage(configuration);
        services.AddFlow(r => r.AddFlow<int, int>("double", (_, x) => Task.FromResult(x * 2))).AddEngine(configuration).AddWorker(configuration);
        await using var provider = services.BuildServiceProvider();
        var hosted = provider.GetServices<IHostedService>().ToList();
        foreach (var service in hosted)
        {
            await service.StartAsync(deadline.Token);
        }

        try
        {
            var engine = provider.GetRequiredService<FlowEngine>();
            // The first run is taken by the worker's first poll; after it the queue is empty and the worker waits up to
            // ten minutes: only the NOTIFY of the second run's enqueue can wake it within the test's deadline.
            var first = await engine.StartRunAsync("double", 1, cancellationToken: deadline.Token);
            Assert.Equal(RunState.Completed, (await engine.WaitForRunAsync(first.RunId, cancellationToken: deadline.Token)).State);
            var second = await engine.StartRunAsync("double", 21, cancellationToken: deadline.Token);
            var done = await engine.WaitForRunAsync(second.RunId, cancellationToken: deadline.Token);

            Assert.Equal(RunState.Completed, done.State);
            Assert.Equal("42", done.Result);
            Assert.True(done.StartedAt!.Value - done.CreatedAt < TimeSpan.FromSeconds(5), $"started {(done.StartedAt.Value - done.CreatedAt).TotalMilliseconds:0} ms after it was created");
        }
        finally
        {
            foreach (var service in hosted.AsEnumerable().Reverse())
            {
                await service.StopAsync(CancellationToken.None);
            }
        }
    }
}
