using System.Globalization;
using Flow.Sdk;

namespace Flow.Engine.TestWorker;

/// <summary>The tasks' body: a side effect recorded outside the engine (a line appended to a file), announced on stdout.</summary>
internal sealed class SideEffects(CrashTestSettings settings, string workerId)
{
    /// <summary>One task: wait, append "{callId} {attempt} {pid} {workerId} {idempotencyKey}", print "task {callId} done", return x².</summary>
    public async Task<int> StepAsync(TaskContext task, int x)
    {
        var pauseHere = settings.PauseAt == task.CallId;
        if (pauseHere && settings.PauseBeforeSideEffect)
        {
            Say($"task {task.CallId} started");
            await Task.Delay(Timeout.Infinite, task.CancellationToken);
        }

        if (settings.TaskDelay > TimeSpan.Zero)
        {
            await Task.Delay(settings.TaskDelay, task.CancellationToken);
        }

        // One write of a whole line, flushed (File.AppendAllText closes the file): a SIGKILL cannot leave half a line.
        File.AppendAllText(settings.SideEffectFile, string.Create(CultureInfo.InvariantCulture, $"{task.CallId} {task.Attempt} {Environment.ProcessId} {workerId} {task.IdempotencyKey}\n"));
        Say($"task {task.CallId} done");
        if (pauseHere && !settings.PauseBeforeSideEffect)
        {
            await Task.Delay(Timeout.Infinite, task.CancellationToken);
        }

        return x * x;
    }

    /// <summary>The flow's OnCompletion hook: (pause,) append "{idempotencyKey} {pid} {workerId}" to the hook file, print "hook done".</summary>
    public async Task HookAsync(FlowHookContext context, CancellationToken cancellationToken)
    {
        if (settings.PauseInHook)
        {
            Say($"hook started");
            await Task.Delay(Timeout.Infinite, cancellationToken);
        }

        File.AppendAllText(settings.HookFile, string.Create(CultureInfo.InvariantCulture, $"{context.IdempotencyKey} {Environment.ProcessId} {workerId}\n"));
        Say($"hook done");
    }

    private static void Say(FormattableString line) => Console.WriteLine(line.ToString(CultureInfo.InvariantCulture));
}
