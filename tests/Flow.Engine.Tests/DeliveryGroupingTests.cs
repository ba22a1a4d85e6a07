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
    public async Task RaiseEventAsync_ManyAtOnce_CommitsThemInAFewGroupsAndDeliversEachIdOnce()
    {
        using var deadline = TestDeadline.Create(TimeSpan.FromSeconds(30));
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
        var started = await host.StartAsync("sum", 50, cancellationToken: deadline.Token);
        await host.DriveAsync(started.RunId, r => r.State == RunState.Paused, deadline.Token);

        // While the first delivery's commit is held, the other 49 and a repeat of id n7 arrive.
        held.Hold();
        var deliveries = Enumerable.Range(1, 50).Select(i => host.Engine.RaiseEventAsync(started.RunId, "n", i, $"n{i}", deadline.Token)).ToList();
        deliveries.Add(host.Engine.RaiseEventAsync(started.RunId, "n", 7, "n7", deadline.Token));
        held.Release();
        var delivered = await Task.WhenAll(deliveries).WaitAsync(deadline.Token);
        var run = await host.DriveAsync(started.RunId, cancellationToken: deadline.Token);

        Assert.All(delivered[..50], Assert.True);
        Assert.False(delivered[50]);
        Assert.InRange(held.DeliveryCommits, 2, 3); // a group, the rest as one group, the repeat alone; not 51 commits
        Assert.Equal(RunState.Completed, run.State);
        Assert.Equal(Enumerable.Range(1, 50).Sum(), host.GetResult<int>(run));
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
