using System.Reflection;

namespace Flow.LocalServices;

/// <summary>Where things are in the repository and in its build output, seen from a running test.</summary>
public static class RepoPaths
{
    private static readonly Lazy<string> LazyRoot = new(() => FindRoot(AppContext.BaseDirectory));

    /// <summary>The repository root: the nearest folder above the test binaries that contains Functions.sln.</summary>
    public static string Root => LazyRoot.Value;

    /// <summary>The build configuration the test support library (and so the tests) was built with, e.g. Release.</summary>
    public static string Configuration { get; } =
        typeof(RepoPaths).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration ?? "Debug";

    /// <summary>The target framework folder name of the running tests, e.g. net10.0.</summary>
    public static string TargetFramework { get; } =
        new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar)).Name;

    /// <summary>The built Flow.Functions.dll for the same configuration as the tests.</summary>
    public static string FunctionsAssembly =>
        Path.Combine(Root, "functions", "bin", Configuration, TargetFramework, "Flow.Functions.dll");

    /// <summary>The built sample flows (samples/Flow.Samples) for the same configuration as the tests: the app loads them through <c>Flow:App:FlowAssemblies</c>.</summary>
    public static string SamplesAssembly =>
        Path.Combine(Root, "samples", "Flow.Samples", "bin", Configuration, TargetFramework, "Flow.Samples.dll");

    /// <summary>The <c>dotnet</c> host to run framework-dependent apps with (DOTNET_HOST_PATH when the SDK sets it).</summary>
    public static string DotNetHost
    {
        get
        {
            var fromSdk = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH");
            return !string.IsNullOrEmpty(fromSdk) && File.Exists(fromSdk) ? fromSdk : "dotnet";
        }
    }

    /// <summary>Walks up from <paramref name="start"/> to the folder that contains Functions.sln.</summary>
    /// <exception cref="InvalidOperationException">No such folder above <paramref name="start"/>.</exception>
    public static string FindRoot(string start)
    {
        for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Functions.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"No folder containing Functions.sln above '{start}'. Run the tests from inside the Flow repository.");
    }
}
