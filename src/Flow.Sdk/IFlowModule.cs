namespace Flow.Sdk;

/// <summary>
/// A set of flows and tasks kept in its own assembly, for a host that loads it by configuration: the Flow app registers every
/// <see cref="IFlowModule"/> (public, with a parameterless constructor) of each assembly in <c>Flow:App:FlowAssemblies</c>.
/// Your flows' project then references only the SDK, as a Temporal worker's or Prefect deployment's code does.
/// </summary>
public interface IFlowModule
{
    /// <summary>Adds the module's flows and tasks.</summary>
    /// <param name="registry">The host's registry.</param>
    void Register(FlowRegistry registry);
}
