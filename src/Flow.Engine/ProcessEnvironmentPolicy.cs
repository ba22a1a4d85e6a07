namespace Flow.Engine;

/// <summary>
/// Which environment variables a subprocess of a process worker may see (docs/trust-model.md). A subprocess starts from an
/// empty environment and gets: the few variables of <see cref="InheritedNames"/> (and <c>LC_*</c>) from the worker, the
/// variables the worker's operator adds by name, the deployment's own variables (secret references resolved), and the
/// <c>FLOW_*</c> variables Flow sets (they win over a deployment's). Names that carry the worker's credentials (<see cref="IsCredential"/>) never reach a
/// subprocess, whoever asks; names that choose which code runs (<c>PATH</c>, <c>LD_*</c>, <c>DOTNET_*</c>) are the worker's,
/// not a deployment's. Used by deployment validation (a 400 naming the variable) and by the worker (the run fails).
/// </summary>
public static class ProcessEnvironmentPolicy
{
    /// <summary>The variables a subprocess inherits from the worker, besides every <c>LC_*</c>.</summary>
    public static IReadOnlyList<string> InheritedNames { get; } = ["PATH", "HOME", "LANG", "TZ", "TMPDIR", "USER"];

    private static readonly string[] CredentialPrefixes = ["AzureWebJobs", "Flow__", "FLOW__", "APPLICATIONINSIGHTS_", "MSI_", "IDENTITY_", "AZURE_", "IMDS_"];

    private static readonly string[] CodeChoosingPrefixes = ["LD_", "DOTNET_"];

    /// <summary>Whether the worker passes this variable of its own environment on to a subprocess by default.</summary>
    /// <param name="name">The variable name.</param>
    /// <returns>True for <see cref="InheritedNames"/> and <c>LC_*</c>.</returns>
    public static bool IsInheritedByDefault(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return InheritedNames.Contains(name, StringComparer.Ordinal) || name.StartsWith("LC_", StringComparison.Ordinal);
    }

    /// <summary>
    /// Whether a variable may carry the worker's own credentials or configuration: <c>AzureWebJobs*</c> (the storage
    /// connection), <c>Flow__*</c> (Flow's settings and secrets), <c>APPLICATIONINSIGHTS_*</c>, and the variables Azure.Identity
    /// and managed identity read (<c>AZURE_*</c> such as AZURE_CLIENT_SECRET, AZURE_CLIENT_ID, AZURE_TENANT_ID,
    /// AZURE_FEDERATED_TOKEN_FILE, AZURE_CLIENT_CERTIFICATE_PATH; <c>IDENTITY_ENDPOINT</c>, <c>IDENTITY_HEADER</c>, <c>MSI_*</c>,
    /// <c>IMDS_*</c>). Compared without case. Such a variable never reaches a subprocess.
    /// </summary>
    /// <param name="name">The variable name.</param>
    /// <returns>True when it must never be passed on.</returns>
    public static bool IsCredential(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return CredentialPrefixes.Any(p => name.StartsWith(p, StringComparison.OrdinalIgnoreCase));
    }

    /// <summary>Why a deployment may not set this variable for its command, or null when it may.</summary>
    /// <param name="name">The variable name as the deployment gives it.</param>
    /// <returns>The reason, in the user's terms, or null.</returns>
    public static string? RefusalForDeployment(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (IsCredential(name))
        {
            return $"'{name}' is a name reserved for the worker's own credentials and settings (AzureWebJobs*, Flow__*, APPLICATIONINSIGHTS_*, AZURE_*, IDENTITY_*, MSI_*, IMDS_*); it never reaches a subprocess";
        }

        if (string.Equals(name, "PATH", StringComparison.OrdinalIgnoreCase) || CodeChoosingPrefixes.Any(p => name.StartsWith(p, StringComparison.OrdinalIgnoreCase)))
        {
            return $"'{name}' chooses which code runs (PATH, LD_*, DOTNET_*); that is the worker operator's decision, not a deployment's";
        }

        return null;
    }
}
