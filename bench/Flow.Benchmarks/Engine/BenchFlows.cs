using Flow.Sdk;

namespace Flow.Benchmarks.Engine;

/// <summary>The flows and the task the engine benchmark runs; every process of the benchmark registers the same ones.</summary>
internal static class BenchFlows
{
    /// <summary>(a) one run of N sequential no-op inline tasks.</summary>
    public const string Sequential = "bench-sequential";

    /// <summary>(b) one run fanning out N no-op inline tasks with MapAsync.</summary>
    public const string FanOut = "bench-fanout";

    /// <summary>(c) one run fanning out N no-op distributed tasks with MapTaskAsync.</summary>
    public const string Distributed = "bench-distributed";

    /// <summary>The registered no-op task that (c) distributes.</summary>
    public const string NoopTask = "bench-noop";

    public static void Register(FlowRegistry registry)
    {
        registry
            .AddTask<int, int>(NoopTask, (_, x) => Task.FromResult(x))
            .AddFlow<BenchInput, long>(Sequential, async (ctx, input) =>
            {
                long total = 0;
                for (var i = 0; i < input.Tasks; i++)
                {
                    total += await ctx.RunTaskAsync("noop", i, (_, x) => Task.FromResult(x));
                }

                return total;
            })
            .AddFlow<BenchInput, long>(FanOut, async (ctx, input) =>
                (await ctx.MapAsync("noop", Enumerable.Range(0, input.Tasks), (_, x) => Task.FromResult(x), maxConcurrency: input.MaxConcurrency)).Sum(x => (long)x))
            .AddFlow<BenchInput, long>(Distributed, async (ctx, input) =>
                (await ctx.MapTaskAsync<int>(NoopTask, Enumerable.Range(0, input.Tasks).Select(i => (object?)i), TaskOptions.Distributed(), input.MaxConcurrency)).Sum(x => (long)x));
    }

    /// <summary>What every flow returns for <paramref name="tasks"/> tasks: the sum of 0..tasks-1.</summary>
    public static long ExpectedResult(int tasks) => (long)tasks * (tasks - 1) / 2;
}

/// <summary>A benchmark flow's parameters.</summary>
/// <param name="Tasks">How many tasks.</param>
/// <param name="MaxConcurrency">For the fan-outs: the most tasks in flight.</param>
internal sealed record BenchInput(int Tasks, int MaxConcurrency);
