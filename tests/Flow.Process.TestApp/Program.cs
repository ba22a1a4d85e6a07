using System.Globalization;
using Flow.Process;
using Microsoft.Extensions.Logging;

// Flow "steps": task i appends "i" to the marker file, then takes DelayMs; the result is the sum of squares.
return await FlowProcess.RunAsync(args, flows => flows.AddFlow<StepsInput, int>("steps", async (ctx, input) =>
{
    var sum = 0;
    for (var i = 1; i <= input.Count; i++)
    {
        sum += await ctx.RunTaskAsync($"step-{i}", i, async (t, n) =>
        {
            await File.AppendAllTextAsync(input.Marker, n.ToString(CultureInfo.InvariantCulture) + "\n", t.CancellationToken);
            await Task.Delay(input.DelayMs, t.CancellationToken);
            return n * n;
        });
        ctx.Logger.LogWarning("step {Step} done", i);
    }

    await ctx.CreateMarkdownArtifactAsync("summary", $"sum of squares: {sum}");
    return sum;
}));

/// <summary>The input of the test flow.</summary>
/// <param name="Count">How many tasks.</param>
/// <param name="Marker">The file each task appends its number to.</param>
/// <param name="DelayMs">How long each task takes after its mark.</param>
internal sealed record StepsInput(int Count, string Marker, int DelayMs = 0);
