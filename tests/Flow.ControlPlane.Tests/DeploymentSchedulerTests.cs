using System.Text.Json;
using Flow.Engine;
using Flow.Engine.Storage;
using Flow.Sdk;
using Flow.TestSupport;

namespace Flow.ControlPlane.Tests;

public sealed class DeploymentSchedulerTests
{
    private static readonly DateTimeOffset Start = new(2026, 3, 28, 23, 0, 0, TimeSpan.Zero);

    private static DeploymentSpec Hourly(string cron = "0 * * * *", string? zone = null) => new()
    {
        Flow = "report",
        Name = "hourly",
        Parameters = JsonDocument.Parse("""{"region":"eu"}""").RootElement,
        Schedules = [new ScheduleSpec { Id = "h", Cron = cron, Timezone = zone }],
    };

    [Fact]
    public async Task Tick_RunsUpToTheHorizon_WithDeterministicIdsScheduledTimesAndScheduleTag()
    {
        using var deadline = TestDeadline.Create();
        await using var cp = new ControlPlaneHarness(Start, o => o.Horizon = TimeSpan.FromHours(3));
        await cp.InitializeAsync(deadline);
        await cp.Deployments.ApplyAsync(Hourly(), "test", deadline);

        var result = await cp.Scheduler.TickAsync(deadline);

        Assert.Equal(3, result.Created);
        var runs = (await cp.RunsAsync("report/hourly", deadline)).OrderBy(r => r.ScheduledAt).ToList();
        Assert.Equal(["report.hourly-h-20260329T000000Z", "report.hourly-h-20260329T010000Z", "report.hourly-h-20260329T020000Z"], runs.Select(r => r.RunId));
        Assert.All(runs, r => Assert.Equal(RunState.Scheduled, r.State));
        Assert.All(runs, r => Assert.Equal("h", r.Tags[ControlNames.ScheduleTag]));
        Assert.All(runs, r => Assert.Equal("""{"region":"eu"}""", r.Parameters));
        Assert.Equal(3, await cp.Engine.Queue.GetApproximateCountAsync(FlowEngine.RunQueueName("default"), deadline));
    }

    [Fact]
    public async Task Tick_RepeatedAndConcurrent_CreatesEachOccurrenceOnce()
    {
        using var deadline = TestDeadline.Create();
        await using var cp = new ControlPlaneHarness(Start, o => o.Horizon = TimeSpan.FromHours(5));
        await cp.InitializeAsync(deadline);
        await cp.Deployments.ApplyAsync(Hourly(), "test", deadline);

        var ticks = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => cp.Scheduler.TickAsync(deadline)));
        cp.Clock.UtcNow = Start.AddMinutes(30);
        var later = await cp.Scheduler.TickAsync(deadline);

        Assert.Equal(5, ticks.Sum(t => t.Created));
        Assert.Equal(0, later.Created);
        Assert.Equal(5, (await cp.RunsAsync("report/hourly", deadline)).Count);
        Assert.Equal(5, await cp.Engine.Queue.GetApproximateCountAsync(FlowEngine.RunQueueName("default"), deadline));
    }

    [Fact]
    public async Task Tick_AfterDowntime_SkipsOccurrencesOlderThanTheCatchUpWindow()
    {
        using var deadline = TestDeadline.Create();
        await using var cp = new ControlPlaneHarness(Start, o =>
        {
            o.Horizon = TimeSpan.FromMinutes(1);
            o.CatchUpWindow = TimeSpan.FromHours(2);
        });
        await cp.InitializeAsync(deadline);
        await cp.Deployments.ApplyAsync(Hourly(), "test", deadline);
        await cp.Scheduler.TickAsync(deadline);

        cp.Clock.UtcNow = Start.AddHours(10).AddMinutes(30); // down from 23:00 to 09:30
        var result = await cp.Scheduler.TickAsync(deadline);

        var times = (await cp.RunsAsync("report/hourly", deadline)).Select(r => r.ScheduledAt.UtcDateTime.Hour).Order().ToList();
        Assert.Equal(2, result.Created);
        Assert.Equal([8, 9], times); // 07:30 is the window's start: 08:00 and 09:00 run at once, 00:00-07:00 are skipped
        Assert.All(await cp.RunsAsync("report/hourly", deadline), r => Assert.Equal(RunState.Pending, r.State));
    }

    [Fact]
    public async Task Tick_NewSchedule_DoesNotBackfillBeforeItWasSaved()
    {
        using var deadline = TestDeadline.Create();
        await using var cp = new ControlPlaneHarness(Start.AddMinutes(59).AddSeconds(30), o => o.Horizon = TimeSpan.FromMinutes(1));
        await cp.InitializeAsync(deadline);
        await cp.Deployments.ApplyAsync(Hourly("* * * * *"), "test", deadline);

        var result = await cp.Scheduler.TickAsync(deadline);

        var run = Assert.Single(await cp.RunsAsync("report/hourly", deadline));
        Assert.Equal(1, result.Created);
        Assert.Equal(Start.AddHours(1), run.ScheduledAt);
    }

    [Fact]
    public async Task Tick_SpringForwardInLondon_RunsTheGapOccurrenceOnceAtTheGapsEnd()
    {
        using var deadline = TestDeadline.Create();
        // Europe/London springs forward on 2026-03-29 at 01:00 UTC (01:00 GMT -> 02:00 BST); 01:30 local does not exist.
        await using var cp = new ControlPlaneHarness(Start, o => o.Horizon = TimeSpan.FromHours(4));
        await cp.InitializeAsync(deadline);
        await cp.Deployments.ApplyAsync(Hourly("30 1 * * *", "Europe/London"), "test", deadline);

        await cp.Scheduler.TickAsync(deadline);

        var run = Assert.Single(await cp.RunsAsync("report/hourly", deadline));
        Assert.Equal(new DateTimeOffset(2026, 3, 29, 1, 0, 0, TimeSpan.Zero), run.ScheduledAt);
        Assert.Equal("report.hourly-h-20260329T010000Z", run.RunId);
    }

    [Fact]
    public async Task Tick_PausedDeployment_CreatesNothing()
    {
        using var deadline = TestDeadline.Create();
        await using var cp = new ControlPlaneHarness(Start, o => o.Horizon = TimeSpan.FromHours(3));
        await cp.InitializeAsync(deadline);
        await cp.Deployments.ApplyAsync(Hourly() with { Paused = true }, "test", deadline);

        var result = await cp.Scheduler.TickAsync(deadline);

        Assert.Equal(0, result.Created);
        Assert.Empty(await cp.RunsAsync("report/hourly", deadline));
    }

    [Fact]
    public async Task Admission_ScheduledRunOfADeploymentPausedSinceItWasCreated_IsRejectedWithTheReason()
    {
        using var deadline = TestDeadline.Create();
        await using var cp = new ControlPlaneHarness(Start, o => o.Horizon = TimeSpan.FromHours(1));
        await cp.InitializeAsync(deadline);
        await cp.Deployments.ApplyAsync(Hourly(), "test", deadline);
        await cp.Scheduler.TickAsync(deadline);
        var run = Assert.Single(await cp.RunsAsync("report/hourly", deadline));

        var before = await cp.Admission.AdmitAsync(run, deadline);
        await cp.Deployments.SetPausedAsync("report/hourly", true, deadline);
        var after = await cp.Admission.AdmitAsync(run, deadline);

        Assert.Equal(AdmissionKind.Admit, before.Kind);
        Assert.Equal(AdmissionKind.Reject, after.Kind);
        Assert.Contains("paused", after.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Admission_PoolLimitOfOne_SecondRunDefersUntilTheFirstEnds()
    {
        using var deadline = TestDeadline.Create();
        await using var cp = new ControlPlaneHarness(Start);
        await cp.InitializeAsync(deadline);
        await cp.Deployments.PutPoolAsync("default", new WorkPoolSpec { ConcurrencyLimit = 1 }, deadline);
        await cp.Deployments.ApplyAsync(Hourly() with { Schedules = [] }, "test", deadline);
        var first = (await cp.Deployments.TriggerAsync("report/hourly", new TriggerRequest(), deadline)).Run;
        var second = (await cp.Deployments.TriggerAsync("report/hourly", new TriggerRequest(), deadline)).Run;

        Assert.Equal(AdmissionKind.Admit, (await cp.Admission.AdmitAsync(first, deadline)).Kind);
        Assert.Equal(AdmissionKind.Admit, (await cp.Admission.AdmitAsync(first, deadline)).Kind); // asking again is idempotent
        Assert.Equal(AdmissionKind.Defer, (await cp.Admission.AdmitAsync(second, deadline)).Kind);

        // End the first run directly, as an episode would: the slot frees without anyone releasing it.
        var stored = (await cp.Engine.Store.GetRunAsync(first.RunId, deadline))!;
        await cp.Engine.Store.CommitAsync(new RunCommit
        {
            ExpectedVersion = stored.Version,
            Run = stored.Record with { State = RunState.Cancelled, TransitionCount = 2 },
            Transitions = [new StateTransition(2, stored.Record.State, RunState.Cancelled, cp.Clock.UtcNow, "test", 1)],
        }, deadline);
        Assert.Equal(AdmissionKind.Admit, (await cp.Admission.AdmitAsync(second, deadline)).Kind);
    }
}
