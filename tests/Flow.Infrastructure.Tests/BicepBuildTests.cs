namespace Flow.Infrastructure.Tests;

/// <summary>The Bicep CLI (restored from NuGet) builds and lints infra/bicep with no error and no warning.</summary>
public sealed class BicepBuildTests(BicepCompilation compilation) : IClassFixture<BicepCompilation>
{
    [Fact]
    public void Build_MainBicep_CompilesWithNoErrorOrWarning()
    {
        Assert.True(compilation.Build.ExitCode == 0, compilation.Build.ToString());
        Assert.True(string.IsNullOrWhiteSpace(compilation.Build.Stderr) && string.IsNullOrWhiteSpace(compilation.Build.Stdout), "bicep build printed diagnostics:\n" + compilation.Build);
        Assert.Equal("subscriptionDeploymentTemplate.json", new Uri((string)compilation.Arm["$schema"]!).Segments[^1].TrimEnd('#'));
    }

    [Fact]
    public async Task Lint_MainBicep_ReportsNothing()
    {
        var lint = await ProcessRunner.RunAsync(RepoPaths.BicepCli, ["lint", RepoPaths.MainBicep], RepoPaths.Root, TimeSpan.FromMinutes(5), TestContext.Current.CancellationToken);
        Assert.True(lint.ExitCode == 0, lint.ToString());
        Assert.True(string.IsNullOrWhiteSpace(lint.Stdout) && string.IsNullOrWhiteSpace(lint.Stderr), "bicep lint reported:\n" + lint);
    }
}
