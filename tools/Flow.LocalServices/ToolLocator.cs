namespace Flow.LocalServices;

/// <summary>Finds the external programs the fixtures need, failing fast with the command that installs them.</summary>
public static class ToolLocator
{
    /// <summary>Finds <paramref name="name"/> as an executable file in a PATH folder, or returns null.</summary>
    public static string? FindOnPath(string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        var path = Environment.GetEnvironmentVariable("PATH") ?? string.Empty;
        foreach (var dir in path.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.Combine(dir, name);
            if (File.Exists(candidate) && IsExecutable(candidate))
            {
                return candidate;
            }
        }

        return null;
    }

    /// <summary>
    /// Finds a PostgreSQL server binary (initdb, pg_ctl, postgres): on PATH, else in the highest-versioned
    /// /usr/lib/postgresql/*/bin. Returns null when neither has it.
    /// </summary>
    public static string? FindPostgresBinary(string name)
    {
        var onPath = FindOnPath(name);
        if (onPath is not null)
        {
            return onPath;
        }

        const string debianRoot = "/usr/lib/postgresql";
        if (!Directory.Exists(debianRoot))
        {
            return null;
        }

        return Directory.EnumerateDirectories(debianRoot)
            .Select(dir => (Dir: dir, Version: Version.TryParse(Path.GetFileName(dir), out var v) ? v
                : int.TryParse(Path.GetFileName(dir), out var major) ? new Version(major, 0) : null))
            .Where(x => x.Version is not null)
            .OrderByDescending(x => x.Version)
            .Select(x => Path.Combine(x.Dir, "bin", name))
            .FirstOrDefault(File.Exists);
    }

    /// <summary>Like <see cref="FindPostgresBinary"/>, but throws a message naming the missing binary and its install command.</summary>
    /// <exception cref="InvalidOperationException">Not found.</exception>
    public static string RequirePostgresBinary(string name) =>
        FindPostgresBinary(name) ?? throw new InvalidOperationException(
            $"PostgreSQL server binary '{name}' was found neither on PATH nor in /usr/lib/postgresql/*/bin. " +
            "Install the server: apt-get install -y postgresql");

    private static bool IsExecutable(string path) =>
        OperatingSystem.IsWindows() ||
        (File.GetUnixFileMode(path) & (UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute)) != 0;
}

/// <summary>Node and the repository's pinned npm tools.</summary>
public static class NodeTools
{
    /// <summary>The <c>node</c> executable on PATH.</summary>
    /// <exception cref="InvalidOperationException">node is not on PATH.</exception>
    public static string NodePath =>
        ToolLocator.FindOnPath("node") ?? throw new InvalidOperationException(
            "'node' was not found on PATH. Flow's tests run Azurite and the child guard with Node 20+: " +
            "install Node.js 20 or later (e.g. apt-get install -y nodejs npm), then run 'npm ci' in the repository root.");

    /// <summary>The repository's pinned Azurite entry point, &lt;root&gt;/node_modules/azurite/dist/src/azurite.js.</summary>
    /// <exception cref="InvalidOperationException">node_modules/azurite is missing.</exception>
    public static string AzuriteScript
    {
        get
        {
            var script = Path.Combine(RepoPaths.Root, "node_modules", "azurite", "dist", "src", "azurite.js");
            return File.Exists(script) ? script : throw new InvalidOperationException(
                $"Azurite is not installed: '{script}' is missing. Run 'npm ci' in the repository root ({RepoPaths.Root}).");
        }
    }

    /// <summary>child-guard.mjs: next to the test binaries (copied by the build), else in the source tree.</summary>
    public static string ChildGuardScript
    {
        get
        {
            var copied = Path.Combine(AppContext.BaseDirectory, "node", "child-guard.mjs");
            if (File.Exists(copied))
            {
                return copied;
            }

            var source = Path.Combine(RepoPaths.Root, "tests", "Flow.TestSupport", "node", "child-guard.mjs");
            return File.Exists(source) ? source : throw new InvalidOperationException($"child-guard.mjs is missing (looked in '{copied}' and '{source}').");
        }
    }
}
