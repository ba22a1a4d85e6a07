using System.Collections.Concurrent;
using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;

namespace Flow.Process;

/// <summary>
/// Starts subprocesses and ends whole process trees. On Linux each command starts through <c>setsid</c> (its own session and
/// process group, so one signal reaches everything it started) and <c>setpriv --pdeathsig KILL</c> (it dies with the worker,
/// even when the worker is killed with SIGKILL); both exec, so the child's pid is the command's. Children are forked from one
/// dedicated thread that lives as long as the worker (the parent-death signal follows the forking thread, not the process).
/// The argv is passed as a list: no shell ever interprets it, and the child's environment is exactly the one given
/// (<see cref="SubprocessEnvironment"/>), never the worker's.
/// </summary>
internal static partial class ProcessTree
{
    private const int SigTerm = 15;
    private const int SigKill = 9;
    private static readonly BlockingCollection<(ProcessStartInfo Info, TaskCompletionSource<System.Diagnostics.Process> Done)> Requests = [];
    private static readonly Lazy<(string? Setsid, string? Setpriv)> Wrappers = new(() => (FindOnPath("setsid", null), FindOnPath("setpriv", null)));
    private static int _spawnerStarted;

    /// <summary>Resolves an executable the way execvp does: a name with a slash as a path (relative to <paramref name="workingDirectory"/>), else the first executable file of that name on PATH.</summary>
    /// <param name="name">argv[0].</param>
    /// <param name="workingDirectory">The child's working directory.</param>
    /// <param name="path">The PATH the child gets (null: the worker's).</param>
    /// <returns>The full path, or null when there is none.</returns>
    public static string? Resolve(string name, string? workingDirectory, string? path)
    {
        if (name.Contains('/', StringComparison.Ordinal))
        {
            var full = Path.GetFullPath(name, workingDirectory ?? Environment.CurrentDirectory);
            return IsExecutable(full) ? full : null;
        }

        return FindOnPath(name, path);
    }

    /// <summary>The canonical form of a path: absolute, with every symbolic link resolved (realpath(3)); the full path where that is not available.</summary>
    /// <param name="path">An existing file.</param>
    /// <returns>The canonical path.</returns>
    public static string Canonical(string path)
    {
        var full = Path.GetFullPath(path);
        if (OperatingSystem.IsWindows())
        {
            return full;
        }

        var resolved = SysRealpath(full, 0);
        if (resolved == 0)
        {
            return full;
        }

        try
        {
            return Marshal.PtrToStringUTF8(resolved) ?? full;
        }
        finally
        {
            SysFree(resolved);
        }
    }

    private static string? FindOnPath(string name, string? path)
    {
        foreach (var dir in (path ?? Environment.GetEnvironmentVariable("PATH") ?? "/usr/bin:/bin").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.Combine(dir, name);
            if (IsExecutable(candidate))
            {
                return candidate;
            }
        }

        return null;
    }

    private static bool IsExecutable(string file)
    {
        if (!File.Exists(file))
        {
            return false;
        }

        return OperatingSystem.IsWindows() || (File.GetUnixFileMode(file) & (UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute)) != 0;
    }

    /// <summary>Starts a command in its own process group, tied to this process's life where the platform allows.</summary>
    /// <param name="executable">The resolved executable.</param>
    /// <param name="arguments">argv[1..].</param>
    /// <param name="workingDirectory">The working directory, or null.</param>
    /// <param name="environment">The child's whole environment: nothing of the worker's own environment is added to it.</param>
    /// <param name="cancellationToken">Cancels waiting for the spawner.</param>
    /// <returns>The started process, with stdout and stderr redirected.</returns>
    /// <exception cref="Win32Exception">The process could not be started.</exception>
    public static Task<System.Diagnostics.Process> StartAsync(string executable, IEnumerable<string> arguments, string? workingDirectory, IReadOnlyDictionary<string, string> environment, CancellationToken cancellationToken)
    {
        var info = new ProcessStartInfo
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            WorkingDirectory = workingDirectory ?? string.Empty,
        };
        var (setsid, setpriv) = Wrappers.Value;
        if (OperatingSystem.IsLinux() && setsid is not null && setpriv is not null)
        {
            info.FileName = setsid;
            info.ArgumentList.Add(setpriv);
            info.ArgumentList.Add("--pdeathsig");
            info.ArgumentList.Add("KILL");
            info.ArgumentList.Add("--");
            info.ArgumentList.Add(executable);
        }
        else
        {
            info.FileName = executable;
        }

        foreach (var a in arguments)
        {
            info.ArgumentList.Add(a);
        }

        info.Environment.Clear();
        foreach (var (k, v) in environment)
        {
            info.Environment[k] = v;
        }

        EnsureSpawner();
        var done = new TaskCompletionSource<System.Diagnostics.Process>(TaskCreationOptions.RunContinuationsAsynchronously);
        Requests.Add((info, done), cancellationToken);
        return done.Task.WaitAsync(cancellationToken);
    }

    private static void EnsureSpawner()
    {
        if (Interlocked.Exchange(ref _spawnerStarted, 1) == 1)
        {
            return;
        }

        var thread = new Thread(() =>
        {
            foreach (var (info, done) in Requests.GetConsumingEnumerable())
            {
                try
                {
                    var process = System.Diagnostics.Process.Start(info) ?? throw new Win32Exception("The process did not start.");
                    process.StandardInput.Close();
                    done.TrySetResult(process);
                }
                catch (Exception e)
                {
                    done.TrySetException(e);
                }
            }
        })
        {
            IsBackground = true,
            Name = "flow-process-spawner",
        };
        thread.Start();
    }

    /// <summary>The pids of a process's descendants (not itself), found through /proc, each with its start time.</summary>
    /// <param name="root">The root pid.</param>
    /// <returns>(pid, start time in clock ticks) pairs; empty where /proc is not available.</returns>
    public static List<(int Pid, long Start)> Descendants(int root)
    {
        var all = ReadProcTable();
        var children = all.ToLookup(p => p.Ppid);
        var result = new List<(int, long)>();
        var stack = new Stack<int>();
        stack.Push(root);
        var seen = new HashSet<int> { root };
        while (stack.Count > 0)
        {
            foreach (var child in children[stack.Pop()])
            {
                if (seen.Add(child.Pid))
                {
                    result.Add((child.Pid, child.Start));
                    stack.Push(child.Pid);
                }
            }
        }

        return result;
    }

    /// <summary>Whether a process with this pid and start time still exists (and is not a zombie).</summary>
    /// <param name="pid">The pid.</param>
    /// <param name="start">Its start time from <see cref="Descendants"/>, or 0 for any.</param>
    /// <returns>True when alive.</returns>
    public static bool IsAlive(int pid, long start = 0)
    {
        var stat = ReadStat(pid);
        return stat is { } s && s.State != 'Z' && (start == 0 || s.Start == start);
    }

    /// <summary>Sends SIGTERM (or SIGKILL) to a process group and to every listed process that still is who it was.</summary>
    /// <param name="groupId">The process group (the leader's pid).</param>
    /// <param name="members">Other processes of the tree (they may have left the group).</param>
    /// <param name="kill">SIGKILL instead of SIGTERM.</param>
    public static void Signal(int groupId, IEnumerable<(int Pid, long Start)> members, bool kill)
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        var signal = kill ? SigKill : SigTerm;
        _ = SysKill(-groupId, signal);
        foreach (var (pid, start) in members)
        {
            if (IsAlive(pid, start))
            {
                _ = SysKill(pid, signal);
            }
        }
    }

    private static List<(int Pid, int Ppid, long Start)> ReadProcTable()
    {
        var list = new List<(int, int, long)>();
        if (!Directory.Exists("/proc"))
        {
            return list;
        }

        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (int.TryParse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out var pid) && ReadStat(pid) is { } s)
            {
                list.Add((pid, s.Ppid, s.Start));
            }
        }

        return list;
    }

    private static (char State, int Ppid, long Start)? ReadStat(int pid)
    {
        string text;
        try
        {
            text = File.ReadAllText($"/proc/{pid}/stat");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }

        // pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime cutime cstime priority nice threads itrealvalue starttime
        var close = text.LastIndexOf(')');
        if (close < 0)
        {
            return null;
        }

        var fields = text[(close + 2)..].Split(' ');
        if (fields.Length < 20 || !int.TryParse(fields[1], NumberStyles.Integer, CultureInfo.InvariantCulture, out var ppid) || !long.TryParse(fields[19], NumberStyles.Integer, CultureInfo.InvariantCulture, out var start))
        {
            return null;
        }

        return (fields[0][0], ppid, start);
    }

    [LibraryImport("libc", EntryPoint = "realpath", StringMarshalling = StringMarshalling.Utf8)]
    private static partial nint SysRealpath(string path, nint resolved);

    [LibraryImport("libc", EntryPoint = "free")]
    private static partial void SysFree(nint pointer);

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int SysKill(int pid, int signal);
}
