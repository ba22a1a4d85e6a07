using Flow.Engine.Runs;
using Flow.Engine.Storage;
using Flow.Sdk;
using Flow.TestSupport;

namespace Flow.Storage.Conformance;

/// <summary>The owed state hook (docs/hooks.md): written with the final state, cleared with the record of its invocation.</summary>
public abstract partial class FlowStoreConformanceTests
{
    [Fact]
    public async Task HookPending_SetInTheFinalCommit_IsReadBackAndClearedWithTheHookRecord()
    {
        using var deadline = TestDeadline.Create(Timeout);
        var store = await NewStoreAsync(deadline.Token);
        var created = await CreateAsync(store, NewRun(NewRunId("hook"), RunState.Running), deadline.Token);
        var settle = RunLifecycle.PlanSettle(created.Record, RunState.Failed, "broke", null, new FailureInfo("X", "broke"), T0.AddMinutes(1))!;

        var final = await store.CommitAsync(new RunCommit { ExpectedVersion = created.Version, Run = settle.Run, Transitions = settle.Transitions }, deadline.Token);
        var read = (await store.GetRunAsync(created.Record.RunId, deadline.Token))!;

        Assert.True(read.Record.HookPending);
        Assert.Equal(RunState.Failed, read.Record.State);
        Assert.Equal(final.Version, read.Version);
        var listed = await store.ListRunsAsync(new RunQuery { State = RunState.Failed, FlowName = read.Record.FlowName, PageSize = 500 }, deadline.Token);
        Assert.Contains(listed.Runs, r => r.RunId == read.Record.RunId && r.HookPending);

        var line = new RunLogLine(T0.AddMinutes(2), "Information", "Hook OnFailure completed in 3 ms (idempotency key " + RunLifecycle.HookKey(read.Record) + ")", 0, 1);
        await store.CommitAsync(Commit(read, r => RunLifecycle.PlanHookDone(r)!, logs: [line]), deadline.Token);
        var done = (await store.GetRunAsync(created.Record.RunId, deadline.Token))!.Record;

        Assert.False(done.HookPending);
        Assert.Equal(RunState.Failed, done.State);
        Assert.Equal(read.Record.TransitionCount, done.TransitionCount);
        Assert.Equal(line.Message, Assert.Single(await ReadAllLogsAsync(store, done.RunId, 10, deadline.Token)).Message);
        Assert.Equal($"{done.RunId}.t{done.TransitionCount}", RunLifecycle.HookKey(done));
        Assert.Null(RunLifecycle.PlanHookDone(done));
    }
}
