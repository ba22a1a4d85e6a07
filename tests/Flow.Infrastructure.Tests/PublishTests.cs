using System.Text.Json.Nodes;

namespace Flow.Infrastructure.Tests;

/// <summary>The publish output is a complete custom-handler app root for Flex Consumption (linux-x64, self-contained).</summary>
public sealed class PublishTests(PublishedApp app) : IClassFixture<PublishedApp>
{
    private void AssertPublished() => Assert.True(app.Result.ExitCode == 0, "dotnet publish failed:\n" + app.Result);

    [Fact]
    public void Publish_HostJsonAtRoot_NamesTheApphost_WhichIsALinuxExecutableWithItsRunBit()
    {
        AssertPublished();
        var host = JsonNode.Parse(File.ReadAllText(Path.Combine(app.Root, "host.json")))!;
        var executable = (string)host["customHandler"]!["description"]!["defaultExecutablePath"]!;
        var path = Path.Combine(app.Root, executable);
        Assert.True(File.Exists(path), $"host.json names {executable}, which is not in the publish output");
        Assert.False(OperatingSystem.IsWindows(), "the publish test runs on Linux or macOS, where the run bit exists");
        if (!OperatingSystem.IsWindows())
        {
            Assert.True(File.GetUnixFileMode(path).HasFlag(UnixFileMode.UserExecute), $"{executable} has no run bit");
        }

        var magic = new byte[4];
        using (var stream = File.OpenRead(path))
        {
            stream.ReadExactly(magic);
        }

        Assert.Equal("\u007fELF"u8.ToArray(), magic);
        Assert.Contains("--urls", host["customHandler"]!["description"]!["arguments"]!.AsArray().Select(a => (string?)a));
    }

    [Fact]
    public void Publish_IsSelfContained_SoTheInstanceNeedsNoDotnet()
    {
        AssertPublished();
        Assert.True(File.Exists(Path.Combine(app.Root, "libcoreclr.so")), "the .NET runtime is not in the publish output");
        var runtimeConfig = JsonNode.Parse(File.ReadAllText(Path.Combine(app.Root, "Flow.Functions.runtimeconfig.json")))!;
        Assert.NotNull(runtimeConfig["runtimeOptions"]!["includedFrameworks"]);
    }

    [Fact]
    public void Publish_EveryFunctionFolder_HasAValidFunctionJson()
    {
        AssertPublished();
        var folders = Directory.GetDirectories(app.Root).Where(d => File.Exists(Path.Combine(d, "function.json"))).Select(Path.GetFileName).ToList();
        Assert.Superset(new HashSet<string?> { "api", "health", "process-api", "webhooks", "run-requests", "scheduler-tick", "runs-default", "tasks-default" }, folders.ToHashSet());
        foreach (var folder in folders)
        {
            var bindings = JsonNode.Parse(File.ReadAllText(Path.Combine(app.Root, folder!, "function.json")))!["bindings"]!.AsArray();
            var trigger = Assert.Single(bindings, b => ((string)b!["type"]!).EndsWith("Trigger", StringComparison.Ordinal))!;
            Assert.Equal("in", (string?)trigger["direction"]);
            if ((string)trigger["type"]! == "queueTrigger")
            {
                // The queue is the pool's queue under the default prefix, read with the identity-based AzureWebJobsStorage settings.
                Assert.Equal(folder == "run-requests" ? "flow-run-requests" : "flow-" + folder, (string?)trigger["queueName"]);
                Assert.Equal("AzureWebJobsStorage", (string?)trigger["connection"]);
            }
        }
    }

    [Fact]
    public void Publish_GeneratesRunFoldersForThePoolsOfTheDeploymentsFiles()
    {
        AssertPublished();

        // samples/process/deployments.yaml runs its deployments on the process pool 'local-procs': a run queue, no task queue.
        Assert.True(File.Exists(Path.Combine(app.Root, "runs-local-procs", "function.json")));
        Assert.False(Directory.Exists(Path.Combine(app.Root, "tasks-local-procs")));

        // The deployments file the Bicep template's app setting names ships in the app root.
        Assert.True(File.Exists(Path.Combine(app.Root, "samples", "flow.yaml")));
    }
}
