namespace Flow.TestSupport.Tests;

public sealed class ProcessRunnerTests
{
    [Fact]
    public async Task RunAsync_PassesArgumentsAsArgv_AndCapturesOutputAndExitCode()
    {
        using var deadline = TestDeadline.Create();

        var result = await ProcessRunner.RunAsync(
            NodeTools.NodePath,
            ["-e", "console.log(process.argv.slice(1).join('|')); console.error('to stderr'); process.exit(3)", "a b", "$HOME", "'q'"],
            null, deadline.Token);

        Assert.Equal(3, result.ExitCode);
        Assert.Equal(["a b|$HOME|'q'"], result.StandardOutput);
        Assert.Equal(["to stderr"], result.StandardError);
    }

    [Fact]
    public async Task WaitForOutputAsync_ReturnsTheFirstMatchingLine()
    {
        using var deadline = TestDeadline.Create();
        await using var runner = ProcessRunner.Start(
            NodeTools.NodePath, ["-e", "console.log('starting'); setTimeout(() => console.log('ready on 42'), 100); setInterval(() => {}, 1000)"]);

        var line = await runner.WaitForOutputAsync(l => l.StartsWith("ready", StringComparison.Ordinal), deadline.Token);

        Assert.Equal("ready on 42", line);
        Assert.False(runner.HasExited);
    }

    [Fact]
    public async Task DisposeAsync_KillsTheProcessTree()
    {
        using var deadline = TestDeadline.Create();
        var runner = ProcessRunner.Start(
            NodeTools.NodePath,
            ["-e", "const c = require('child_process').spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)']); console.log('child ' + c.pid); setInterval(() => {}, 1000)"]);
        var childPid = int.Parse((await runner.WaitForOutputAsync(l => l.StartsWith("child ", StringComparison.Ordinal), deadline.Token))[6..],
            System.Globalization.CultureInfo.InvariantCulture);

        await runner.DisposeAsync();

        Assert.True(runner.HasExited);
        await deadline.PollUntilAsync(_ => Task.FromResult(!ProcessRunner.IsAlive(childPid)), $"child process {childPid} to be gone");
    }

    [Fact]
    public async Task GuardedProcess_IsStopped_WhenItsStdinCloses()
    {
        using var deadline = TestDeadline.Create();
        await using var runner = ProcessRunner.Start(
            NodeTools.NodePath, ["-e", "console.log('pid ' + process.pid); setInterval(() => {}, 1000)"],
            new ProcessRunnerOptions { GuardLifetime = true });
        var guardedPid = int.Parse((await runner.WaitForOutputAsync(l => l.StartsWith("pid ", StringComparison.Ordinal), deadline.Token))[4..],
            System.Globalization.CultureInfo.InvariantCulture);

        // What happens when the test process dies: the pipe to the guard's stdin closes.
        runner.CloseStandardInput();
        await runner.WaitForExitAsync(deadline.Token);

        Assert.NotEqual(runner.Id, guardedPid);
        await deadline.PollUntilAsync(_ => Task.FromResult(!ProcessRunner.IsAlive(guardedPid)), $"guarded process {guardedPid} to be gone");
    }

    [Fact]
    public async Task Terminate_OnAGuardedProcess_ForwardsSigtermAndReportsTheExitCode()
    {
        using var deadline = TestDeadline.Create();
        await using var runner = StartGuardedNode("console.log('up')");
        await runner.WaitForOutputAsync(l => l == "up", deadline.Token);

        runner.Terminate();
        var exitCode = await runner.WaitForExitAsync(deadline.Token);

        Assert.Equal(7, exitCode);
        Assert.Contains("got SIGTERM", runner.StandardOutputLines);
    }

    [Fact]
    public async Task SendSigkill_ToAGuardedCommand_KillsItWithoutRunningItsHandlers()
    {
        using var deadline = TestDeadline.Create();
        await using var runner = StartGuardedNode("process.on('exit', () => console.log('exit handler')); console.log('pid ' + process.pid)");
        var line = await runner.WaitForOutputAsync(l => l.StartsWith("pid ", StringComparison.Ordinal), deadline.Token);
        var commandPid = int.Parse(line["pid ".Length..], System.Globalization.CultureInfo.InvariantCulture);

        Assert.True(ProcessRunner.SendSigkill(commandPid));
        var exitCode = await runner.WaitForExitAsync(deadline.Token);

        Assert.Equal(137, exitCode);
        Assert.False(ProcessRunner.IsAlive(commandPid));
        Assert.DoesNotContain("got SIGTERM", runner.StandardOutputLines);
        Assert.DoesNotContain("exit handler", runner.StandardOutputLines);
    }

    // A node script, guarded, that prints "got SIGTERM" and exits with 7 on SIGTERM and otherwise runs until killed.
    private static ProcessRunner StartGuardedNode(string script) => ProcessRunner.Start(
        NodeTools.NodePath,
        ["-e", "process.on('SIGTERM', () => { console.log('got SIGTERM'); process.exit(7); }); " + script + "; setInterval(() => {}, 1000)"],
        new ProcessRunnerOptions { GuardLifetime = true });
}
