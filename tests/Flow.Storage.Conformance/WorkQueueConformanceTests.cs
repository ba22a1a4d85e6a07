using Flow.Engine.Storage;
using Flow.TestSupport;

namespace Flow.Storage.Conformance;

/// <summary>
/// The conformance suite every <see cref="IWorkQueue"/> passes. A backend's test project subclasses it,
/// implements <see cref="CreateQueueAsync"/> and <see cref="EnqueueRawAsync"/>, and — if the backend runs on an
/// injected <see cref="TimeProvider"/> — overrides <see cref="Clock"/>, <see cref="PassTimeAsync"/> and
/// <see cref="Tolerance"/> so the suite drives the clock instead of waiting:
/// <code>
/// public sealed class InMemoryWorkQueueConformanceTests : WorkQueueConformanceTests
/// {
///     private readonly FakeClock _clock = new();
///     protected override TimeProvider Clock =&gt; _clock;
///     protected override TimeSpan Tolerance =&gt; TimeSpan.Zero;
///     protected override Task PassTimeAsync(TimeSpan step, CancellationToken cancellationToken) { _clock.Advance(step); return Task.CompletedTask; }
///     …
/// }
/// </code>
/// Backends on the real clock keep the defaults: the suite then waits in real time, polling under each test's
/// deadline, with delays and leases of a few seconds. Every test uses queues of its own (unique names), so one
/// backend instance may serve many tests.
/// </summary>
public abstract partial class WorkQueueConformanceTests : IAsyncDisposable
{
    private readonly List<IWorkQueue> _queues = [];

    /// <summary>The deadline of a test. Defaults to 30 seconds.</summary>
    protected virtual TimeSpan Timeout => TestDeadline.DefaultTimeout;

    /// <summary>
    /// The clock the backend reads for delays, leases and dead-letter times. Defaults to the system clock; a backend
    /// driven by a fake clock returns it.
    /// </summary>
    protected virtual TimeProvider Clock => TimeProvider.System;

    /// <summary>
    /// How far the backend's idea of time may differ from <see cref="Clock"/> (server clocks, whole-second
    /// visibility times). Defaults to 1 second; a backend on the suite's fake clock should be exact (zero).
    /// </summary>
    protected virtual TimeSpan Tolerance => TimeSpan.FromSeconds(1);

    /// <summary>The short delay and lease the suite waits out. Defaults to 2 seconds.</summary>
    protected virtual TimeSpan ShortDelay => TimeSpan.FromSeconds(2);

    /// <summary>How much time passes between two looks while the suite waits for something. Defaults to 100 ms.</summary>
    protected virtual TimeSpan PollStep => TimeSpan.FromMilliseconds(100);

    /// <summary>A lease long enough never to end during a test: 5 minutes.</summary>
    protected static TimeSpan LongLease { get; } = TimeSpan.FromMinutes(5);

    /// <summary>Creates the queue backend for the current test (queues of different tests have different names).</summary>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The backend.</returns>
    protected abstract Task<IWorkQueue> CreateQueueAsync(CancellationToken cancellationToken);

    /// <summary>
    /// Adds a message with exactly this body to <paramref name="queue"/>, visible at once, bypassing
    /// <see cref="IWorkQueue.EnqueueAsync"/> — as a foreign producer or a corrupted message would. The body is the
    /// text the backend's own producer would write, before any transport encoding (such as Base64); dequeuing
    /// returns it as <see cref="LeasedWorkItem.RawBody"/>.
    /// </summary>
    /// <param name="workQueue">The backend from <see cref="CreateQueueAsync"/>.</param>
    /// <param name="queue">The logical queue name (already ensured).</param>
    /// <param name="body">The body.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>A task.</returns>
    protected abstract Task EnqueueRawAsync(IWorkQueue workQueue, string queue, string body, CancellationToken cancellationToken);

    /// <summary>
    /// Lets <paramref name="step"/> of time pass. Defaults to waiting that long in real time; a backend on a fake
    /// clock advances it instead.
    /// </summary>
    /// <param name="step">How much time.</param>
    /// <param name="cancellationToken">Cancels the wait.</param>
    /// <returns>A task.</returns>
    protected virtual Task PassTimeAsync(TimeSpan step, CancellationToken cancellationToken) => Task.Delay(step, cancellationToken);

    /// <summary>Disposes the backends the test created.</summary>
    /// <returns>A task.</returns>
    public async ValueTask DisposeAsync()
    {
        await DisposeAsyncCore();
        GC.SuppressFinalize(this);
    }

    /// <summary>Disposes the backends the test created; override to clean up more (call the base).</summary>
    /// <returns>A task.</returns>
    protected virtual ValueTask DisposeAsyncCore() => Disposal.DisposeAllAsync(_queues);

    /// <summary>Creates the backend and one ensured queue with a unique name for the current test.</summary>
    protected async Task<(IWorkQueue Queue, string Name)> NewQueueAsync(CancellationToken cancellationToken)
    {
        var backend = await CreateQueueAsync(cancellationToken);
        _queues.Add(backend);
        return (backend, await EnsureNewQueueAsync(backend, cancellationToken));
    }

    /// <summary>Creates the backend and a queue holding one <see cref="Item"/>, and takes it with a lease of <paramref name="lease"/>.</summary>
    protected async Task<(IWorkQueue Queue, string Name, LeasedWorkItem Taken)> NewQueueWithItemAsync(TimeSpan lease, TestDeadline deadline)
    {
        ArgumentNullException.ThrowIfNull(deadline);
        var (queue, name) = await NewQueueAsync(deadline.Token);
        await queue.EnqueueAsync(name, Item(), TimeSpan.Zero, deadline.Token);
        return (queue, name, await DequeueOneAsync(queue, name, lease, deadline, "the item"));
    }

    /// <summary>Ensures one more queue with a unique name, at most 40 characters, on <paramref name="backend"/>.</summary>
    protected static async Task<string> EnsureNewQueueAsync(IWorkQueue backend, CancellationToken cancellationToken)
    {
        var unique = UniqueNames.Queue();
        var head = unique[..^11];
        head = head[..Math.Min(head.Length, StorageContract.MaxQueueNameLength - 11)].TrimEnd('-');
        var name = (head.Length == 0 ? "q" : head) + unique[^11..];
        await backend.EnsureQueueAsync(name, cancellationToken);
        return name;
    }

    /// <summary>A work item with every field set.</summary>
    protected static WorkItem Item(string runId = "run-1", int callId = 7) => new()
    {
        Kind = WorkItem.TaskKind,
        RunId = runId,
        RunAttempt = 2,
        CallId = callId,
        JournalIndex = 41,
        Name = "extract-données 🚀",
        Attempt = 3,
        Reason = "retry",
    };

    /// <summary>Takes exactly one item, waiting (by <see cref="PassTimeAsync"/>) until one is visible.</summary>
    protected async Task<LeasedWorkItem> DequeueOneAsync(IWorkQueue queue, string name, TimeSpan lease, TestDeadline deadline, string what)
    {
        LeasedWorkItem? taken = null;
        await WaitUntilAsync(
            async ct =>
            {
                var items = await queue.DequeueAsync(name, 1, lease, ct);
                Assert.InRange(items.Count, 0, 1);
                taken = items.Count == 1 ? items[0] : null;
                return taken is not null;
            },
            deadline,
            what);
        return taken!;
    }

    /// <summary>Checks <paramref name="condition"/> until it holds, letting <see cref="PollStep"/> of time pass between looks, under <paramref name="deadline"/>.</summary>
    protected async Task WaitUntilAsync(Func<CancellationToken, Task<bool>> condition, TestDeadline deadline, string what)
    {
        ArgumentNullException.ThrowIfNull(condition);
        ArgumentNullException.ThrowIfNull(deadline);
        while (!await condition(deadline.Token))
        {
            if (deadline.Token.IsCancellationRequested)
            {
                throw deadline.Expired(what);
            }

            try
            {
                await PassTimeAsync(PollStep, deadline.Token);
            }
            catch (OperationCanceledException e) when (deadline.IsExpired)
            {
                throw deadline.Expired(what, e);
            }
        }
    }

    /// <summary>Lets time pass until <see cref="Clock"/> reaches <paramref name="instant"/>.</summary>
    protected Task PassTimeUntilAsync(DateTimeOffset instant, TestDeadline deadline) =>
        WaitUntilAsync(_ => Task.FromResult(Clock.GetUtcNow() >= instant), deadline, $"the clock to reach {instant:O}");

    /// <summary>Asserts <paramref name="earliest"/> - <see cref="Tolerance"/> ≤ <paramref name="actual"/> ≤ <paramref name="latest"/> + <see cref="Tolerance"/>.</summary>
    protected void AssertWithin(DateTimeOffset earliest, DateTimeOffset latest, DateTimeOffset actual, string what) =>
        Assert.True(
            actual >= earliest - Tolerance && actual <= latest + Tolerance,
            $"{what}: expected between {earliest:O} and {latest:O} (± {Tolerance.TotalMilliseconds} ms), got {actual:O}.");

    /// <summary>
    /// Asserts that <paramref name="item"/>'s receipt is no longer good: completing and abandoning return false,
    /// extending and dead-lettering throw <see cref="LeaseLostException"/>.
    /// </summary>
    protected static async Task AssertLeaseLostAsync(IWorkQueue queue, LeasedWorkItem item, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(queue);
        Assert.False(await queue.CompleteAsync(item, cancellationToken), "CompleteAsync with a lost lease should return false.");
        Assert.False(await queue.AbandonAsync(item, TimeSpan.Zero, cancellationToken), "AbandonAsync with a lost lease should return false.");
        await Assert.ThrowsAsync<LeaseLostException>(() => queue.ExtendLeaseAsync(item, LongLease, cancellationToken));
        await Assert.ThrowsAsync<LeaseLostException>(() => queue.DeadLetterAsync(item, "lease lost", cancellationToken));
    }

    /// <summary>Asserts that nothing is visible on <paramref name="name"/> now.</summary>
    protected static async Task AssertNothingVisibleAsync(IWorkQueue queue, string name, CancellationToken cancellationToken, string because) =>
        Assert.True((await queue.DequeueAsync(name, StorageContract.MaxDequeueItems, LongLease, cancellationToken)).Count == 0, because);
}
