using System.Text.Json.Nodes;
using Flow.FunctionFolders;

namespace Flow.Infrastructure.Tests;

/// <summary>The build tool writes a function folder for every pool a deployments file names.</summary>
public sealed class FunctionFolderWriterTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("flow-folders-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private (int Code, string Stdout, string Stderr) Run(params string[] args)
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        var code = FunctionFolderWriter.Run(args, stdout, stderr);
        return (code, stdout.ToString(), stderr.ToString());
    }

    [Fact]
    public void Run_DeclaredAndUsedPools_GetRunAndTaskFolders_ProcessPoolsOnlyARunFolder()
    {
        var file = Path.Combine(_dir, "flow.yaml");
        File.WriteAllText(file, """
            workPools:
              - name: reports
              - name: scripts
                type: process
            deployments:
              - flow: etl
                name: nightly
                pool: etl-pool
              - flow: etl
                name: daily
            """);
        var output = Path.Combine(_dir, "out");

        var (code, _, stderr) = Run("--out", output, "--deployments", file, "--queue-prefix", "team-");

        Assert.True(code == 0, stderr);
        Assert.Equal(["runs-etl-pool", "runs-reports", "runs-scripts", "tasks-etl-pool", "tasks-reports"], Directory.GetDirectories(output).Select(Path.GetFileName).Order());
        var binding = JsonNode.Parse(File.ReadAllText(Path.Combine(output, "runs-reports", "function.json")))!["bindings"]![0]!;
        Assert.Equal("queueTrigger", (string?)binding["type"]);
        Assert.Equal("team-runs-reports", (string?)binding["queueName"]);
        Assert.Equal("AzureWebJobsStorage", (string?)binding["connection"]);
    }

    [Fact]
    public void Run_InvalidPoolName_FailsNamingTheFile()
    {
        var file = Path.Combine(_dir, "bad.yaml");
        File.WriteAllText(file, "deployments:\n  - flow: a\n    name: b\n    pool: Not_Valid\n");

        var (code, _, stderr) = Run("--out", Path.Combine(_dir, "out"), "--deployments", file);

        Assert.Equal(3, code);
        Assert.Contains("bad.yaml", stderr, StringComparison.Ordinal);
        Assert.Contains("Not_Valid", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void Run_WithoutDeploymentsFile_PrintsUsage() =>
        Assert.Equal(2, Run("--out", Path.Combine(_dir, "out")).Code);
}
