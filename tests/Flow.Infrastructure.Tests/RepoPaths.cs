using System.Reflection;

namespace Flow.Infrastructure.Tests;

/// <summary>Where the repository and the Bicep CLI restored by this project's PackageDownload are.</summary>
internal static class RepoPaths
{
    public static string Root { get; } = Path.GetFullPath(Metadata("RepoRoot"));

    public static string BicepCli { get; } = Executable(Path.GetFullPath(Metadata("BicepCli")));

    public static string MainBicep => Path.Combine(Root, "infra", "bicep", "main.bicep");

    /// <summary>The CLI from the NuGet package folder, with its run bit set should the package extraction have dropped it.</summary>
    private static string Executable(string path)
    {
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"The Bicep CLI is not at {path}; restore tests/Flow.Infrastructure.Tests (its PackageDownload brings it).", path);
        }

        if (!OperatingSystem.IsWindows() && !File.GetUnixFileMode(path).HasFlag(UnixFileMode.UserExecute))
        {
            File.SetUnixFileMode(path, File.GetUnixFileMode(path) | UnixFileMode.UserExecute);
        }

        return path;
    }

    private static string Metadata(string key) =>
        typeof(RepoPaths).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().FirstOrDefault(a => a.Key == key)?.Value
        ?? throw new InvalidOperationException($"The test assembly has no '{key}' metadata; build it with the project file.");
}
