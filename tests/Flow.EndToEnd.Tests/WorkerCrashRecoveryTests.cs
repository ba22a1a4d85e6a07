using System.Globalization;
using Flow.Engine;
using Flow.Engine.Storage;
using Flow.Sdk;
using Flow.Storage.Azure;
using Flow.Storage.Postgres;
using Flow.TestSupport;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Flow.EndToEnd.Tests;

/// <summary>Where worker A is killed, relative to task K.</summary>
public enum KillPoint
{
    /// <summary>Task K started and waits before its side effect: tasks 1..K-1 are recorded, K has done nothing.</summary>
    BeforeSideEffect,

    /// <summary>Task K did its side effect and waits before returning: its completion cannot have been recorded, so it runs again.</summary>
    AfterSideEffect,

    /// <summary>Right after task K's side effect while the flow keeps going: the kill lands wherever it lands.</summary>
    WhileRunning,
}

/// <summary>The crash-recovery tests on Azure Storage (Azurite): tables and queues of each test's own.</summary>
public sealed class AzureWorkerCrashRecoveryTests(AzuriteFixture azurite, ITestOutputHelper output) : WorkerCrashRecoveryTests(output), IClassFixture<AzuriteFixture>
{
    protected override Dictionary<string, string?> BackendSettings() => new()
    {
        ["Flow:Storage:Backend"] = "Azure",
        ["AzureWebJobsStorage"] = azurite.ConnectionString,
        ["Flow:Storage:Azure:TablePrefix"] = UniqueNames.Table("crash"),
        ["Flow:Storage:Azure:QueuePrefix"] = UniqueNames.Queue("crash") + "-",
    };

    protected override void AddStorage(IServiceCollection services, IConfiguration configuration) => services.AddFlowAzureStorage(configuration);
}

/// <summary>The crash-recovery tests on PostgreSQL: a schema of each test's own.</summary>
public sealed class PostgresWorkerCrashRecoveryTests(PostgresFixture postgres, ITestOutputHelper output) : WorkerCrashRecoveryTests(output), IClassFixture<PostgresFixture>
{
    protected override Dictionary<string, string?> BackendSettings() => new()
    {
        ["Flow:Storage:Backend"] = "Postgres",
        ["ConnectionStrings:Flow"] = postgres.ConnectionString,
        ["Flow:Storage:Postgres:Schema"] = UniqueNames.Schema("crash"),
    };

    protected override void AddStorage(IServiceCollection services, IConfiguration configuration) => services.AddFlowPostgresStorage(configuration);
}

/// <summary>
/// DESIGN.md §4 with real processes: a worker running a flow of 20 tasks is killed with SIGKILL, another worker
/// process takes the run over once the dead one's lease expires, and the side effects the tasks record outside the
/// engine show that no task whose completion was recorded ran again; only the task in flight at the kill may have.
/// Each backend runs the same tests (a subclass gives its settings).
/// </summary>
public abstract class WorkerCrashRecoveryTests(ITestOutputHelper output) : IAsyncDisposable
{
    private const string FlowName = "twenty-tasks"; // served by tests/Flow.Engine.TestWorker: task i returns i², the flow their sum
    private const int TaskCount = 20;
    private static readonly TimeSpan LeaseDuration = TimeSpan.FromSeconds(3);
    private static readonly TimeSpan TaskDelay = TimeSpan.FromMilliseconds(50);
    private static readonly int SumOfSquares = Enumerable.Range(1, TaskCount).Sum(i => i * i);

    private readonly DirectoryInfo _folder = Directory.CreateTempSubdirectory("flow-crash-");
    private ServiceProvider? _client;

    [Theory]
    [InlineData(1, KillPoint.AfterSideEffect)]
    [InlineData(7, KillPoint.BeforeSideEffect)]
    [InlineData(7, KillPoint.AfterSideEffect)]
    [InlineData(7, KillPoint.WhileRunning)]
    [InlineData(13, KillPoint.WhileRunning)]
    [InlineData(19, KillPoint.AfterSideEffect)]
    [InlineData(20, KillPoint.AfterSideEffect)]
    public async Task SigkillWorker_MidFlow_SecondWorkerCompletesRunAndRecordedTasksRanOnce(int killAt, KillPoint point)
    {
        using var deadline = TestDeadline.Create(TimeSpan.FromSeconds(60));
        var (engine, runId, storage) = await StartRunAsync(deadline.Token);

        // Worker A runs the flow until task K reaches the kill point, then dies of SIGKILL.
        var pause = point == KillPoint.WhileRunning ? 0 : killAt;
        await using var workerA = StartWorker("worker-a", storage, TaskDelay, pause, point == KillPoint.BeforeSideEffect);
        var pidA = await ReadyPidAsync(workerA, deadline);
        var killLine = $"task {killAt} {(point == KillPoint.BeforeSideEffect ? "started" : "done")}";
        await workerA.WaitForOutputAsync(l => l == killLine, deadline.Token);
        Assert.True(ProcessRunner.SendSigkill(pidA), $"worker A (pid {pidA}) was gone before the kill");
        Assert.Equal(137, await workerA.WaitForExitAsync(deadline.Token)); // the guard reports its command's death by SIGKILL
        var killedAt = deadline.Elapsed;

        // What A's episodes recorded: A is dead and B not started, so nobody writes to the run now.
        var atKill = (await engine.Store.GetRunAsync(runId, deadline.Token))!.Record;
        var recordedByA = CompletedCalls((await engine.Store.LoadJournalAsync(atKill, deadline.Token)).Events);
        Assert.Equal(RunState.Running, atKill.State);
        Assert.Equal("worker-a", atKill.LeaseOwner);

        // Worker B takes the run over once A's lease has expired, and finishes it.
        await using var workerB = StartWorker("worker-b", storage, TaskDelay);
        await ReadyPidAsync(workerB, deadline);
        var final = await WaitForCompletionAsync(engine, runId, deadline, $"worker A was killed at {killLine}");
        output.WriteLine($"killed at {killedAt.TotalSeconds:0.00} s with {recordedByA.Count} tasks recorded; completed at {deadline.Elapsed.TotalSeconds:0.00} s ({(deadline.Elapsed - killedAt).TotalSeconds:0.00} s after the kill)");

        // The journal records every task exactly once, in order; A's part of it is a prefix.
        var journal = (await engine.Store.LoadJournalAsync(final, deadline.Token)).Events;
        Assert.Equal(Enumerable.Range(1, TaskCount), CompletedCalls(journal));
        Assert.Equal(Enumerable.Range(1, recordedByA.Count), recordedByA);
        switch (point)
        {
            case KillPoint.WhileRunning:
                // Task K's completion may or may not have been committed (a slow kill may even let A record more).
                Assert.True(recordedByA.Count >= killAt - 1, $"A recorded {recordedByA.Count} tasks, though task {killAt} had done its side effect");
                break;
            default:
                Assert.Equal(killAt - 1, recordedByA.Count); // task K never returned on A
                break;
        }

        // The side effects: once per task recorded by A (done by A), once per later task (done by B), except that the
        // task in flight at the kill may have run on both, with the same idempotency key.
        var effects = SideEffect.ReadAll(SideEffectFile);
        var inFlight = recordedByA.Count + 1;
        for (var call = 1; call <= TaskCount; call++)
        {
            var lines = effects.Where(e => e.CallId == call).ToList();
            var what = $"the side effects of task {call} (recorded by A: 1..{recordedByA.Count}):\n{string.Join('\n', lines)}";
            if (call < inFlight)
            {
                Assert.True(lines is [{ WorkerId: "worker-a" }], "Expected exactly one, by worker A, for " + what);
            }
            else if (call == inFlight && point != KillPoint.BeforeSideEffect)
            {
                Assert.True(lines is [{ WorkerId: "worker-b" }] or [{ WorkerId: "worker-a" }, { WorkerId: "worker-b" }], "Expected B's, possibly after A's, for " + what);
                Assert.Single(lines.Select(l => l.IdempotencyKey).Distinct());
                if (point == KillPoint.AfterSideEffect)
                {
                    Assert.Equal(2, lines.Count); // A did it and could not record it: it must run again
                }
            }
            else
            {
                Assert.True(lines is [{ WorkerId: "worker-b" }], "Expected exactly one, by worker B, for " + what);
            }
        }

        Assert.Equal(TaskCount, effects.Select(e => e.IdempotencyKey).Distinct().Count());
        Assert.All(effects, e => Assert.Equal(1, e.Attempt));

        // B's episode replayed what A recorded, as a recovery (it took over A's expired lease). The run stayed Running, in
        // the same attempt, from A's start to B's completion; the takeover is in the state history, naming both workers.
        Assert.Contains(workerB.StandardOutputLines, l => l.Contains($"started by worker-b; replaying {atKill.JournalLength} events, recovery: True", StringComparison.Ordinal));
        var history = await engine.Store.GetStateHistoryAsync(runId, deadline.Token);
        Assert.Equal([RunState.Pending, RunState.Running, RunState.Running, RunState.Completed], history.Select(t => t.To));
        Assert.Equal("Started on worker-a", history[1].Message);
        Assert.Equal(RunState.Running, history[2].From);
        Assert.StartsWith("Taken over by worker-b from worker-a, whose lease ended at ", history[2].Message, StringComparison.Ordinal);
        Assert.Equal(1, final.Attempt);
    }

    [Fact]
    public async Task SingleWorker_EpisodeLongerThanTheLease_EveryTaskRunsOnce()
    {
        // The control case, without a crash: one busy episode outlives the lease. Its work item must stay hidden, else
        // its own worker takes it again and runs a second episode of the same run beside the first.
        using var deadline = TestDeadline.Create(TimeSpan.FromSeconds(60));
        var (engine, runId, storage) = await StartRunAsync(deadline.Token);

        await using var worker = StartWorker("worker-a", storage, TimeSpan.FromMilliseconds(300)); // 20 × 0.3 s = 2 leases
        var final = await WaitForCompletionAsync(engine, runId, deadline, "no crash");

        Assert.Equal(Enumerable.Range(1, TaskCount), SideEffect.ReadAll(SideEffectFile).Select(e => e.CallId));
        Assert.Equal(Enumerable.Range(1, TaskCount), CompletedCalls((await engine.Store.LoadJournalAsync(final, deadline.Token)).Events));
    }

    [Fact]
    public async Task SigkillWorker_AfterTheFinalCommitBeforeTheHook_SecondWorkerRunsTheHookExactlyOnce()
    {
        // docs/hooks.md: the final commit leaves the hook owed; the run's work item is completed only after the hook ran, so a
        // worker that dies in between leaves both behind and the next worker runs the hook.
        using var deadline = TestDeadline.Create(TimeSpan.FromSeconds(60));
        var (engine, runId, storage) = await StartRunAsync(deadline.Token);

        await using var workerA = StartWorker("worker-a", storage, TimeSpan.Zero, pauseInHook: true);
        var pidA = await ReadyPidAsync(workerA, deadline);
        await workerA.WaitForOutputAsync(l => l == "hook started", deadline.Token);
        var atKill = (await engine.Store.GetRunAsync(runId, deadline.Token))!.Record;
        Assert.True(ProcessRunner.SendSigkill(pidA), $"worker A (pid {pidA}) was gone before the kill");
        Assert.Equal(137, await workerA.WaitForExitAsync(deadline.Token));

        Assert.Equal(RunState.Completed, atKill.State); // A committed the final state before its hook began ...
        Assert.True(atKill.HookPending); // ... with the hook owed in the same commit
        Assert.False(File.Exists(HookFile));

        await using var workerB = StartWorker("worker-b", storage, TimeSpan.Zero);
        await workerB.WaitForOutputAsync(l => l == "hook done", deadline.Token).WaitAsync(deadline, "worker B to run the owed hook");
        var done = await WaitForHookRecordedAsync(engine, runId, deadline);

        var key = $"{runId}.t{atKill.TransitionCount}";
        var effects = File.ReadAllLines(HookFile);
        Assert.True(effects is [var only] && only.StartsWith(key + " ", StringComparison.Ordinal) && only.EndsWith(" worker-b", StringComparison.Ordinal), "Expected one hook effect by worker B with key " + key + ":\n" + string.Join('\n', effects));
        Assert.Equal(RunState.Completed, done.State);
        Assert.Equal(atKill.TransitionCount, done.TransitionCount); // the hook changed no state
        var logs = await engine.Store.GetLogsAsync(runId, 1000, null, deadline.Token);
        var record = Assert.Single(logs.Lines, l => l.Message.StartsWith("Hook OnCompletion", StringComparison.Ordinal));
        Assert.Contains($"completed in", record.Message, StringComparison.Ordinal);
        Assert.Contains(key, record.Message, StringComparison.Ordinal);
    }

    /// <summary>The backend's settings for this test's own storage, as both the test's engine and the worker processes read them.</summary>
    protected abstract Dictionary<string, string?> BackendSettings();

    /// <summary>Registers the backend's store and queue.</summary>
    protected abstract void AddStorage(IServiceCollection services, IConfiguration configuration);

    public async ValueTask DisposeAsync()
    {
        if (_client is not null)
        {
            await _client.DisposeAsync();
        }

        _folder.Delete(recursive: true);
        GC.SuppressFinalize(this);
    }

    private string SideEffectFile => Path.Combine(_folder.FullName, "side-effects.txt");

    private string HookFile => SideEffectFile + ".hooks"; // written by the test worker's OnCompletion hook

    /// <summary>Starts a run of the flow on this test's own tables and queues, with an engine in this process (it processes nothing).</summary>
    private async Task<(FlowEngine Engine, string RunId, Dictionary<string, string?> Storage)> StartRunAsync(CancellationToken cancellationToken)
    {
        var storage = StorageSettings();
        _client = ClientServices(storage);
        var engine = _client.GetRequiredService<FlowEngine>();
        await engine.InitializeAsync(null, cancellationToken);
        var run = await engine.StartRunAsync(FlowName, TaskCount, cancellationToken: cancellationToken);
        return (engine, run.RunId, storage);
    }

    private static async Task<FlowRunRecord> WaitForCompletionAsync(FlowEngine engine, string runId, TestDeadline deadline, string after)
    {
        var final = await engine.WaitForRunAsync(runId, TimeSpan.FromMilliseconds(100), deadline.Token).WaitAsync(deadline, $"run {runId} to finish ({after})");
        Assert.True(final.State == RunState.Completed, $"The run ended {final.State}: {final.StateMessage} {final.Failure}");
        Assert.Equal(SumOfSquares.ToString(CultureInfo.InvariantCulture), final.Result);
        Assert.Null(final.LeaseOwner);
        return final;
    }

    private static async Task<FlowRunRecord> WaitForHookRecordedAsync(FlowEngine engine, string runId, TestDeadline deadline)
    {
        while (true)
        {
            var run = (await engine.Store.GetRunAsync(runId, deadline.Token))!.Record;
            if (!run.HookPending)
            {
                return run;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(50), deadline.Token); // polling the store, as WaitForRunAsync does
        }
    }

    private static List<int> CompletedCalls(IEnumerable<JournalEvent> events) =>
        [.. events.Where(e => e.Kind == JournalEventKind.TaskCompleted).Select(e => e.CallId)];

    private static async Task<int> ReadyPidAsync(ProcessRunner worker, TestDeadline deadline)
    {
        var line = await worker.WaitForOutputAsync(l => l.StartsWith("ready pid=", StringComparison.Ordinal), deadline.Token);
        return int.Parse(line.AsSpan("ready pid=".Length), CultureInfo.InvariantCulture);
    }

    private static string WorkerAssembly =>
        Path.Combine(RepoPaths.Root, "tests", "Flow.Engine.TestWorker", "bin", RepoPaths.Configuration, RepoPaths.TargetFramework, "Flow.Engine.TestWorker.dll");

    // Settings both the test's engine and the workers use: the backend's storage of this test alone.
    private Dictionary<string, string?> StorageSettings()
    {
        var settings = BackendSettings();
        settings["Flow:Engine:LeaseDuration"] = LeaseDuration.ToString("c", CultureInfo.InvariantCulture);
        return settings;
    }

    // The test's side: starts the run and reads the store. It registers the flow only so StartRunAsync accepts the name.
    private ServiceProvider ClientServices(Dictionary<string, string?> storage)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(storage).Build();
        var services = new ServiceCollection();
        AddStorage(services, configuration);
        services.AddFlow(r => r.AddFlow<int, int>(FlowName, (_, _) => throw new InvalidOperationException("The flow runs in the worker processes only.")))
            .AddEngine(configuration, o => o.WorkerId = "test-client");
        return services.BuildServiceProvider();
    }

    private ProcessRunner StartWorker(string workerId, Dictionary<string, string?> storage, TimeSpan taskDelay, int pauseAt = 0, bool pauseBeforeSideEffect = false, bool pauseInHook = false)
    {
        var worker = ProcessRunner.Start(
            RepoPaths.DotNetHost,
            [
                WorkerAssembly,
                "--Flow:Engine:WorkerId=" + workerId,
                "--Flow:Worker:MaxPollInterval=00:00:00.200",
                "--CrashTest:SideEffectFile=" + SideEffectFile,
                "--CrashTest:TaskDelay=" + taskDelay.ToString("c", CultureInfo.InvariantCulture),
                "--CrashTest:PauseAt=" + pauseAt.ToString(CultureInfo.InvariantCulture),
                "--CrashTest:PauseBeforeSideEffect=" + (pauseBeforeSideEffect ? "true" : "false"),
                "--CrashTest:PauseInHook=" + (pauseInHook ? "true" : "false"),
            ],
            new ProcessRunnerOptions
            {
                GuardLifetime = true, // if this test process dies, the worker dies too
                WorkingDirectory = RepoPaths.Root,
                OnOutputLine = line => output.WriteLine($"[{workerId}] {line}"),
                Environment = storage.ToDictionary(kv => kv.Key.Replace(":", "__", StringComparison.Ordinal), kv => kv.Value),
            });
        return worker;
    }

    /// <summary>One line of the side-effect file: "{callId} {attempt} {pid} {workerId} {idempotencyKey}".</summary>
    private sealed record SideEffect(int CallId, int Attempt, int ProcessId, string WorkerId, string IdempotencyKey)
    {
        public static List<SideEffect> ReadAll(string path) =>
            File.Exists(path)
                ? [.. File.ReadAllLines(path).Select(l => l.Split(' ')).Select(p => new SideEffect(Int(p[0]), Int(p[1]), Int(p[2]), p[3], p[4]))]
                : [];

        private static int Int(string text) => int.Parse(text, CultureInfo.InvariantCulture);
    }
}
