using Flow.Sdk;
using Flow.Testing;
using Flow.TestSupport;

namespace Flow.Engine.Tests;

public sealed class ReplayerTests
{
    private static readonly string JournalDirectory = Path.Combine(RepoPaths.Root, "tests", "Flow.Engine.Tests", "Journals");

    public static TheoryData<string> RecordedJournals()
    {
        var data = new TheoryData<string>();
        foreach (var file in Directory.GetFiles(JournalDirectory, "*.json").Order(StringComparer.Ordinal))
        {
            data.Add(Path.GetFileName(file));
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(RecordedJournals))]
    public async Task ReplayAsync_RecordedJournal_MatchesTheCurrentCode(string file)
    {
        using var deadline = TestDeadline.Create(TimeSpan.FromSeconds(30));
        var registry = new FlowRegistry();
        SampleFlows.Register(registry);

        var result = await FlowReplayer.ReplayAsync(registry, await File.ReadAllTextAsync(Path.Combine(JournalDirectory, file), deadline.Token), null, deadline.Token);

        Assert.Null(result.Error);
        Assert.True(result.IsDeterministic);
        Assert.True(result.EventCount > 0);
        Assert.Equal(result.EventCount, result.EventsReplayed);
    }

    [Fact]
    public async Task ReplayAsync_TaskRenamedInTheCode_ReportsTheNonDeterminismWithBothNames()
    {
        using var deadline = TestDeadline.Create(TimeSpan.FromSeconds(30));
        var registry = new FlowRegistry();
        SampleFlows.Register(registry, transformName: "clean");

        var result = await FlowReplayer.ReplayAsync(registry, await File.ReadAllTextAsync(Path.Combine(JournalDirectory, "etl-completed.json"), deadline.Token), null, deadline.Token);

        Assert.False(result.IsDeterministic);
        Assert.Contains("'transform'", result.Error, StringComparison.Ordinal);
        Assert.Contains("'clean'", result.Error, StringComparison.Ordinal);
        Assert.True(result.EventsReplayed < result.EventCount);
    }

    [Fact]
    public async Task ReplayAsync_StepRemovedFromTheCode_ReportsTheRecordedStepTheCodeNoLongerMakes()
    {
        using var deadline = TestDeadline.Create(TimeSpan.FromSeconds(30));
        var registry = new FlowRegistry().AddFlow<SampleFlows.EtlInput, int>("etl", async (ctx, input) =>
            (await ctx.RunTaskAsync("extract", input.Source, (_, s) => Task.FromResult(new[] { s }))).Length);

        var result = await FlowReplayer.ReplayAsync(registry, await File.ReadAllTextAsync(Path.Combine(JournalDirectory, "etl-completed.json"), deadline.Token), null, deadline.Token);

        Assert.False(result.IsDeterministic);
        Assert.Contains("'transform'", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ExportAsync_RunInFlight_ReplaysCleanlyAgainstTheSameCode()
    {
        using var deadline = TestDeadline.Create(TimeSpan.FromSeconds(30));
        await using var host = FlowTestHost.Create(r => SampleFlows.Register(r));
        var run = await host.StartAsync("etl", new SampleFlows.EtlInput("crm"), cancellationToken: deadline.Token);
        await host.DriveAsync(run.RunId, r => r.State == RunState.Paused && r.StateMessage!.Contains("approve", StringComparison.Ordinal), deadline.Token);

        var export = await FlowReplayer.ExportAsync(host.Store, run.RunId, deadline.Token);
        var registry = new FlowRegistry();
        SampleFlows.Register(registry);
        var result = await FlowReplayer.ReplayAsync(registry, export, null, deadline.Token);

        Assert.True(result.IsDeterministic, result.Error);
        Assert.Equal(result.EventCount, result.EventsReplayed);
    }

    /// <summary>Writes the fixtures in Journals/ from fresh runs. Run it explicitly after a deliberate, replay-safe change to the recording format.</summary>
    [Fact(Explicit = true)]
    public async Task RecordFixtures()
    {
        using var deadline = TestDeadline.Create(TimeSpan.FromSeconds(60));
        await using var host = FlowTestHost.Create(r => SampleFlows.Register(r));

        var completed = await host.StartAsync("etl", new SampleFlows.EtlInput("crm"), new StartRunOptions { RunId = "etl-completed" }, deadline.Token);
        await host.DriveAsync(completed.RunId, r => r.State == RunState.Paused && r.StateMessage!.Contains("approve", StringComparison.Ordinal), deadline.Token);
        await host.RaiseEventAsync(completed.RunId, "approve", "ana", deadline.Token);
        Assert.Equal(RunState.Completed, (await host.DriveAsync(completed.RunId, null, deadline.Token)).State);
        await File.WriteAllTextAsync(Path.Combine(JournalDirectory, "etl-completed.json"), await FlowReplayer.ExportAsync(host.Store, completed.RunId, deadline.Token) + "\n", deadline.Token);

        var waiting = await host.StartAsync("etl", new SampleFlows.EtlInput("erp"), new StartRunOptions { RunId = "etl-waiting-for-approval" }, deadline.Token);
        await host.DriveAsync(waiting.RunId, r => r.State == RunState.Paused && r.StateMessage!.Contains("approve", StringComparison.Ordinal), deadline.Token);
        await File.WriteAllTextAsync(Path.Combine(JournalDirectory, "etl-waiting-for-approval.json"), await FlowReplayer.ExportAsync(host.Store, waiting.RunId, deadline.Token) + "\n", deadline.Token);

        var timedOut = await host.RunAsync("etl", new SampleFlows.EtlInput("hr"), new StartRunOptions { RunId = "etl-approval-timed-out" }, deadline.Token);
        await File.WriteAllTextAsync(Path.Combine(JournalDirectory, "etl-approval-timed-out.json"), await FlowReplayer.ExportAsync(host.Store, timedOut.RunId, deadline.Token) + "\n", deadline.Token);
    }
}
