using System.Text.Json;

namespace Flow.Storage.Azure.Tests;

/// <summary>Runs compat/azure-sdk-peer.mjs (the official Azure JS SDKs) as a real subprocess and parses its JSON answer.</summary>
internal static class AzureSdkPeer
{
    public static async Task<JsonElement> RunAsync(string command, string connectionString, string name, IEnumerable<string> args, CancellationToken cancellationToken)
    {
        var script = Path.Combine(RepoPaths.Root, "tests", "Flow.Storage.Azure.Tests", "compat", "azure-sdk-peer.mjs");
        var result = await ProcessRunner.RunAsync(NodeTools.NodePath, [script, command, connectionString, name, .. args],
            new ProcessRunnerOptions { WorkingDirectory = RepoPaths.Root }, cancellationToken);
        if (result.ExitCode != 0)
        {
            throw new InvalidOperationException($"azure-sdk-peer {command} exited with {result.ExitCode}:\n{result.Output}");
        }

        var json = result.StandardOutput.LastOrDefault(l => l.StartsWith('{'))
            ?? throw new InvalidOperationException($"azure-sdk-peer {command} printed no JSON:\n{result.Output}");
        return JsonDocument.Parse(json).RootElement.Clone();
    }
}
