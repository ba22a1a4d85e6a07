namespace Flow.Client;

/// <summary>How a deployment's run starts.</summary>
public sealed record DeploymentEntrypointView
{
    /// <summary><c>flow</c> (the app runs the registered flow) or <c>process</c> (a worker starts a subprocess).</summary>
    public required string Kind { get; init; }

    /// <summary>For process entrypoints: the command line (argv).</summary>
    public IReadOnlyList<string>? Command { get; init; }

    /// <summary>For process entrypoints: the working directory.</summary>
    public string? WorkingDirectory { get; init; }

    /// <summary>For process entrypoints: environment variables; values other than <c>secret:</c> references show as <c>***</c>.</summary>
    public IReadOnlyDictionary<string, string>? Environment { get; init; }
}
