using Flow.Sdk;
using Flow.TestSupport;

namespace Flow.Process.Tests;

/// <summary>
/// Process workers as separate processes (<c>flow worker start</c>) killed with SIGKILL mid-run, and a Flow.Sdk process flow
/// (tests/Flow.Process.TestApp) that keeps its journal through the API.
/// </summary>
public sealed class WorkerCrashTests(AzuriteFixture azurite)
{
    private static string TestAppDll => Path.Combine(RepoPaths.Root, "tests", "Flow.Process.TestApp", "bin", RepoPaths.Configuration, RepoPaths.TargetFramework, "Flow.Process.TestApp.dll");

    [Fact]
    public async Task SdkFlow_CompletesThroughTheApi_AsInApp()
    {
        using var deadline = TestDeadline.Create(TimeSpan.FromSeconds(60));
        await using var app = await ProcessTestApp.StartAsync(azurite, deadline);
        var marker = Path.Combine(Path.GetTempPath(), "flow-marks-" + Guid.NewGuid().ToString("N"));
        try
        {
            var deployment = await app.DeployAsync("sdk", [RepoPaths.DotNetHost, TestAppDll], deadline, parameters: new { count = 5, marker }, flow: "steps");

            var runId = await app.TriggerAsync(deployment, deadline);
            var run = await app.WaitFinalAsync(runId, deadline);

            Assert.True(run.State == RunState.Completed, $"{run.State}: {run.StateMessage} {string.Join(" | ", (await app.LogsAsync(runId, deadline)).Select(l => l.Message))}");
            Assert.Equal("55", run.Result);
            Assert.Equal(["1", "2", "3", "4", "5"], await File.ReadAllLinesAsync(marker, deadline));
            Assert.Equal(5, run.JournalLength - (await app.Store.LoadJournalAsync(run, deadline)).Events.Count(e => e.Kind != Flow.Engine.Storage.JournalEventKind.TaskCompleted));
            Assert.Contains(await app.LogsAsync(runId, deadline), l => l.Message == "step 5 done");
            Assert.Contains(await app.Store.GetArtifactsAsync(runId, deadline), a => a.Key == "summary");
        }
        finally
        {
            File.Delete(marker);
        }
    }

    [Fact]
    public async Task WorkerKilled_SdkFlow_ResumesWithoutRerunningFinishedTasks()
    {
        using var deadline = TestDeadline.Create(TimeSpan.FromSeconds(90));
        await using var app = await ProcessTestApp.StartAsync(azurite, deadline, hostWorker: false);
        var marker = Path.Combine(Path.GetTempPath(), "flow-marks-" + Guid.NewGuid().ToString("N"));
        try
        {
            var deployment = await app.DeployAsync("sdk-crash", [RepoPaths.DotNetHost, TestAppDll], deadline, parameters: new { count = 8, marker, delayMs = 300 }, flow: "steps");
            var runId = await app.TriggerAsync(deployment, deadline);
            await using (var first = app.StartCliWorker("worker-one"))
            {
                await deadline.PollUntilAsync(_ => Task.FromResult(File.Exists(marker) && File.ReadAllLines(marker).Length >= 3), "three tasks to have run under the first worker");
                ProcessRunner.SendSigkill(first.Id);
                await first.WaitForExitAsync(deadline);
            }

            var beforeTakeover = (await app.Store.GetRunAsync(runId, deadline))!.Record;
            var recorded = (await app.Store.LoadJournalAsync(beforeTakeover, deadline)).Events.Count(e => e.Kind == Flow.Engine.Storage.JournalEventKind.TaskCompleted);
            await using var second = app.StartCliWorker("worker-two");
            var run = await app.WaitFinalAsync(runId, deadline);

            Assert.True(run.State == RunState.Completed, $"{run.State}: {run.StateMessage} {string.Join(" | ", (await app.LogsAsync(runId, deadline)).Select(l => l.Message))}");
            Assert.Equal(Enumerable.Range(1, 8).Sum(i => i * i).ToString(System.Globalization.CultureInfo.InvariantCulture), run.Result);
            Assert.Equal(1, run.Attempt);
            var marks = (await File.ReadAllLinesAsync(marker, deadline)).Select(int.Parse).ToList();
            Assert.Equal(Enumerable.Range(1, 8), marks.Distinct().Order());
            foreach (var task in Enumerable.Range(1, recorded))
            {
                Assert.True(marks.Count(m => m == task) == 1, $"task {task} was recorded before the kill and ran {marks.Count(m => m == task)} times: {string.Join(",", marks)}");
            }

            Assert.True(marks.Count <= 9, "only the task in flight at the kill may run twice: " + string.Join(",", marks));
            Assert.Contains(await app.LogsAsync(runId, deadline), l => l.Message.Contains("worker-two takes over", StringComparison.Ordinal));
        }
        finally
        {
            File.Delete(marker);
        }
    }

    [Fact]
    public async Task WorkerKilled_PlainScript_CrashedThenRetriedAndNoOrphanLeft()
    {
        using var deadline = TestDeadline.Create(TimeSpan.FromSeconds(90));
        await using var app = await ProcessTestApp.StartAsync(azurite, deadline, hostWorker: false);
        var pidFile = Path.Combine(Path.GetTempPath(), "flow-pid-" + Guid.NewGuid().ToString("N"));
        try
        {
            // First attempt: records its pid and hangs. The retry finds the file and succeeds.
            var script = $"if [ -f {pidFile} ]; then echo second attempt; exit 0; fi; echo $$ > {pidFile}; exec sleep 300";
            var deployment = await app.DeployAsync("plain-crash", ["sh", "-c", script], deadline, retries: 1);
            var runId = await app.TriggerAsync(deployment, deadline);
            int scriptPid;
            await using (var first = app.StartCliWorker("worker-one"))
            {
                await deadline.PollUntilAsync(_ => Task.FromResult(File.Exists(pidFile) && File.ReadAllText(pidFile).Trim().Length > 0), "the script to start under the first worker");
                scriptPid = int.Parse((await File.ReadAllTextAsync(pidFile, deadline)).Trim(), System.Globalization.CultureInfo.InvariantCulture);
                ProcessRunner.SendSigkill(first.Id);
                await first.WaitForExitAsync(deadline);
            }

            await deadline.PollUntilAsync(_ => Task.FromResult(!ProcessTree.IsAlive(scriptPid)), "the dead worker's subprocess to die with it (parent-death signal)");
            await using var second = app.StartCliWorker("worker-two");
            var run = await app.WaitFinalAsync(runId, deadline);

            Assert.True(run.State == RunState.Completed, $"{run.State}: {run.StateMessage}");
            Assert.Equal(2, run.Attempt);
            var history = await app.Store.GetStateHistoryAsync(runId, deadline);
            Assert.Contains(history, t => t.To == RunState.Crashed && t.Attempt == 1);
            Assert.Contains(history, t => t.From == RunState.Crashed && t.To == RunState.AwaitingRetry);
        }
        finally
        {
            File.Delete(pidFile);
        }
    }

    [Fact]
    public async Task TwoWorkers_OnePool_NeverRunTheSameRunTwice()
    {
        using var deadline = TestDeadline.Create(TimeSpan.FromSeconds(90));
        await using var app = await ProcessTestApp.StartAsync(azurite, deadline);
        var ledger = Path.Combine(Path.GetTempPath(), "flow-ledger-" + Guid.NewGuid().ToString("N"));
        try
        {
            var deployment = await app.DeployAsync("ledger", ["sh", "-c", $"echo $FLOW_RUN_ID >> {ledger}; sleep 0.2"], deadline);
            await using var other = app.StartCliWorker("worker-cli");
            var runIds = new List<string>();
            for (var i = 0; i < 16; i++)
            {
                runIds.Add(await app.TriggerAsync(deployment, deadline));
            }

            foreach (var id in runIds)
            {
                Assert.Equal(RunState.Completed, (await app.WaitFinalAsync(id, deadline)).State);
            }

            var lines = await File.ReadAllLinesAsync(ledger, deadline);
            Assert.Equal(runIds.Order(StringComparer.Ordinal), lines.Order(StringComparer.Ordinal));
        }
        finally
        {
            File.Delete(ledger);
        }
    }
}
