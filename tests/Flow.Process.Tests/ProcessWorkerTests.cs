using System.Net;
using System.Net.Http.Headers;
using Flow.Sdk;
using Flow.TestSupport;
using Microsoft.Extensions.DependencyInjection;

namespace Flow.Process.Tests;

/// <summary>The process worker with real subprocesses against Azurite, the worker hosted by the Flow app.</summary>
public sealed class ProcessWorkerTests(AzuriteFixture azurite)
{
    [Fact]
    public async Task Run_ExitZero_CompletedWithOutputInOrder()
    {
        using var deadline = TestDeadline.Create();
        await using var app = await ProcessTestApp.StartAsync(azurite, deadline);
        var deployment = await app.DeployAsync("count", ["sh", "-c", "for i in $(seq 1 300); do echo \"line $i\"; done; echo oops >&2; echo \"run $FLOW_RUN_ID\""], deadline);

        var runId = await app.TriggerAsync(deployment, deadline);
        var run = await app.WaitFinalAsync(runId, deadline);

        Assert.Equal(RunState.Completed, run.State);
        var logs = await app.LogsAsync(runId, deadline);
        var lines = logs.Where(l => l.Message.StartsWith("line ", StringComparison.Ordinal)).Select(l => l.Message).ToList();
        Assert.Equal(Enumerable.Range(1, 300).Select(i => $"line {i}"), lines);
        Assert.Contains(logs, l => l.Message == "oops" && l.Level == "Error");
        Assert.Contains(logs, l => l.Message == "run " + runId);
        Assert.True(logs.Zip(logs.Skip(1)).All(p => p.First.Timestamp <= p.Second.Timestamp), "log lines are timestamped in order");
    }

    [Fact]
    public async Task Run_NonZeroExit_FailedWithExitCode()
    {
        using var deadline = TestDeadline.Create();
        await using var app = await ProcessTestApp.StartAsync(azurite, deadline);
        var deployment = await app.DeployAsync("fail", ["sh", "-c", "echo about to fail; exit 3"], deadline, retries: 1);

        var run = await app.WaitFinalAsync(await app.TriggerAsync(deployment, deadline), deadline);

        Assert.Equal(RunState.Failed, run.State);
        Assert.Equal(2, run.Attempt); // one retry, then Failed
        Assert.Contains("exited with code 3", run.StateMessage, StringComparison.Ordinal);
        Assert.Equal("Flow.ProcessExitCode", run.Failure?.Type);
    }

    [Fact]
    public async Task Run_MissingExecutable_FailedClearlyAndNotRetried()
    {
        using var deadline = TestDeadline.Create();
        await using var app = await ProcessTestApp.StartAsync(azurite, deadline);
        var deployment = await app.DeployAsync("missing", ["no-such-program-flow-test", "--x"], deadline, retries: 5);

        var run = await app.WaitFinalAsync(await app.TriggerAsync(deployment, deadline), deadline);

        Assert.Equal(RunState.Failed, run.State);
        Assert.Equal(1, run.Attempt);
        Assert.Contains("Executable not found", run.StateMessage, StringComparison.Ordinal);
        Assert.Contains("no-such-program-flow-test", run.StateMessage, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Run_Timeout_KillsWholeProcessTree()
    {
        using var deadline = TestDeadline.Create();
        await using var app = await ProcessTestApp.StartAsync(azurite, deadline);
        var pids = Path.Combine(Path.GetTempPath(), "flow-pids-" + Guid.NewGuid().ToString("N"));
        try
        {
            // A child, a grandchild in a subshell, and one that leaves the process group with setsid: none may survive.
            var script = $"echo $$ >> {pids}; sleep 300 & echo $! >> {pids}; (sleep 300 & echo $! >> {pids}; wait) & setsid sleep 300 & echo $! >> {pids}; echo started; wait";
            var deployment = await app.DeployAsync("slow", ["sh", "-c", script], deadline, timeoutSeconds: 2);

            var run = await app.WaitFinalAsync(await app.TriggerAsync(deployment, deadline), deadline);

            Assert.Equal(RunState.Failed, run.State);
            Assert.Contains("Timed out after 2 s", run.StateMessage, StringComparison.Ordinal);
            var started = (await File.ReadAllLinesAsync(pids, deadline)).Select(int.Parse).ToList();
            Assert.Equal(4, started.Count);
            await deadline.PollUntilAsync(_ => Task.FromResult(started.All(p => !ProcessTree.IsAlive(p))), "every process of the tree to be gone: " + string.Join(", ", started.Where(p => ProcessTree.IsAlive(p))));
        }
        finally
        {
            File.Delete(pids);
        }
    }

    [Fact]
    public async Task Cancel_RunningProcess_SigtermThenCancelled()
    {
        using var deadline = TestDeadline.Create();
        await using var app = await ProcessTestApp.StartAsync(azurite, deadline);
        var deployment = await app.DeployAsync("loop", ["sh", "-c", "trap 'echo got SIGTERM; exit 0' TERM; echo ready; while true; do sleep 0.1; done"], deadline, retries: 3);
        var runId = await app.TriggerAsync(deployment, deadline);
        await deadline.PollUntilAsync(async ct => (await app.LogsAsync(runId, ct)).Any(l => l.Message == "ready"), "the script to start");

        Assert.True(await app.Engine.RequestCancelAsync(runId, "test cancels", deadline));
        var run = await app.WaitFinalAsync(runId, deadline);

        Assert.Equal(RunState.Cancelled, run.State);
        Assert.Equal(1, run.Attempt);
        Assert.Contains(await app.LogsAsync(runId, deadline), l => l.Message == "got SIGTERM");
    }

    [Fact]
    public async Task Environment_SecretReference_ResolvedAndNeverLogged()
    {
        using var deadline = TestDeadline.Create();
        await using var app = await ProcessTestApp.StartAsync(azurite, deadline);
        var deployment = await app.DeployAsync("secret", ["sh", "-c", "test \"$GREETING\" = top-secret-value && echo \"plain=$PLAIN\""], deadline, environment: new() { ["GREETING"] = "secret:GREETING", ["PLAIN"] = "visible" });

        var runId = await app.TriggerAsync(deployment, deadline);
        var run = await app.WaitFinalAsync(runId, deadline);

        Assert.Equal(RunState.Completed, run.State);
        var logs = await app.LogsAsync(runId, deadline);
        Assert.Contains(logs, l => l.Message == "plain=visible");
        Assert.DoesNotContain(logs, l => l.Message.Contains("top-secret-value", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ConcurrencyLimitOfOne_TwentyQueuedRuns_NeverOverlap()
    {
        using var deadline = TestDeadline.Create(TimeSpan.FromSeconds(90));
        await using var app = await ProcessTestApp.StartAsync(azurite, deadline, poolLimit: 1);
        var deployment = await app.DeployAsync("one-at-a-time", ["sh", "-c", "sleep 0.05"], deadline);

        var runIds = new List<string>();
        for (var i = 0; i < 20; i++)
        {
            runIds.Add(await app.TriggerAsync(deployment, deadline));
        }

        var runs = new List<Flow.Engine.Storage.FlowRunRecord>();
        foreach (var id in runIds)
        {
            runs.Add(await app.WaitFinalAsync(id, deadline));
        }

        Assert.All(runs, r => Assert.Equal(RunState.Completed, r.State));
        var ordered = runs.OrderBy(r => r.StartedAt).ToList();
        for (var i = 1; i < ordered.Count; i++)
        {
            Assert.True(ordered[i].StartedAt >= ordered[i - 1].EndedAt, $"run {ordered[i].RunId} started at {ordered[i].StartedAt:O} before {ordered[i - 1].RunId} ended at {ordered[i - 1].EndedAt:O}");
        }
    }

    [Fact]
    public async Task RunToken_OtherRunOrNoToken_Refused()
    {
        using var deadline = TestDeadline.Create();
        await using var app = await ProcessTestApp.StartAsync(azurite, deadline, hostWorker: false);
        var deployment = await app.DeployAsync("idle", ["true"], deadline);
        var mine = await app.TriggerAsync(deployment, deadline);
        var other = await app.TriggerAsync(deployment, deadline);
        var token = await app.App.Services.GetRequiredService<RunTokens>().IssueAsync(mine, TimeSpan.FromMinutes(5), deadline);
        using var http = new HttpClient { BaseAddress = new Uri(app.ApiUrl) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);

        using var own = await http.GetAsync($"/api/process/runs/{mine}", deadline);
        using var foreign = await http.GetAsync($"/api/process/runs/{other}", deadline);
        using var foreignLogs = await http.PostAsync($"/api/process/runs/{other}/logs", new StringContent("hello", System.Text.Encoding.UTF8, "text/plain"), deadline);
        using var foreignStore = await http.GetAsync($"/api/process/runs/{other}/store", deadline);
        using var ownLogs = await http.PostAsync($"/api/process/runs/{mine}/logs", new StringContent("hello from a script", System.Text.Encoding.UTF8, "text/plain"), deadline);
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token[..^2] + "xx");
        using var forged = await http.GetAsync($"/api/process/runs/{mine}", deadline);
        http.DefaultRequestHeaders.Authorization = null;
        using var none = await http.GetAsync($"/api/process/runs/{mine}", deadline);

        Assert.Equal(HttpStatusCode.OK, own.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, foreign.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, foreignLogs.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, foreignStore.StatusCode);
        Assert.Equal(HttpStatusCode.Accepted, ownLogs.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, forged.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, none.StatusCode);
        Assert.Empty(await app.LogsAsync(other, deadline));
        Assert.Contains(await app.LogsAsync(mine, deadline), l => l.Message == "hello from a script");
    }
}

/// <summary>The bash + curl sample (samples/process/shell/report.sh) against the real API.</summary>
public sealed class ShellSampleTests(AzuriteFixture azurite)
{
    [Fact]
    public async Task ShellSample_ReportsTaskLogAndArtifact_Completed()
    {
        using var deadline = TestDeadline.Create();
        await using var app = await ProcessTestApp.StartAsync(azurite, deadline);
        var script = Path.Combine(RepoPaths.Root, "samples", "process", "shell", "report.sh");
        var deployment = await app.DeployAsync("shell-sample", [script], deadline, environment: new() { ["REPORT_DIR"] = RepoPaths.Root });

        var runId = await app.TriggerAsync(deployment, deadline);
        var run = await app.WaitFinalAsync(runId, deadline);

        var logs = await app.LogsAsync(runId, deadline);
        Assert.True(run.State == RunState.Completed, $"{run.State}: {run.StateMessage} {string.Join(" | ", logs.Select(l => l.Message))}");
        Assert.Contains(logs, l => l.Message.StartsWith("counted ", StringComparison.Ordinal));
        Assert.Contains(await app.Store.GetArtifactsAsync(runId, deadline), a => a.Key == "file-count");
        var journal = await app.Store.LoadJournalAsync(run, deadline);
        Assert.Contains(journal.Events, e => e.Name == "count-files" && e.Kind == Flow.Engine.Storage.JournalEventKind.TaskCompleted);
    }
}
