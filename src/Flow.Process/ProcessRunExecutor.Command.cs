using System.Globalization;
using Flow.ControlPlane;
using Flow.Engine.Storage;

namespace Flow.Process;

// What a run's subprocess is: the deployment's command, checked against what this worker and the pool allow, and its environment
// built from nothing. Shared by the run's attempts and by the hook-only launch (ProcessRunExecutor.Hooks.cs), so both start the
// same program with the same clean environment.
public sealed partial class ProcessRunExecutor
{
    /// <summary>
    /// The executable and environment (without FLOW_*) of <paramref name="deployment"/>'s command on this worker, or why it can never
    /// start here (a refusal: the run fails for good).
    /// </summary>
    private async Task<(string? Executable, Dictionary<string, string>? Environment, string? Refusal)> ResolveCommandAsync(FlowRunRecord run, DeploymentRecord deployment, CancellationToken cancellationToken)
    {
        var command = deployment.Entrypoint.Command!;
        var pool = (await _control.GetWorkPoolAsync(run.Pool, cancellationToken).ConfigureAwait(false))?.Record;
        var entry = deployment.Entrypoint;
        string? refusal = null;
        string? executable = null;
        Dictionary<string, string>? environment = null;
        if (entry.WorkingDirectory is { } wd && !Directory.Exists(wd))
        {
            refusal = $"The working directory '{wd}' does not exist on worker {WorkerId}.";
        }
        else if (SubprocessEnvironment.Refusal(entry.Environment) is { } refused)
        {
            refusal = $"Deployment variable {refused}; worker {WorkerId} does not start the command.";
        }
        else
        {
            (executable, refusal) = _allowList.Check(command[0], entry.WorkingDirectory);
            if (refusal is not null)
            {
                refusal += $" (worker {WorkerId}).";
            }
            else if (pool is { AllowedCommands: { } allowed } && !ExecutableAllowList.PoolAllows(allowed, executable!))
            {
                refusal = $"'{command[0]}' ({executable}) is not among the executables work pool '{pool.Name}' allows ({string.Join(", ", allowed)}).";
            }
            else
            {
                (environment, refusal) = ResolveEnvironment(entry);
            }
        }

        return (executable, environment, refusal);
    }

    /// <summary>The subprocess's whole environment but FLOW_*: the worker's allow-listed variables, then the deployment's, with only the secrets it references.</summary>
    private (Dictionary<string, string>? Environment, string? Refusal) ResolveEnvironment(DeploymentEntrypoint entry)
    {
        var env = SubprocessEnvironment.Inherited(System.Environment.GetEnvironmentVariables(), _options.InheritVariables);
        foreach (var (k, v) in entry.Environment ?? new Dictionary<string, string>())
        {
            if (v.StartsWith("secret:", StringComparison.Ordinal))
            {
                var name = v["secret:".Length..];
                var value = _configuration?["Flow:Secrets:" + name];
                if (value is null)
                {
                    return (null, $"Secret '{name}' (for variable {k}) is not configured on worker {WorkerId} (set Flow:Secrets:{name}, e.g. the environment variable Flow__Secrets__{name}).");
                }

                env[k] = value;
            }
            else
            {
                env[k] = v;
            }
        }

        return (env, null);
    }

    /// <summary>Adds the FLOW_* variables a subprocess of <paramref name="run"/> reads (<see cref="FlowProcess"/>) to its environment.</summary>
    private void AddFlowVariables(Dictionary<string, string> environment, FlowRunRecord run, DeploymentRecord deployment, string token)
    {
        environment["FLOW_RUN_ID"] = run.RunId;
        environment["FLOW_RUN_ATTEMPT"] = run.Attempt.ToString(CultureInfo.InvariantCulture);
        environment["FLOW_API_URL"] = _options.ApiUrl?.TrimEnd('/') ?? string.Empty;
        environment["FLOW_RUN_TOKEN"] = token;
        environment["FLOW_LEASE_OWNER"] = WorkerId;
        environment["FLOW_LEASE_SECONDS"] = _engine.LeaseDuration.TotalSeconds.ToString(CultureInfo.InvariantCulture);
        environment["FLOW_DEPLOYMENT"] = deployment.Name;
        environment["FLOW_FLOW_NAME"] = run.FlowName;
        environment["FLOW_PARAMETERS"] = run.Parameters ?? "null";
    }
}
