using System.Xml.Linq;

namespace Flow.TestSupport.Tests;

/// <summary>
/// The projects' references, read from the .csproj files, point one way:
/// <c>functions, Cli -> ControlPlane, Storage.*, Process -> Engine -> Sdk</c>. The libraries under src/ never reference tests,
/// samples or the app.
/// </summary>
public sealed class ProjectDependencyTests
{
    /// <summary>Every shipped project and the Flow projects it may reference (directly).</summary>
    private static readonly Dictionary<string, string[]> Allowed = new(StringComparer.Ordinal)
    {
        ["Flow.Sdk"] = [],
        ["Flow.Engine"] = ["Flow.Sdk"],
        ["Flow.Client"] = ["Flow.Sdk"],
        ["Flow.Testing"] = ["Flow.Engine", "Flow.Sdk"],
        ["Flow.ControlPlane"] = ["Flow.Engine", "Flow.Sdk"],
        ["Flow.Storage.Azure"] = ["Flow.ControlPlane", "Flow.Engine", "Flow.Sdk"],
        ["Flow.Storage.Postgres"] = ["Flow.ControlPlane", "Flow.Engine", "Flow.Sdk"],
        ["Flow.Storage.Backends"] = ["Flow.Storage.Azure", "Flow.Storage.Postgres", "Flow.ControlPlane", "Flow.Engine", "Flow.Sdk"],
        // What a process flow app links: nothing of the worker side (no storage, no control plane).
        ["Flow.Process.Runtime"] = ["Flow.Engine", "Flow.Sdk"],
        ["Flow.Process"] = ["Flow.Process.Runtime", "Flow.ControlPlane", "Flow.Engine", "Flow.Sdk"],
        ["Flow.Cli"] = ["Flow.Client", "Flow.Storage.Backends", "Flow.Storage.Azure", "Flow.Storage.Postgres", "Flow.Process", "Flow.Process.Runtime", "Flow.ControlPlane", "Flow.Engine", "Flow.Sdk"],
        // Flow.FunctionFolders: a build-time tool (ReferenceOutputAssembly=false) the app's build runs to write runs-POOL folders.
        ["Flow.Functions"] = ["Flow.Client", "Flow.Storage.Backends", "Flow.Storage.Azure", "Flow.Storage.Postgres", "Flow.Process", "Flow.Process.Runtime", "Flow.ControlPlane", "Flow.Engine", "Flow.Sdk", "Flow.FunctionFolders"],
        ["Flow.FunctionFolders"] = ["Flow.ControlPlane", "Flow.Engine", "Flow.Sdk"],
        // Local Azurite and PostgreSQL for tests and benchmarks: knows no Flow project.
        ["Flow.LocalServices"] = [],
    };

    private static IEnumerable<string> Projects(params string[] folders) =>
        folders.Select(f => Path.Combine(RepoPaths.Root, f)).Where(Directory.Exists)
            .SelectMany(f => Directory.EnumerateFiles(f, "*.csproj", SearchOption.AllDirectories))
            .Where(p => !p.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
                && !p.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}", StringComparison.Ordinal));

    /// <summary>The full paths of the projects a project references.</summary>
    private static List<string> References(string project) =>
        [.. XDocument.Load(project).Descendants("ProjectReference")
            .Select(r => (string?)r.Attribute("Include"))
            .OfType<string>()
            .Select(i => Path.GetFullPath(Path.Combine(Path.GetDirectoryName(project)!, i.Replace('\\', Path.DirectorySeparatorChar))))];

    private static string Name(string project) => Path.GetFileNameWithoutExtension(project);

    private static string Relative(string path) => Path.GetRelativePath(RepoPaths.Root, path).Replace('\\', '/');

    [Fact]
    public void ShippedProjects_ReferenceOnlyTheLayersBelowThem()
    {
        var shipped = Projects("src", "functions", "tools").ToList();
        Assert.NotEmpty(shipped);
        var violations = new List<string>();
        foreach (var project in shipped)
        {
            if (!Allowed.TryGetValue(Name(project), out var allowed))
            {
                violations.Add($"{Relative(project)} is not in the layer map of {nameof(ProjectDependencyTests)}: add it with the projects it may reference");
                continue;
            }

            foreach (var reference in References(project))
            {
                if (!allowed.Contains(Name(reference), StringComparer.Ordinal))
                {
                    violations.Add($"{Name(project)} -> {Name(reference)} ({Relative(reference)})");
                }
            }
        }

        Assert.True(violations.Count == 0, "References against the direction functions, Cli -> ControlPlane, Storage.*, Process -> Engine -> Sdk:\n" + string.Join("\n", violations));
    }

    [Fact]
    public void Libraries_NeverReferenceTestsSamplesOrTheApp()
    {
        var violations = Projects("src")
            .SelectMany(p => References(p).Select(r => (Project: p, Reference: Relative(r))))
            .Where(x => !x.Reference.StartsWith("src/", StringComparison.Ordinal))
            .Select(x => $"{Relative(x.Project)} -> {x.Reference}")
            .ToList();

        Assert.True(violations.Count == 0, "Libraries reference projects outside src/:\n" + string.Join("\n", violations));
    }

    [Fact]
    public void Benchmarks_NeverReferenceTests()
    {
        var violations = Projects("bench")
            .SelectMany(p => References(p).Select(r => (Project: p, Reference: Relative(r))))
            .Where(x => x.Reference.StartsWith("tests/", StringComparison.Ordinal))
            .Select(x => $"{Relative(x.Project)} -> {x.Reference}")
            .ToList();

        Assert.NotEmpty(Projects("bench"));
        Assert.True(violations.Count == 0, "Benchmarks reference test projects (use tools/Flow.LocalServices):\n" + string.Join("\n", violations));
    }

    [Fact]
    public void Samples_ReferenceOnlyTheSdkAndTheProcessRuntime()
    {
        var violations = Projects("samples")
            .SelectMany(p => References(p).Select(r => (Project: p, Reference: Name(r))))
            .Where(x => x.Reference is not ("Flow.Sdk" or "Flow.Process.Runtime"))
            .Select(x => $"{Relative(x.Project)} -> {x.Reference}")
            .ToList();

        Assert.True(violations.Count == 0, "Samples reference more than the SDK:\n" + string.Join("\n", violations));
    }
}
