using System.ComponentModel;
using Flow.Sdk;
using Microsoft.Extensions.Logging;

namespace Flow.Dashboard.Tests;

/// <summary>The flows the dashboard tests drive through the browser.</summary>
internal static class DashboardFlows
{
    public static void Register(FlowRegistry registry)
    {
        registry
            .AddFlow<ReportInput, string>("dash-report", async (ctx, input) =>
            {
                var attempt = 0;
                var rows = await ctx.RunTaskAsync("fetch", input.Count, (_, n) =>
                {
                    // The first attempt fails, so the timeline shows a failed attempt, a retry wait and a second attempt.
                    if (Interlocked.Increment(ref attempt) == 1)
                    {
                        throw new InvalidOperationException("the source is warming up");
                    }

                    return Task.FromResult(Enumerable.Range(1, n).Select(i => new ReportRow($"{input.Region}-{i}", i * 10)).ToArray());
                }, TaskOptions.WithRetries(2, RetryDelay.Fixed(TimeSpan.FromMilliseconds(300))));
                var total = await ctx.RunTaskAsync("total", rows, (task, r) =>
                {
                    task.Logger.LogInformation("totalling {Rows} rows", r.Length);
                    return Task.FromResult(r.Sum(x => x.Amount));
                });
                await ctx.CreateTableArtifactAsync("report-rows", rows, $"{rows.Length} rows for {input.Region}");
                await ctx.CreateMarkdownArtifactAsync("summary", $"# Report\n\n**Total**: {total}\n\n- region `{input.Region}`\n- color {input.Color}");
                ctx.Logger.LogWarning("report for {Region} done: total {Total}", input.Region, total);
                return $"{input.Region}: {total}";
            })
            .AddFlow<HoldInput, int>("dash-hold", async (ctx, input) =>
            {
                var done = 0;
                for (var i = 0; i < input.Steps; i++)
                {
                    done = await ctx.RunTaskAsync("step", i, async (task, n) =>
                    {
                        await Task.Delay(200, task.CancellationToken);
                        return n + 1;
                    });
                }

                return done;
            })
            .AddFlow<HoldInput, int>("dash-fail", (_, _) => throw new InvalidOperationException("the dashboard test flow fails on purpose"))
            .AddFlow<HoldInput, string>("dash-review", async (ctx, _) =>
            {
                var review = await ctx.PauseAsync<ReviewInput>(TimeSpan.FromMinutes(10));
                return $"{(review.Approved ? "approved" : "rejected")} by {review.By}";
            });
    }
}

/// <summary>Colours a report can take.</summary>
public enum ReportColor
{
    /// <summary>Blue.</summary>
    Blue,

    /// <summary>Green.</summary>
    Green,
}

/// <summary>The report flow's parameters.</summary>
/// <param name="Region">The sales region to report on.</param>
/// <param name="Count">How many rows.</param>
/// <param name="Color">The report's colour.</param>
/// <param name="Window">How far back to look (a time span like 01:00:00).</param>
public sealed record ReportInput(
    string Region,
    int Count = 3,
    ReportColor Color = ReportColor.Blue,
    [property: Description("How far back to look, as hh:mm:ss.")] TimeSpan? Window = null);

/// <summary>One row of the report.</summary>
/// <param name="Key">The row key.</param>
/// <param name="Amount">Its amount.</param>
public sealed record ReportRow(string Key, int Amount);

/// <summary>The hold flow's parameters.</summary>
/// <param name="Steps">How many 200 ms steps.</param>
public sealed record HoldInput(int Steps = 300);

/// <summary>What a reviewer sends to resume dash-review.</summary>
/// <param name="By">Who reviewed.</param>
/// <param name="Approved">The verdict.</param>
public sealed record ReviewInput(string By, bool Approved);
