using Flow.Engine.Storage;
using Flow.Sdk;
using Flow.Testing;
using Flow.TestSupport;
using Microsoft.Extensions.Logging;

namespace Flow.Engine.Tests;

/// <summary>
/// What an operator sees at Information without turning anything on: a run started, finished (state and duration), taken
/// over after its worker died; never a parameter value.
/// </summary>
public sealed class OperationalLogTests
{
    private const string Secret = "hunter2-parameter-value";

    private static (FlowTestHost Host, CapturingLoggerFactory Logs) CreateHost()
    {
        var logs = new CapturingLoggerFactory(LogLevel.Information);
        var host = FlowTestHost.Create(
            r => r.AddFlow<string, int>("count", (ctx, input) => ctx.RunTaskAsync("length", _ => Task.FromResult(input.Length))),
            o => o.LoggerFactory = logs);
        return (host, logs);
    }

    [Fact]
    public async Task CompletedRun_LogsStartedAndFinishedWithDuration_AtInformation_WithoutParameterValues()
    {
        using var deadline = TestDeadline.Create(TimeSpan.FromSeconds(30));
        var (host, logs) = CreateHost();
        await using var _ = host;
        var runId = (await host.StartAsync("count", Secret, cancellationToken: deadline.Token)).RunId;

        var final = await host.DriveAsync(runId, cancellationToken: deadline.Token);

        Assert.Equal(RunState.Completed, final.State);
        var started = Assert.Single(logs.Entries, e => e.EventId.Id == 111);
        Assert.Equal(LogLevel.Information, started.Level);
        Assert.Contains(runId, started.Message, StringComparison.Ordinal);
        Assert.Contains("attempt 1", started.Message, StringComparison.Ordinal);
        var finished = Assert.Single(logs.Entries, e => e.EventId.Id == 102);
        Assert.Equal(LogLevel.Information, finished.Level);
        Assert.Contains(runId, finished.Message, StringComparison.Ordinal);
        Assert.Matches(@"finished Completed after \d{2}:\d{2}:\d{2}", finished.Message);
        Assert.DoesNotContain(logs.Entries, e => e.Message.Contains(Secret, StringComparison.Ordinal));
    }

    [Fact]
    public async Task RunLeasedByADeadWorker_IsLoggedAsTakenOver_WhenAnotherWorkerResumesIt()
    {
        using var deadline = TestDeadline.Create(TimeSpan.FromSeconds(30));
        var (host, logs) = CreateHost();
        await using var _ = host;
        var runId = (await host.StartAsync("count", "abc", cancellationToken: deadline.Token)).RunId;

        // A worker took the run and died: its lease is in the record and has run out.
        var stored = (await host.Store.GetRunAsync(runId, deadline.Token))!;
        var now = host.Clock.GetUtcNow();
        var run = stored.Record with { State = RunState.Running, StateTime = now, StartedAt = now, TransitionCount = stored.Record.TransitionCount + 1, LeaseOwner = "dead-worker", LeaseUntil = now + TimeSpan.FromSeconds(1), HeartbeatAt = now };
        await host.Store.CommitAsync(new RunCommit { ExpectedVersion = stored.Version, Run = run, Transitions = [new StateTransition(run.TransitionCount, RunState.Pending, RunState.Running, now, "Started on dead-worker", run.Attempt)] }, deadline.Token);
        host.Clock.SetUtcNow(now + TimeSpan.FromSeconds(5));

        var final = await host.DriveAsync(runId, cancellationToken: deadline.Token);

        Assert.Equal(RunState.Completed, final.State);
        var takeover = Assert.Single(logs.Entries, e => e.EventId.Id == 112);
        Assert.Equal(LogLevel.Information, takeover.Level);
        Assert.Contains(runId, takeover.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(logs.Entries, e => e.EventId.Id == 111);
    }
}
