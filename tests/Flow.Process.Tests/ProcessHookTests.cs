using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Flow.Engine.Storage;
using Flow.Sdk;
using Flow.TestSupport;
using Microsoft.Extensions.DependencyInjection;

namespace Flow.Process.Tests;

/// <summary>
/// State hooks of Flow.Sdk process flows (docs/hooks.md): the flow code lives in the subprocess, so a hook its process could not run
/// (OnCrashed after it died; any hook after a SIGKILL between the final commit and the hook) runs in a hook-only subprocess the
/// worker starts, exactly once, with a hook token that cannot change the run.
/// </summary>
public sealed class ProcessHookTests(AzuriteFixture azurite) : IDisposable
{
    private readonly DirectoryInfo _hooks = Directory.CreateTempSubdirectory("flow-hooks-");

    private static string TestAppDll => Path.Combine(RepoPaths.Root, "tests", "Flow.Process.TestApp", "bin", RepoPaths.Configuration, RepoPaths.TargetFramework, "Flow.Process.TestApp.dll");

    [Fact]
    public async Task SdkFlow_Completed_OnCompletionRunsOnceInItsOwnProcess()
    {
        using var deadline = TestDeadline.Create(TimeSpan.FromSeconds(60));
        await using var app = await ProcessTestApp.StartAsync(azurite, deadline);
        var runId = await TriggerAsync(app, "hook-ok", new { count = 2, marker = Marker }, new() { ["HOOK_DIR"] = _hooks.FullName }, deadline);

        var run = await WaitHookRecordedAsync(app, runId, deadline);

        Assert.Equal(RunState.Completed, run.State);
        Assert.Equal([$"OnCompletion {runId}.t{run.TransitionCount} 0"], HookLines(runId)); // by the run's own process
        await AssertRecordedOnceAsync(app, runId, "OnCompletion completed", deadline);
    }

    [Fact]
    public async Task SdkFlow_ProcessSigkilledMidFlow_RunCrashedAndOnCrashedRunsOnceInAHookOnlyProcess()
    {
        using var deadline = TestDeadline.Create(TimeSpan.FromSeconds(60));
        await using var app = await ProcessTestApp.StartAsync(azurite, deadline);
        var runId = await TriggerAsync(app, "hook-crash", new { count = 5, marker = Marker, killAt = 3 }, new() { ["HOOK_DIR"] = _hooks.FullName }, deadline);

        var run = await WaitHookRecordedAsync(app, runId, deadline);

        Assert.True(run.State == RunState.Crashed, $"{run.State}: {run.StateMessage}");
        Assert.Contains("SIGKILL", run.StateMessage, StringComparison.Ordinal);
        Assert.Equal(["1", "2"], await File.ReadAllLinesAsync(Marker, deadline));
        Assert.Equal([$"OnCrashed {runId}.t{run.TransitionCount} 1"], HookLines(runId)); // FLOW_HOOK=1: the hook-only process
        await AssertRecordedOnceAsync(app, runId, "OnCrashed completed", deadline);
    }

    [Fact]
    public async Task SdkFlow_ProcessSigkilledAfterTheFinalCommitBeforeItsHook_HookRunsOnceInAHookOnlyProcess()
    {
        using var deadline = TestDeadline.Create(TimeSpan.FromSeconds(60));
        await using var app = await ProcessTestApp.StartAsync(azurite, deadline);
        var env = new Dictionary<string, string> { ["HOOK_DIR"] = _hooks.FullName, ["HOOK_DIE_ONCE"] = "1" };
        var runId = await TriggerAsync(app, "hook-die", new { count = 2, marker = Marker }, env, deadline);

        var run = await WaitHookRecordedAsync(app, runId, deadline);

        Assert.Equal(RunState.Completed, run.State); // the kill came after the final commit
        Assert.Equal("OnCompletion", await File.ReadAllTextAsync(Path.Combine(_hooks.FullName, runId + ".died"), deadline));
        Assert.Equal([$"OnCompletion {runId}.t{run.TransitionCount} 1"], HookLines(runId));
        await AssertRecordedOnceAsync(app, runId, "OnCompletion completed", deadline);
    }

    [Fact]
    public async Task HookToken_CannotChangeTheRun_OnlyRecordItsOwedHook()
    {
        using var deadline = TestDeadline.Create(TimeSpan.FromSeconds(60));
        await using var app = await ProcessTestApp.StartAsync(azurite, deadline, hostWorker: false);
        var runId = await app.TriggerAsync(await app.DeployAsync("hook-token", ["true"], deadline), deadline);
        using var http = await HookClientAsync(app, runId, deadline);

        // While the run is not finished, a hook token writes nothing.
        var pending = await ReadAsync(http, runId, deadline);
        using var early = await CommitAsync(http, runId, new RunCommit { ExpectedVersion = pending.Version, Run = pending.Record with { State = RunState.Running } }, deadline);
        Assert.Equal(HttpStatusCode.Forbidden, early.StatusCode);

        // Finished with its hook owed: a state change is refused; the hook's record is taken, built from the stored run.
        var stored = (await app.Store.GetRunAsync(runId, deadline))!;
        await app.Engine.Lifecycle.TrySettleAsync(stored, RunState.Failed, "failed for the test", null, new FailureInfo("X", "x"), null, deadline);
        var final = await ReadAsync(http, runId, deadline);
        Assert.True(final.Record.HookPending);
        using var rewrite = await CommitAsync(http, runId, new RunCommit { ExpectedVersion = final.Version, Run = final.Record with { State = RunState.Completed, HookPending = false } with { Result = "42" }, Transitions = [new StateTransition(final.Record.TransitionCount + 1, RunState.Failed, RunState.Completed, DateTimeOffset.UtcNow, "rewritten", 1)] }, deadline);
        using var sneaky = await CommitAsync(http, runId, new RunCommit { ExpectedVersion = final.Version, Run = final.Record with { HookPending = false, Result = "42", StateMessage = "rewritten" } }, deadline);
        var line = new RunLogLine(DateTimeOffset.UtcNow, "Information", "Hook OnFailure completed in 1 ms", 0, 1);
        using var record = await CommitAsync(http, runId, new RunCommit { ExpectedVersion = final.Version, Run = final.Record with { HookPending = false, LogCount = final.Record.LogCount + 1 }, Logs = [line] }, deadline);

        Assert.Equal(HttpStatusCode.Forbidden, rewrite.StatusCode);
        Assert.Equal(HttpStatusCode.OK, sneaky.StatusCode); // accepted as the hook record: what else it carried is ignored
        Assert.Equal(HttpStatusCode.Forbidden, record.StatusCode); // no hook is owed any more: nothing may be written
        var after = (await app.Store.GetRunAsync(runId, deadline))!.Record;
        Assert.Equal(RunState.Failed, after.State);
        Assert.Null(after.Result);
        Assert.Equal("failed for the test", after.StateMessage);
        Assert.False(after.HookPending);
        using var logs = await http.PostAsync($"/api/process/runs/{runId}/logs", new StringContent("late", Encoding.UTF8, "text/plain"), deadline);
        Assert.Equal(HttpStatusCode.Forbidden, logs.StatusCode);
    }

    public void Dispose() => _hooks.Delete(recursive: true);

    private string Marker => Path.Combine(_hooks.FullName, "marks");

    private static async Task<string> TriggerAsync(ProcessTestApp app, string name, object parameters, Dictionary<string, string> environment, CancellationToken cancellationToken)
    {
        var deployment = await app.DeployAsync(name, [RepoPaths.DotNetHost, TestAppDll], cancellationToken, environment: environment, parameters: parameters, flow: "steps");
        return await app.TriggerAsync(deployment, cancellationToken);
    }

    private string[] HookLines(string runId) => File.Exists(Path.Combine(_hooks.FullName, runId + ".hooks")) ? File.ReadAllLines(Path.Combine(_hooks.FullName, runId + ".hooks")) : [];

    private static Task<FlowRunRecord> WaitHookRecordedAsync(ProcessTestApp app, string runId, TestDeadline deadline) =>
        app.WaitAsync(runId, r => r.State.IsFinal() && !r.HookPending, deadline, "the run to finish and its hook to be recorded");

    private static async Task AssertRecordedOnceAsync(ProcessTestApp app, string runId, string outcome, CancellationToken cancellationToken)
    {
        var line = Assert.Single(await app.LogsAsync(runId, cancellationToken), l => l.Message.StartsWith("Hook ", StringComparison.Ordinal));
        Assert.Contains(outcome, line.Message, StringComparison.Ordinal);
    }

    private static async Task<StoredRun> ReadAsync(HttpClient http, string runId, CancellationToken cancellationToken)
    {
        using var read = await http.GetAsync($"/api/process/runs/{runId}/store", cancellationToken);
        Assert.Equal(HttpStatusCode.OK, read.StatusCode);
        return JsonSerializer.Deserialize<StoredRun>(await read.Content.ReadAsStringAsync(cancellationToken), ProcessWire.Json)!;
    }

    private static Task<HttpResponseMessage> CommitAsync(HttpClient http, string runId, RunCommit commit, CancellationToken cancellationToken) =>
        http.PostAsync($"/api/process/runs/{runId}/store/commit", new StringContent(JsonSerializer.Serialize(commit, ProcessWire.Json), Encoding.UTF8, "application/json"), cancellationToken);

    private static async Task<HttpClient> HookClientAsync(ProcessTestApp app, string runId, CancellationToken cancellationToken)
    {
        var token = await app.App.Services.GetRequiredService<RunTokens>().IssueHookAsync(runId, TimeSpan.FromMinutes(5), cancellationToken);
        var http = new HttpClient { BaseAddress = new Uri(app.ApiUrl) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return http;
    }
}
