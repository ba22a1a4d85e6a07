using Flow.Sdk;

namespace Flow.Samples;

/// <summary>The samples as a module the Flow app loads by configuration (<c>Flow:App:FlowAssemblies</c>; <c>./flow.sh start</c> sets it).</summary>
public sealed class SampleFlowsModule : IFlowModule
{
    /// <inheritdoc />
    public void Register(FlowRegistry registry) => SampleFlows.Register(registry);
}
