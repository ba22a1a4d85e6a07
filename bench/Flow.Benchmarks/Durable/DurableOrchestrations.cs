using DurableTask.Core;

namespace Flow.Benchmarks.Durable;

/// <summary>The no-op activity of the Durable Task baseline: returns its input.</summary>
internal sealed class NoopActivity : TaskActivity<int, int>
{
    protected override int Execute(TaskContext context, int input) => input;
}

/// <summary>(a) and (c): N no-op activities one after the other; returns their sum.</summary>
internal sealed class SequentialOrchestration : TaskOrchestration<long, int>
{
    public override async Task<long> RunTask(OrchestrationContext context, int input)
    {
        long total = 0;
        for (var i = 0; i < input; i++)
        {
            total += await context.ScheduleTask<int>(typeof(NoopActivity), i);
        }

        return total;
    }
}

/// <summary>(b): N no-op activities scheduled at once, awaited together; returns their sum.</summary>
internal sealed class FanOutOrchestration : TaskOrchestration<long, int>
{
    public override async Task<long> RunTask(OrchestrationContext context, int input)
    {
        var tasks = Enumerable.Range(0, input).Select(i => context.ScheduleTask<int>(typeof(NoopActivity), i)).ToList();
        return (await Task.WhenAll(tasks)).Sum(x => (long)x);
    }
}
