using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;

namespace Flow.LocalServices;

/// <summary>How <see cref="ProcessRunner"/> starts a process.</summary>
public sealed record ProcessRunnerOptions
{
    /// <summary>Working directory; the current directory when null.</summary>
    public string? WorkingDirectory { get; init; }

    /// <summary>Environment changes: a null value removes the variable.</summary>
    public IReadOnlyDictionary<string, string?>? Environment { get; init; }

    /// <summary>
    /// Run the command under the Node child guard (tests/Flow.TestSupport/node/child-guard.mjs): it runs in its own
    /// process group, which is killed when this test process dies (the guard's stdin pipe closes), and
    /// <see cref="ProcessRunner.Terminate"/> reaches the whole group. Needs <c>node</c>. Default false.
    /// </summary>
    public bool GuardLifetime { get; init; }

    /// <summary>Called for each output line (stderr lines are prefixed with "err: "), e.g. to forward to the test output.</summary>
    public Action<string>? OnOutputLine { get; init; }

    /// <summary>Lines kept per stream; older lines are dropped. Default 5,000.</summary>
    public int MaxCapturedLines { get; init; } = 5_000;
}

/// <summary>The outcome of <see cref="ProcessRunner.RunAsync"/>.</summary>
/// <param name="ExitCode">The process exit code.</param>
/// <param name="StandardOutput">Captured stdout lines.</param>
/// <param name="StandardError">Captured stderr lines.</param>
public sealed record ProcessResult(int ExitCode, IReadOnlyList<string> StandardOutput, IReadOnlyList<string> StandardError)
{
    /// <summary>stdout then stderr, as text.</summary>
    public string Output => string.Join('\n', StandardOutput.Concat(StandardError));
}

/// <summary>
/// A subprocess for tests: started from an argv (never through a shell), stdout/stderr captured line by line,
/// awaited under a deadline, and killed with its whole tree on dispose.
/// </summary>
public sealed class ProcessRunner : IAsyncDisposable
{
    private const int SigKill = 9;
    private const int SigTerm = 15;
    private static readonly TimeSpan GuardGrace = TimeSpan.FromSeconds(5);

    private readonly Process _process;
    private readonly ProcessRunnerOptions _options;
    private readonly Queue<string> _stdout = new();
    private readonly Queue<string> _stderr = new();
    private readonly List<(Func<string, bool> Match, TaskCompletionSource<string> Found)> _lineWaiters = [];
    private readonly TaskCompletionSource<int> _exited = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _stdoutClosed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _stderrClosed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Lock _gate = new();
    private int _disposed;

    private ProcessRunner(Process process, ProcessRunnerOptions options, string commandLine)
    {
        _process = process;
        _options = options;
        CommandLine = commandLine;
    }

    /// <summary>The command as started, for messages (arguments joined by spaces, not shell-quoted).</summary>
    public string CommandLine { get; }

    /// <summary>The process id (the guard's id when <see cref="ProcessRunnerOptions.GuardLifetime"/> is set).</summary>
    public int Id => _process.Id;

    /// <summary>Whether the process has exited.</summary>
    public bool HasExited => _exited.Task.IsCompleted;

    /// <summary>The exit code, once exited.</summary>
    public int? ExitCode => _exited.Task.IsCompletedSuccessfully ? _exited.Task.Result : null;

    /// <summary>A snapshot of the captured stdout lines.</summary>
    public IReadOnlyList<string> StandardOutputLines
    {
        get
        {
            lock (_gate)
            {
                return [.. _stdout];
            }
        }
    }

    /// <summary>A snapshot of the captured stderr lines.</summary>
    public IReadOnlyList<string> StandardErrorLines
    {
        get
        {
            lock (_gate)
            {
                return [.. _stderr];
            }
        }
    }

    /// <summary>Captured stdout then stderr as text, for assertion messages.</summary>
    public string Output => string.Join('\n', StandardOutputLines.Concat(StandardErrorLines.Select(l => "err: " + l)));

    /// <summary>Starts <paramref name="fileName"/> with <paramref name="arguments"/> as argv.</summary>
    /// <exception cref="InvalidOperationException">The process could not be started.</exception>
    public static ProcessRunner Start(string fileName, IEnumerable<string> arguments, ProcessRunnerOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(fileName);
        ArgumentNullException.ThrowIfNull(arguments);
        options ??= new ProcessRunnerOptions();
        var argv = arguments.ToList();
        var commandLine = string.Join(' ', argv.Prepend(fileName));

        var info = new ProcessStartInfo
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
            WorkingDirectory = options.WorkingDirectory ?? Environment.CurrentDirectory,
        };
        if (options.GuardLifetime)
        {
            info.FileName = NodeTools.NodePath;
            info.ArgumentList.Add(NodeTools.ChildGuardScript);
            info.ArgumentList.Add(fileName);
        }
        else
        {
            info.FileName = fileName;
        }

        foreach (var argument in argv)
        {
            info.ArgumentList.Add(argument);
        }

        foreach (var (name, value) in options.Environment ?? new Dictionary<string, string?>())
        {
            if (value is null)
            {
                info.Environment.Remove(name);
            }
            else
            {
                info.Environment[name] = value;
            }
        }

        var process = new Process { StartInfo = info, EnableRaisingEvents = true };
        var runner = new ProcessRunner(process, options, commandLine);
        process.OutputDataReceived += (_, e) => runner.OnLine(e.Data, isError: false);
        process.ErrorDataReceived += (_, e) => runner.OnLine(e.Data, isError: true);
        process.Exited += (_, _) => runner.OnExited();
        try
        {
            if (!process.Start())
            {
                throw new InvalidOperationException($"Could not start '{commandLine}'.");
            }
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            process.Dispose();
            throw new InvalidOperationException($"Could not start '{info.FileName}' ({commandLine}): {e.Message}", e);
        }

        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        if (process.HasExited)
        {
            runner.OnExited();
        }

        return runner;
    }

    /// <summary>Whether process <paramref name="pid"/> exists and is not a zombie (Linux: reads /proc/&lt;pid&gt;/stat).</summary>
    public static bool IsAlive(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var state = stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[0];
            return state is not ("Z" or "X");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    /// <summary>Runs a command to completion under <paramref name="cancellationToken"/> and returns its exit code and output.</summary>
    /// <exception cref="OperationCanceledException">Cancelled first; the process tree is killed.</exception>
    public static async Task<ProcessResult> RunAsync(
        string fileName, IEnumerable<string> arguments, ProcessRunnerOptions? options, CancellationToken cancellationToken)
    {
        await using var runner = Start(fileName, arguments, options);
        runner.CloseStandardInput();
        var exitCode = await runner.WaitForExitAsync(cancellationToken);
        return new ProcessResult(exitCode, runner.StandardOutputLines, runner.StandardErrorLines);
    }

    /// <summary>Waits for the process to exit (and its output to be read) and returns the exit code.</summary>
    public async Task<int> WaitForExitAsync(CancellationToken cancellationToken)
    {
        var exitCode = await _exited.Task.WaitAsync(cancellationToken);

        // Output ends when every holder of the pipes is gone; a daemonized grandchild may keep them open, so bound it.
        await Task.WhenAny(Task.WhenAll(_stdoutClosed.Task, _stderrClosed.Task), Task.Delay(TimeSpan.FromSeconds(2), cancellationToken));
        return exitCode;
    }

    /// <summary>Waits for an output line (stdout or stderr) matching <paramref name="match"/>, including lines already seen.</summary>
    /// <exception cref="InvalidOperationException">The process exited without printing such a line.</exception>
    public async Task<string> WaitForOutputAsync(Func<string, bool> match, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(match);
        var found = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_gate)
        {
            var seen = _stdout.Concat(_stderr).FirstOrDefault(match);
            if (seen is not null)
            {
                return seen;
            }

            _lineWaiters.Add((match, found));
        }

        var finished = await Task.WhenAny(found.Task, _exited.Task).WaitAsync(cancellationToken);
        if (finished == found.Task)
        {
            return await found.Task;
        }

        await WaitForExitAsync(cancellationToken);
        return found.Task.IsCompleted
            ? await found.Task
            : throw new InvalidOperationException($"'{CommandLine}' exited with {ExitCode} before printing the expected line. Output:\n{Output}");
    }

    /// <summary>Writes a line to the process's stdin and flushes it, for processes that take commands there.</summary>
    /// <param name="line">The line, without its newline.</param>
    /// <exception cref="InvalidOperationException">The process runs under the guard, which owns its stdin.</exception>
    public async Task WriteLineAsync(string line)
    {
        if (_options.GuardLifetime)
        {
            throw new InvalidOperationException("A guarded process's stdin belongs to the guard; start it without GuardLifetime to send it commands.");
        }

        await _process.StandardInput.WriteLineAsync(line);
        await _process.StandardInput.FlushAsync();
    }

    /// <summary>Closes the process's stdin (a guarded process then stops its command).</summary>
    public void CloseStandardInput()
    {
        try
        {
            _process.StandardInput.Close();
        }
        catch (IOException)
        {
            // The process is gone already.
        }
    }

    /// <summary>Sends SIGTERM to the process (a guarded process forwards it to its command's whole process group).</summary>
    public void Terminate()
    {
        if (!HasExited)
        {
            SendSigterm(_process.Id);
        }
    }

    /// <summary>Sends SIGTERM to any process (e.g. a grandchild whose pid a script printed). A gone process is not an error.</summary>
    /// <returns>False if the process did not exist.</returns>
    /// <exception cref="InvalidOperationException">kill(2) failed for another reason.</exception>
    public static bool SendSigterm(int pid) => SendSignal(pid, SigTerm, "SIGTERM");

    /// <summary>
    /// Sends SIGKILL to any process: it dies at once, running no handler, finally block or shutdown code (a crash as
    /// the OS sees it). For a guarded command, pass the pid the command reports itself: the guard then sees its command
    /// die of SIGKILL and exits with 137. A gone process is not an error.
    /// </summary>
    /// <returns>False if the process did not exist.</returns>
    /// <exception cref="InvalidOperationException">kill(2) failed for another reason.</exception>
    public static bool SendSigkill(int pid) => SendSignal(pid, SigKill, "SIGKILL");

    /// <summary>Stops the process: a guarded one gets its stdin closed and a grace period; then the whole tree is killed.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        try
        {
            if (!HasExited && _options.GuardLifetime)
            {
                CloseStandardInput();
                await Task.WhenAny(_exited.Task, Task.Delay(GuardGrace));
            }

            if (!HasExited)
            {
                try
                {
                    _process.Kill(entireProcessTree: true);
                }
                catch (InvalidOperationException)
                {
                    // Exited in the meantime.
                }

                await Task.WhenAny(_exited.Task, Task.Delay(TimeSpan.FromSeconds(10)));
            }
        }
        finally
        {
            _process.Dispose();
        }
    }

    private static bool SendSignal(int pid, int signal, string name)
    {
        if (NativeMethods.Kill(pid, signal) == 0)
        {
            return true;
        }

        var errno = Marshal.GetLastPInvokeError();
        return errno == 3 /* ESRCH */ ? false : throw new InvalidOperationException($"kill({pid}, {name}) failed with errno {errno}.");
    }

    private void OnExited()
    {
        try
        {
            _exited.TrySetResult(_process.ExitCode);
        }
        catch (InvalidOperationException)
        {
            // Exit code not yet available; the Exited event will come.
        }
    }

    private void OnLine(string? line, bool isError)
    {
        if (line is null)
        {
            (isError ? _stderrClosed : _stdoutClosed).TrySetResult();
            return;
        }

        List<TaskCompletionSource<string>>? matched = null;
        lock (_gate)
        {
            var queue = isError ? _stderr : _stdout;
            queue.Enqueue(line);
            while (queue.Count > _options.MaxCapturedLines)
            {
                queue.Dequeue();
            }

            for (var i = _lineWaiters.Count - 1; i >= 0; i--)
            {
                if (_lineWaiters[i].Match(line))
                {
                    (matched ??= []).Add(_lineWaiters[i].Found);
                    _lineWaiters.RemoveAt(i);
                }
            }
        }

        matched?.ForEach(found => found.TrySetResult(line));
        try
        {
            _options.OnOutputLine?.Invoke(isError ? "err: " + line : line);
        }
        catch (InvalidOperationException)
        {
            // Typically ITestOutputHelper after its test finished: output is still captured above.
        }
    }
}

internal static partial class NativeMethods
{
    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    internal static partial int Kill(int pid, int signal);
}
