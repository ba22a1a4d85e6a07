using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Flow.ControlPlane;

namespace Flow.FunctionFolders;

/// <summary>
/// Writes one queue-triggered function folder per pool queue the Functions host must listen on: <c>runs-POOL</c> for
/// every pool a deployments file names (declared under <c>workPools</c> or used by a deployment), and <c>tasks-POOL</c>
/// for pools that run in-app flows (process pools have no task queue). The default pool's folders are committed in
/// <c>functions/FunctionApp</c> and are not written here.
/// </summary>
internal static class FunctionFolderWriter
{
    private const string Usage = "usage: Flow.FunctionFolders --out DIR [--queue-prefix flow-] --deployments FILE [--deployments FILE ...]";

    /// <summary>Runs the tool.</summary>
    /// <param name="args">The command line.</param>
    /// <param name="stdout">Where the written folders are listed.</param>
    /// <param name="stderr">Where errors go.</param>
    /// <returns>0 on success, 2 for a bad command line, 3 for an unreadable or invalid deployments file.</returns>
    public static int Run(string[] args, TextWriter stdout, TextWriter stderr)
    {
        string? output = null;
        var prefix = "flow-";
        var files = new List<string>();
        for (var i = 0; i < args.Length; i++)
        {
            var value = i + 1 < args.Length ? args[i + 1] : null;
            switch (args[i])
            {
                case "--out" when value is not null: output = value; i++; break;
                case "--queue-prefix" when value is not null: prefix = value; i++; break;
                case "--deployments" when value is not null: files.Add(value); i++; break;
                default:
                    stderr.WriteLine($"Unknown or incomplete argument '{args[i]}'. {Usage}");
                    return 2;
            }
        }

        if (output is null || files.Count == 0)
        {
            stderr.WriteLine(Usage);
            return 2;
        }

        var pools = new SortedDictionary<string, bool>(StringComparer.Ordinal);
        foreach (var file in files)
        {
            try
            {
                var text = File.ReadAllText(file);
                var content = DeploymentFile.Parse(text, yaml: !file.EndsWith(".json", StringComparison.OrdinalIgnoreCase));
                Collect(content, pools);
            }
            catch (Exception e) when (e is InvalidRequestException or IOException or UnauthorizedAccessException)
            {
                stderr.WriteLine($"{file}: {e.Message}");
                return 3;
            }
        }

        if (Directory.Exists(output))
        {
            Directory.Delete(output, recursive: true);
        }

        Directory.CreateDirectory(output);
        foreach (var (pool, isProcess) in pools)
        {
            if (pool == ControlNames.DefaultPool)
            {
                continue;
            }

            Write(output, "runs-" + pool, prefix + "runs-" + pool, stdout);
            if (!isProcess)
            {
                Write(output, "tasks-" + pool, prefix + "tasks-" + pool, stdout);
            }
        }

        return 0;
    }

    /// <summary>Adds the pools a file names; a pool is a process pool when declared so or when a deployment on it runs a process.</summary>
    private static void Collect(DeploymentFileContent content, SortedDictionary<string, bool> pools)
    {
        foreach (var pool in content.WorkPools ?? [])
        {
            if (pool.Name is { } name)
            {
                Add(pools, name, string.Equals(pool.Type, WorkPoolRecord.ProcessType, StringComparison.Ordinal));
            }
        }

        foreach (var deployment in content.Deployments ?? [])
        {
            Add(pools, deployment.Pool ?? ControlNames.DefaultPool, string.Equals(deployment.Entrypoint?.Kind, "process", StringComparison.Ordinal));
        }
    }

    private static void Add(SortedDictionary<string, bool> pools, string name, bool isProcess)
    {
        if (!ControlNames.IsValidPoolName(name))
        {
            throw new InvalidRequestException("pool", string.Create(CultureInfo.InvariantCulture, $"'{name}' is not a valid pool name (1-40 lowercase letters, digits and '-')"));
        }

        pools[name] = pools.TryGetValue(name, out var known) ? known || isProcess : isProcess;
    }

    private static void Write(string output, string function, string queue, TextWriter stdout)
    {
        var binding = new JsonObject
        {
            ["type"] = "queueTrigger",
            ["direction"] = "in",
            ["name"] = "message",
            ["queueName"] = queue,
            ["connection"] = "AzureWebJobsStorage",
        };
        var json = new JsonObject { ["bindings"] = new JsonArray(binding) };
        var folder = Path.Combine(output, function);
        Directory.CreateDirectory(folder);
        File.WriteAllText(Path.Combine(folder, "function.json"), json.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
        stdout.WriteLine($"{function} -> queue {queue}");
    }
}
