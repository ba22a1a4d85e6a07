using Flow.Sdk;
using Flow.TestSupport;

namespace Flow.Process.Tests;

/// <summary><c>flow worker start</c> on PostgreSQL: the CLI's worker chooses its backend the way the app does (Flow:Storage:Backend).</summary>
public sealed class PostgresWorkerTests(AzuriteFixture azurite, PostgresFixture postgres) : IClassFixture<PostgresFixture>
{
    [Fact]
    public async Task CliWorker_OnPostgresWithNoAzureSetting_RunsAProcessDeploymentToCompletion()
    {
        using var deadline = TestDeadline.Create(TimeSpan.FromSeconds(90));
        await using var app = await ProcessTestApp.StartAsync(azurite, postgres, deadline, hostWorker: false);
        var deployment = await app.DeployAsync("pg-echo", ["sh", "-c", "echo hello from $FLOW_RUN_ID"], deadline);

        // The app serves no process pool: only the CLI worker, given the PostgreSQL settings alone, can run the deployment.
        await using var worker = app.StartCliWorker("worker-pg");
        await worker.WaitForOutputAsync(l => l.Contains("serving process pool", StringComparison.Ordinal), deadline);
        var runId = await app.TriggerAsync(deployment, deadline);
        var run = await app.WaitFinalAsync(runId, deadline);

        Assert.True(run.State == RunState.Completed, $"{run.State}: {run.StateMessage}\nworker:\n{worker.Output}");
        Assert.Contains(await app.LogsAsync(runId, deadline), l => l.Message == $"hello from {runId}");
        Assert.False(worker.HasExited, worker.Output);
    }
}
