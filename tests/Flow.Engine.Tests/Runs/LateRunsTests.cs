using Flow.Engine.Runs;
using Flow.Engine.Storage;
using Flow.Sdk;

namespace Flow.Engine.Tests.Runs;

/// <summary>The one Late rule and the tag conditions of run lists.</summary>
public sealed class LateRunsTests
{
    private static readonly DateTimeOffset T0 = new(2030, 1, 1, 12, 0, 0, TimeSpan.Zero);

    private static FlowRunRecord Run(RunState state, DateTimeOffset scheduledAt, DateTimeOffset? startedAt = null) => new()
    {
        RunId = "r1",
        FlowName = "f",
        State = state,
        CreatedAt = T0.AddHours(-1),
        ScheduledAt = scheduledAt,
        StartedAt = startedAt,
    };

    [Theory]
    [InlineData(RunState.Scheduled, -61, false, true)]
    [InlineData(RunState.Pending, -61, false, true)]
    [InlineData(RunState.Scheduled, -60, false, false)] // exactly the grace: not yet
    [InlineData(RunState.Scheduled, 10, false, false)]
    [InlineData(RunState.Pending, -600, true, false)] // it started once
    [InlineData(RunState.Running, -600, false, false)]
    [InlineData(RunState.Paused, -600, false, false)]
    public void IsLate_ScheduledOrPendingNeverStartedPastTheGrace(RunState state, int scheduledSeconds, bool started, bool late)
    {
        var run = Run(state, T0.AddSeconds(scheduledSeconds), started ? T0.AddHours(-2) : null);

        Assert.Equal(late, LateRuns.IsLate(run, T0, TimeSpan.FromSeconds(60)));
        Assert.Equal(late, LateRuns.IsLateAsOf(run, LateRuns.Cutoff(T0, TimeSpan.FromSeconds(60))));
        Assert.Equal(late ? "Late" : state.ToString(), LateRuns.StateName(run, T0, TimeSpan.FromSeconds(60)));
    }

    [Theory]
    [InlineData("team", "team", null)]
    [InlineData("team=data", "team", "data")]
    [InlineData("team=", "team", "")]
    [InlineData("a=b=c", "a", "b=c")]
    public void RunTagFilter_TryParse_KeyOrKeyEqualsValue(string text, string key, string? value)
    {
        Assert.True(RunTagFilter.TryParse(text, out var filter, out var error), error);
        Assert.Equal(new RunTagFilter(key, value), filter);
        Assert.Equal(text, filter!.ToString());
    }

    [Theory]
    [InlineData("")]
    [InlineData("=data")]
    [InlineData("te\u0001am")]
    [InlineData("team=da\u0002ta")]
    public void RunTagFilter_TryParse_RefusesWithAReason(string text)
    {
        Assert.False(RunTagFilter.TryParse(text, out var filter, out var error));
        Assert.Null(filter);
        Assert.False(string.IsNullOrEmpty(error));
    }
}
