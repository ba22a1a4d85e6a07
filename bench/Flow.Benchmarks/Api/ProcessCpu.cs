using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;

namespace Flow.Benchmarks.Api;

/// <summary>
/// CPU time used by a set of processes over a phase (Linux: utime + stime from /proc/PID/stat), so a phase's report
/// says which process was busy: the app, or the single-threaded Azurite it waits for.
/// </summary>
internal sealed class ProcessCpu
{
    private const double TicksPerSecond = 100; // USER_HZ on Linux
    private readonly IReadOnlyDictionary<string, int> _processes;
    private readonly Dictionary<string, double> _start;
    private readonly Stopwatch _clock = Stopwatch.StartNew();

    private ProcessCpu(IReadOnlyDictionary<string, int> processes)
    {
        _processes = processes;
        _start = processes.ToDictionary(p => p.Key, p => Seconds(p.Value) ?? 0, StringComparer.Ordinal);
    }

    /// <summary>Starts counting for the named processes.</summary>
    public static ProcessCpu Start(IReadOnlyDictionary<string, int> processes) => new(processes);

    /// <summary>Per process: CPU seconds since <see cref="Start"/> and the share of one core they make of the wall time.</summary>
    public JsonObject ToJson()
    {
        var wall = _clock.Elapsed.TotalSeconds;
        var json = new JsonObject { ["wallSeconds"] = Math.Round(wall, 1) };
        foreach (var (name, pid) in _processes)
        {
            var used = (Seconds(pid) ?? double.NaN) - _start[name];
            json[name] = double.IsNaN(used) ? null : new JsonObject
            {
                ["cpuSeconds"] = Math.Round(used, 2),
                ["coresBusy"] = Math.Round(used / Math.Max(0.001, wall), 2),
            };
        }

        return json;
    }

    /// <summary>The pid of the Azurite (node) process listening on <paramref name="tablePort"/>, found by its command line; null if none.</summary>
    public static int? FindAzurite(int tablePort)
    {
        var port = tablePort.ToString(CultureInfo.InvariantCulture);
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var pid))
            {
                continue;
            }

            try
            {
                var argv = File.ReadAllText(Path.Combine(dir, "cmdline")).Split('\0');
                var at = Array.IndexOf(argv, "--tablePort");
                if (at >= 0 && at + 1 < argv.Length && argv[at + 1] == port && !argv.Any(a => a.EndsWith("child-guard.mjs", StringComparison.Ordinal)))
                {
                    return pid;
                }
            }
            catch (IOException)
            {
                // The process ended meanwhile.
            }
            catch (UnauthorizedAccessException)
            {
                // Someone else's process.
            }
        }

        return null;
    }

    private static double? Seconds(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            // After "pid (comm) ": state is field 3, utime field 14, stime field 15 (1-based in proc(5)).
            return (long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture)) / TicksPerSecond;
        }
        catch (IOException)
        {
            return null;
        }
    }
}
