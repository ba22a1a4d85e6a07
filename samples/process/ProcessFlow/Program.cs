using Flow.Process;
using Flow.Sdk;

// Runs the flow of the run the worker names in FLOW_RUN_ID; the journal is kept through the Flow API, so a crash resumes.
return await FlowProcess.RunAsync(args, flows => flows.AddFlow<Summary>());

/// <summary>Sums the squares of 1..N, one task per number (each retried up to twice), and publishes a markdown artifact.</summary>
[Flow("squares", Version = "1")]
internal sealed class Summary : Flow<SquaresInput, int>
{
    public override async Task<int> RunAsync(FlowContext ctx, SquaresInput input)
    {
        var sum = 0;
        for (var i = 1; i <= input.Count; i++)
        {
            sum += await ctx.RunTaskAsync($"square-{i}", i, (t, n) => Task.FromResult(n * n), TaskOptions.WithRetries(2));
        }

        await ctx.CreateMarkdownArtifactAsync("squares", $"Sum of squares 1..{input.Count}: **{sum}**");
        return sum;
    }
}

/// <summary>The flow's parameters.</summary>
/// <param name="Count">How many numbers.</param>
internal sealed record SquaresInput(int Count = 10);
