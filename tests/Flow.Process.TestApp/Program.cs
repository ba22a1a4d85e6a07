using System.Globalization;
using Flow.Process;
using Flow.Sdk;
using Microsoft.Extensions.Logging;

// Flow "steps": task i appends "i" to the marker file, then takes DelayMs; the result is the sum of squares. Task KillAt (if set)
// kills its own process with SIGKILL before its mark (the run crashes). Its state hooks, when HOOK_DIR is set, append
// "{hook} {idempotencyKey} {FLOW_HOOK}" to HOOK_DIR/{runId}.hooks; with HOOK_DIE_ONCE=1 the first hook invocation of a run
// SIGKILLs its own process instead (after the final commit, before the hook's effect).
return await FlowProcess.RunAsync(args, flows => flows.AddFlow<StepsInput, int>("steps", async (ctx, input) =>
{
    var sum = 0;
    for (var i = 1; i <= input.Count; i++)
    {
        sum += await ctx.RunTaskAsync($"step-{i}", i, async (t, n) =>
        {
            if (n == input.KillAt)
            {
                System.Diagnostics.Process.GetCurrentProcess().Kill();
            }

            await File.AppendAllTextAsync(input.Marker, n.ToString(CultureInfo.InvariantCulture) + "\n", t.CancellationToken);
            await Task.Delay(input.DelayMs, t.CancellationToken);
            return n * n;
        });
        ctx.Logger.LogWarning("step {Step} done", i);
    }

    await ctx.CreateMarkdownArtifactAsync("summary", $"sum of squares: {sum}");
    return sum;
}, new FlowOptions
{
    OnCompletion = TestHooks.Record("OnCompletion"),
    OnFailure = TestHooks.Record("OnFailure"),
    OnCrashed = TestHooks.Record("OnCrashed"),
    OnCancellation = TestHooks.Record("OnCancellation"),
}));

/// <summary>The input of the test flow.</summary>
/// <param name="Count">How many tasks.</param>
/// <param name="Marker">The file each task appends its number to.</param>
/// <param name="DelayMs">How long each task takes after its mark.</param>
/// <param name="KillAt">The task that SIGKILLs its own process (0: none).</param>
internal sealed record StepsInput(int Count, string Marker, int DelayMs = 0, int KillAt = 0);

/// <summary>State hooks that leave a trace a test can count.</summary>
internal static class TestHooks
{
    public static FlowHook Record(string name) => (context, cancellationToken) =>
    {
        if (Environment.GetEnvironmentVariable("HOOK_DIR") is not { Length: > 0 } dir)
        {
            return Task.CompletedTask;
        }

        var died = Path.Combine(dir, context.RunId + ".died");
        if (Environment.GetEnvironmentVariable("HOOK_DIE_ONCE") == "1" && !File.Exists(died))
        {
            File.WriteAllText(died, name);
            System.Diagnostics.Process.GetCurrentProcess().Kill();
        }

        var line = $"{name} {context.IdempotencyKey} {Environment.GetEnvironmentVariable("FLOW_HOOK") ?? "0"}\n";
        return File.AppendAllTextAsync(Path.Combine(dir, context.RunId + ".hooks"), line, cancellationToken);
    };
}
