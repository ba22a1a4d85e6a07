using Flow.Engine.Storage;
using Flow.Sdk;

namespace Flow.Storage.Conformance;

/// <summary>Minimal runs for store tests, shared by the conformance suite and backend-specific tests.</summary>
public static class StoreTestRuns
{
    /// <summary>A minimal valid new run: created, scheduled and in its state at <paramref name="createdAt"/>, transition 1.</summary>
    public static FlowRunRecord New(string runId, DateTimeOffset createdAt, RunState state = RunState.Pending, string flowName = "conformance-flow") => new()
    {
        RunId = runId,
        FlowName = flowName,
        State = state,
        StateTime = createdAt,
        CreatedAt = createdAt,
        ScheduledAt = createdAt,
        TransitionCount = 1,
    };

    /// <summary>The first transition of <paramref name="run"/>.</summary>
    public static StateTransition FirstTransition(FlowRunRecord run)
    {
        ArgumentNullException.ThrowIfNull(run);
        return new(1, null, run.State, run.StateTime, "created", run.Attempt);
    }

    /// <summary>Creates <paramref name="run"/> and checks that this call created it.</summary>
    public static async Task<StoredRun> CreateAsync(IFlowStore store, FlowRunRecord run, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(store);
        var (stored, created) = await store.CreateRunAsync(run, FirstTransition(run), cancellationToken);
        Assert.True(created, $"CreateRunAsync should have created run '{run.RunId}'.");
        return stored;
    }
}
