namespace Flow.Process;

/// <summary>
/// The executables a process worker may start: the worker operator's list (<see cref="ProcessWorkerOptions.AllowedExecutables"/>),
/// each entry resolved once, when the worker starts, with the worker's own PATH and working directory, to the canonical path of
/// the file (symbolic links resolved). A deployment's command is resolved the same way (its PATH is never consulted) and runs
/// only when it is one of those files; what runs is the matched file's canonical path, so nothing a deployment sets can choose
/// a different binary after the check. An interpreter on the list runs whatever script or code it is given.
/// </summary>
public sealed class ExecutableAllowList
{
    private readonly Dictionary<string, string> _allowed;

    /// <summary>Resolves the list.</summary>
    /// <param name="entries">Absolute paths, bare names (looked up on the worker's PATH) or paths relative to the worker's working directory.</param>
    /// <param name="allowAny">Whether every executable is allowed (the entries are then ignored).</param>
    /// <exception cref="ArgumentException">An entry is not an executable file on this machine; the message names it.</exception>
    public ExecutableAllowList(IEnumerable<string> entries, bool allowAny)
    {
        ArgumentNullException.ThrowIfNull(entries);
        AllowsAny = allowAny;
        _allowed = new Dictionary<string, string>(StringComparer.Ordinal);
        if (allowAny)
        {
            return;
        }

        foreach (var entry in entries)
        {
            var resolved = ProcessTree.Resolve(entry, null, null)
                ?? throw new ArgumentException($"{ProcessWorkerOptions.SectionName}:{nameof(ProcessWorkerOptions.AllowedExecutables)} (--allow): '{entry}' is not an executable file{(entry.Contains('/', StringComparison.Ordinal) ? string.Empty : " on this worker's PATH")}.");
            _allowed.TryAdd(ProcessTree.Canonical(resolved), entry);
        }
    }

    /// <summary>Whether the worker runs any executable (<see cref="ProcessWorkerOptions.AllowAnyExecutable"/>).</summary>
    public bool AllowsAny { get; }

    /// <summary>The allowed files (canonical paths), for messages.</summary>
    public IReadOnlyCollection<string> Files => _allowed.Keys;

    /// <summary>Resolves a command's executable with the worker's PATH and checks it against the list.</summary>
    /// <param name="name">argv[0] of the deployment's command.</param>
    /// <param name="workingDirectory">The deployment's working directory: what a relative path (<c>./run.sh</c>) is relative to.</param>
    /// <returns>The file to start (its canonical path) and null, or null and why it may not start.</returns>
    public (string? Executable, string? Refusal) Check(string name, string? workingDirectory)
    {
        ArgumentNullException.ThrowIfNull(name);
        var resolved = ProcessTree.Resolve(name, workingDirectory, null);
        if (resolved is null)
        {
            return (null, $"Executable not found: '{name}' is not an executable file{(name.Contains('/', StringComparison.Ordinal) ? string.Empty : " on the PATH")}");
        }

        var canonical = ProcessTree.Canonical(resolved);
        if (AllowsAny || _allowed.ContainsKey(canonical))
        {
            return (canonical, null);
        }

        return (null, _allowed.Count == 0
            ? $"'{name}' may not run: this worker allows no executables (start it with --allow EXECUTABLE, or set {ProcessWorkerOptions.SectionName}:{nameof(ProcessWorkerOptions.AllowedExecutables)})"
            : $"'{name}' resolves to {canonical}, which is not among the executables this worker allows ({string.Join(", ", _allowed.Keys.Order(StringComparer.Ordinal))})");
    }

    /// <summary>Whether a work pool's <c>allowedCommands</c> admit a file; each entry is resolved like the worker's own entries (it can narrow the worker's list, never widen it).</summary>
    /// <param name="poolEntries">The pool's list.</param>
    /// <param name="executable">The canonical path <see cref="Check"/> returned.</param>
    /// <returns>True when one entry resolves to that file.</returns>
    public static bool PoolAllows(IEnumerable<string> poolEntries, string executable)
    {
        ArgumentNullException.ThrowIfNull(poolEntries);
        return poolEntries.Any(e => ProcessTree.Resolve(e, null, null) is { } r && string.Equals(ProcessTree.Canonical(r), executable, StringComparison.Ordinal));
    }
}
