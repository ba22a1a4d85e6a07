using Flow.Sdk;
using Flow.Testing;
using Flow.TestSupport;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging;

namespace Flow.Engine.Tests;

public sealed class EscapedAwaitTests
{
    private const int EscapedAwaitsEvent = 105;

    [Fact]
    public async Task RunAsync_FlowThatOnlyAwaitsTheContext_IsNotReportedAsEscaping()
    {
        // The episode queues the flow's first step on the flow scheduler itself; that is not code escaping the context.
        using var deadline = TestDeadline.Create(TimeSpan.FromSeconds(30));
        var logs = new CapturingLoggerFactory(LogLevel.Warning);
        await using var host = FlowTestHost.Create(
            r => r.AddFlow<Unit, string>("approve", async (ctx, _) => "approved by " + await ctx.WaitForEventAsync<string>("approval")),
            o => o.LoggerFactory = logs);

        var started = await host.StartAsync("approve", cancellationToken: deadline.Token);
        await host.DriveAsync(started.RunId, r => r.State == RunState.Paused, deadline.Token);
        Assert.True(await host.RaiseEventAsync(started.RunId, "approval", "ana", deadline.Token));
        var run = await host.DriveAsync(started.RunId, cancellationToken: deadline.Token);

        Assert.Equal(RunState.Completed, run.State);
        Assert.DoesNotContain(logs.Entries, e => e.EventId.Id == EscapedAwaitsEvent);
    }

    [Fact]
    public async Task RunAsync_FlowAwaitingAThreadPoolTask_IsReportedAsEscaping()
    {
        using var deadline = TestDeadline.Create(TimeSpan.FromSeconds(30));
        var logs = new CapturingLoggerFactory(LogLevel.Warning);
        await using var host = FlowTestHost.Create(
            r => r.AddFlow<Unit, string>("escape", async (ctx, _) =>
            {
                await new ResumeFromThreadPool(); // its continuation comes from outside the flow's context, every time
                return "got " + await ctx.WaitForEventAsync<string>("approval");
            }),
            o => o.LoggerFactory = logs);

        var started = await host.StartAsync("escape", cancellationToken: deadline.Token);
        await host.DriveAsync(started.RunId, r => r.State == RunState.Paused, deadline.Token);

        Assert.Contains(logs.Entries, e => e.EventId.Id == EscapedAwaitsEvent);
    }

    /// <summary>
    /// An await that is never complete when awaited and resumes from a thread-pool thread, as an await of a timer or of I/O
    /// started outside the flow's context does (its awaiter captures the current scheduler, as a Task's does). Unlike
    /// <c>await Task.Delay(20)</c>, a thread paused past the delay cannot turn it into a synchronous, unreported await.
    /// </summary>
    private readonly struct ResumeFromThreadPool : INotifyCompletion
    {
        public bool IsCompleted => false;

        public ResumeFromThreadPool GetAwaiter() => this;

        public void GetResult()
        {
        }

        public void OnCompleted(Action continuation)
        {
            var scheduler = TaskScheduler.Current;
            ThreadPool.QueueUserWorkItem(_ => Task.Factory.StartNew(continuation, CancellationToken.None, TaskCreationOptions.None, scheduler));
        }
    }
}
