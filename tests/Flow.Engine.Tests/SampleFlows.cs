using Flow.Sdk;

namespace Flow.Engine.Tests;

/// <summary>The flows whose recorded journals are kept in Journals/ as replay regression fixtures. Change them only in replay-safe ways.</summary>
public static class SampleFlows
{
    public static void Register(FlowRegistry registry, string transformName = "transform")
    {
        ArgumentNullException.ThrowIfNull(registry);
        registry
            .AddFlow<int, int>("double-it", async (ctx, x) => await ctx.RunTaskAsync("double", x, (_, v) => Task.FromResult(v * 2)))
            .AddFlow<EtlInput, EtlOutput>("etl", async (ctx, input) =>
            {
                var rows = await ctx.RunTaskAsync("extract", input.Source, (_, s) => Task.FromResult(Enumerable.Range(1, 5).Select(i => $"{s}-{i}").ToArray()));
                var cleaned = await ctx.MapAsync(transformName, rows, (_, row) => Task.FromResult(row.ToUpperInvariant()), maxConcurrency: 2);
                var doubled = await ctx.RunSubflowAsync<int>("double-it", cleaned.Count);
                await ctx.SleepAsync(TimeSpan.FromMinutes(30));
                string approver;
                try
                {
                    approver = await ctx.WaitForEventAsync<string>("approve", TimeSpan.FromHours(1));
                }
                catch (TimeoutException)
                {
                    approver = "nobody";
                }

                await ctx.RunTaskAsync("load", async t =>
                {
                    await Task.Yield();
                    t.CreateArtifact("load-report", ArtifactKind.Markdown, $"# loaded {cleaned.Count} rows");
                });
                return new EtlOutput(cleaned.Count, doubled, approver, ctx.NewGuid());
            });
    }

    public sealed record EtlInput(string Source);

    public sealed record EtlOutput(int Rows, int Doubled, string Approver, Guid Receipt);
}
