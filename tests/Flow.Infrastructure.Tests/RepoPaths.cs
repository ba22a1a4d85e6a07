using System.Reflection;

namespace Flow.Infrastructure.Tests;

/// <summary>Where the repository and the Bicep CLI restored by this project's PackageDownload are.</summary>
internal static class RepoPaths
{
    public static string Root { get; } = Path.GetFullPath(Metadata("RepoRoot"));

    public static string BicepCli { get; } = Path.GetFullPath(Metadata("BicepCli"));

    public static string MainBicep => Path.Combine(Root, "infra", "bicep", "main.bicep");

    private static string Metadata(string key) =>
        typeof(RepoPaths).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().FirstOrDefault(a => a.Key == key)?.Value
        ?? throw new InvalidOperationException($"The test assembly has no '{key}' metadata; build it with the project file.");
}
