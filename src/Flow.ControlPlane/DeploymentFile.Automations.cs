using Flow.ControlPlane.Automations;

namespace Flow.ControlPlane;

/// <summary>The <c>automations:</c> section of a deployments file.</summary>
public static partial class DeploymentFile
{
    /// <summary>
    /// Applies a parsed file with its automations: every automation is validated first (names unique, each valid), then the
    /// pools and deployments are applied (<see cref="ApplyAsync"/>), then the automations, so an invalid file writes nothing.
    /// Automations not in the file are left alone.
    /// </summary>
    /// <param name="service">The deployment service.</param>
    /// <param name="automations">The automation service.</param>
    /// <param name="content">The content.</param>
    /// <param name="source">Where it came from, e.g. <c>file:flow.yaml</c>.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>One result per deployment and one per automation.</returns>
    /// <exception cref="InvalidRequestException">Something in the file is invalid (every offending field is named); nothing was written.</exception>
    public static async Task<(IReadOnlyList<ApplyResult> Deployments, IReadOnlyList<AutomationApplyResult> Automations)> ApplyWithAutomationsAsync(
        DeploymentService service, AutomationService automations, DeploymentFileContent content, string source, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(automations);
        ArgumentNullException.ThrowIfNull(content);
        var specs = content.Automations ?? [];
        automations.ValidateAll(specs);
        var deployments = await ApplyAsync(service, content, source, cancellationToken).ConfigureAwait(false);
        var results = new List<AutomationApplyResult>();
        for (var i = 0; i < specs.Count; i++)
        {
            try
            {
                results.Add(await automations.ApplyAsync(specs[i].Name!, specs[i], source, cancellationToken).ConfigureAwait(false));
            }
            catch (InvalidRequestException e)
            {
                throw Prefix($"automations[{i}]", e);
            }
        }

        return (deployments, results);
    }
}
