using System.Reflection;
using System.Runtime.ExceptionServices;
using Flow.Engine.Storage;
using Flow.Engine.Storage.InMemory;
using Flow.Sdk;
using Flow.Testing;
using Flow.TestSupport;

namespace Flow.Engine.Tests;

public sealed class DeliveryGroupingTests
{
    [Fact]
    public async Task RaiseEventAsync_ManyAtOnce_CommitsThemInAFewGroups()
    {
        using var deadline = TestDeadline.Create(TimeSpan.FromSeconds(30));

        var (delivered, run, sum, commits) = await RaiseAllAtOnceAsync(50, deliveredBefore: null, deadline.Token);

        Assert.All(delivered, Assert.True);
        Assert.InRange(commits, 1, 2); // not 50
        Assert.Equal(RunState.Completed, run.State);
        Assert.Equal(Enumerable.Range(1, 50).Sum(), sum);
    }

    [Fact]
    public async Task RaiseEventAsync_GroupWithAnIdDeliveredBefore_RefusesOnlyThatOne()
    {
        using var deadline = TestDeadline.Create(TimeSpan.FromSeconds(30));

        var (delivered, run, sum, _) = await RaiseAllAtOnceAsync(20, deliveredBefore: 7, deadline.Token);

        Assert.Equal(Enumerable.Range(1, 20).Select(i => i != 7), delivered);
        Assert.Equal(RunState.Completed, run.State);
        Assert.Equal(Enumerable.Range(1, 20).Sum(), sum);
    }

    /// <summary>
    /// Runs a flow that sums <paramref name="count"/> events "n" to its first wait, delivers event n<paramref name="deliveredBefore"/>
    /// alone if given, then events n1..n<paramref name="count"/> at once while the first group's commit is held (the rest gather
    /// into more groups meanwhile), and drives the run to its end. Returns each delivery's answer, the run, its result and the
    /// delivery commits of the concurrent part.
    /// </summary>
    private static async Task<(bool[] Delivered, FlowRunRecord Run, int Sum, int DeliveryCommits)> RaiseAllAtOnceAsync(int count, int? deliveredBefore, CancellationToken cancellationToken)
    {
        var store = DispatchProxy.Create<IFlowStore, HeldDeliveries>();
        var held = (HeldDeliveries)(object)store;
        held.Inner = new InMemoryFlowStore();
        await using var host = FlowTestHost.Create(
            r => r.AddFlow<int, int>("sum", async (ctx, n) =>
            {
                var total = 0;
                for (var i = 0; i < n; i++)
                {
                    total += await ctx.WaitForEventAsync<int>("n");
                }

                return total;
            }),
            o => o.Storage = clock => (store, new InMemoryWorkQueue(clock)));
        var runId = (await host.StartAsync("sum", count, cancellationToken: cancellationToken)).RunId;
        await host.DriveAsync(runId, r => r.State == RunState.Paused, cancellationToken);
        if (deliveredBefore is { } before)
        {
            Assert.True(await host.Engine.RaiseEventAsync(runId, "n", before, $"n{before}", cancellationToken));
        }

        var commitsBefore = held.DeliveryCommits;
        held.Hold();
        var deliveries = Enumerable.Range(1, count).Select(i => host.Engine.RaiseEventAsync(runId, "n", i, $"n{i}", cancellationToken)).ToList();
        held.Release();
        var delivered = await Task.WhenAll(deliveries).WaitAsync(cancellationToken);
        var commits = held.DeliveryCommits - commitsBefore;
        var run = await host.DriveAsync(runId, cancellationToken: cancellationToken);
        return (delivered, run, host.GetResult<int>(run), commits);
    }

    /// <summary>An <see cref="IFlowStore"/> that counts commits adding inbox items and can hold them until released.</summary>
    public class HeldDeliveries : DispatchProxy
    {
        private TaskCompletionSource _gate = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _deliveryCommits;

        public HeldDeliveries() => _gate.SetResult();

        public IFlowStore Inner { get; set; } = null!;

        public int DeliveryCommits => Volatile.Read(ref _deliveryCommits);

        public void Hold() => _gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        public void Release() => _gate.TrySetResult();

        protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
        {
            ArgumentNullException.ThrowIfNull(targetMethod);
            if (targetMethod.Name == nameof(IFlowStore.CommitAsync) && args?[0] is RunCommit { InboxToAdd.Count: > 0 })
            {
                Interlocked.Increment(ref _deliveryCommits);
                var gate = _gate.Task;
                return CommitAfterAsync(gate, () => (Task<StoredRun>)Call(targetMethod, args)!);
            }

            return Call(targetMethod, args);
        }

        private static async Task<StoredRun> CommitAfterAsync(Task gate, Func<Task<StoredRun>> commit)
        {
            await gate;
            return await commit();
        }

        private object? Call(MethodInfo method, object?[]? args)
        {
            try
            {
                return method.Invoke(Inner, args);
            }
            catch (TargetInvocationException e) when (e.InnerException is not null)
            {
                ExceptionDispatchInfo.Throw(e.InnerException);
                throw;
            }
        }
    }
}
