namespace Flow.ControlPlane;

/// <summary>The content of a deployments file (<c>flow.yaml</c> or <c>flow.json</c>): work pools and deployments kept in git.</summary>
public sealed record DeploymentFileContent
{
    /// <summary>Work pools to create or update (by <see cref="NamedWorkPoolSpec.Name"/>).</summary>
    public List<NamedWorkPoolSpec>? WorkPools { get; init; }

    /// <summary>Deployments to create or update.</summary>
    public List<DeploymentSpec>? Deployments { get; init; }

    /// <summary>The automations (docs/automations.md), each with its <see cref="Automations.AutomationSpec.Name"/>.</summary>
    public List<Automations.AutomationSpec>? Automations { get; init; }
}
