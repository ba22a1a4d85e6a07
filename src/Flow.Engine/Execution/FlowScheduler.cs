using System.Collections.Concurrent;

namespace Flow.Engine.Execution;

/// <summary>
/// A single-threaded task scheduler for flow code, pumped by the episode loop. Every continuation of
/// flow code is queued here and run in FIFO order only when the episode calls <see cref="RunUntilIdle"/>,
/// so flow code runs deterministically, and the episode knows when the code is idle (blocked only on
/// what the context gave it). A continuation queued from another thread means the code awaited
/// something outside the context; the episode is signalled so it can go on, and it is counted so it
/// can be reported.
/// </summary>
internal sealed class FlowScheduler : TaskScheduler
{
    [ThreadStatic]
    private static FlowScheduler? t_pumping;

    private readonly ConcurrentQueue<Task> _queue = new();
    private readonly Action _signal;
    private int _foreignQueues;

    public FlowScheduler(Action signal) => _signal = signal;

    public override int MaximumConcurrencyLevel => 1;

    /// <summary>How many continuations arrived from outside the pump (code that escaped the context).</summary>
    public int ForeignQueues => Volatile.Read(ref _foreignQueues);

    public bool HasWork => !_queue.IsEmpty;

    /// <summary>Runs queued continuations until none is left.</summary>
    public void RunUntilIdle()
    {
        var previous = t_pumping;
        t_pumping = this;
        try
        {
            while (_queue.TryDequeue(out var task))
            {
                TryExecuteTask(task);
            }
        }
        finally
        {
            t_pumping = previous;
        }
    }

    /// <summary>Marks the current thread as the engine's own until disposed: continuations it queues (by completing calls) are not foreign.</summary>
    public OwnScope Own()
    {
        var previous = t_pumping;
        t_pumping = this;
        return new OwnScope(previous);
    }

    protected override void QueueTask(Task task)
    {
        _queue.Enqueue(task);
        if (!ReferenceEquals(t_pumping, this))
        {
            Interlocked.Increment(ref _foreignQueues);
            _signal();
        }
    }

    protected override bool TryExecuteTaskInline(Task task, bool taskWasPreviouslyQueued) => false;

    protected override IEnumerable<Task> GetScheduledTasks() => _queue.ToArray();

    internal readonly struct OwnScope : IDisposable
    {
        private readonly FlowScheduler? _previous;

        public OwnScope(FlowScheduler? previous) => _previous = previous;

        public void Dispose() => t_pumping = _previous;
    }
}
