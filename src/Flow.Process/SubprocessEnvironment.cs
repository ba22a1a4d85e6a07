using System.Collections;
using Flow.Engine;

namespace Flow.Process;

/// <summary>
/// Builds a subprocess's environment from nothing (<see cref="ProcessEnvironmentPolicy"/>): PATH, HOME, LANG, LC_*, TZ,
/// TMPDIR and USER of the worker, the variables the operator names in <see cref="ProcessWorkerOptions.InheritVariables"/>,
/// then the deployment's variables and Flow's <c>FLOW_*</c>. No credential name (AzureWebJobs*, Flow__*, AZURE_*, ...)
/// is ever copied from the worker.
/// </summary>
internal static class SubprocessEnvironment
{
    /// <summary>The part of the worker's environment a subprocess gets.</summary>
    /// <param name="worker">The worker's environment (<see cref="Environment.GetEnvironmentVariables()"/>).</param>
    /// <param name="inherit">Extra names the operator passes on.</param>
    /// <returns>A new, mutable environment.</returns>
    public static Dictionary<string, string> Inherited(IDictionary worker, IEnumerable<string> inherit)
    {
        var extra = new HashSet<string>(inherit, StringComparer.Ordinal);
        var env = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (DictionaryEntry e in worker)
        {
            if (e.Key is string name && e.Value is string value
                && (ProcessEnvironmentPolicy.IsInheritedByDefault(name) || extra.Contains(name))
                && !ProcessEnvironmentPolicy.IsCredential(name))
            {
                env[name] = value;
            }
        }

        return env;
    }

    /// <summary>The first variable of a deployment that a worker must not set, with the reason.</summary>
    /// <param name="deploymentEnvironment">The deployment's variables.</param>
    /// <returns>The reason, or null when all may be set.</returns>
    public static string? Refusal(IReadOnlyDictionary<string, string>? deploymentEnvironment) =>
        (deploymentEnvironment ?? new Dictionary<string, string>()).Keys
            .Select(ProcessEnvironmentPolicy.RefusalForDeployment)
            .FirstOrDefault(r => r is not null);
}
