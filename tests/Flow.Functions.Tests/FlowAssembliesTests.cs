using Flow.Client;
using Flow.TestSupport;

namespace Flow.Functions.Tests;

/// <summary><c>Flow:App:FlowAssemblies</c>, the app's plug-in point for flows kept in their own project: a bad entry stops the start, naming it.</summary>
public sealed class FlowAssembliesTests(AzuriteFixture azurite)
{
    [Fact]
    public async Task FlowAssemblies_MissingFileOrNoModule_StopsTheStartNamingTheSetting()
    {
        using var deadline = TestDeadline.Create(TimeSpan.FromSeconds(60));

        var missing = await Assert.ThrowsAsync<InvalidOperationException>(() => TestApp.StartAsync(azurite, deadline, new() { ["Flow:App:FlowAssemblies:0"] = "/nonexistent/Flows.dll" }));
        var noModule = await Assert.ThrowsAsync<InvalidOperationException>(() => TestApp.StartAsync(azurite, deadline, new() { ["Flow:App:FlowAssemblies:0"] = typeof(FlowClient).Assembly.Location }));

        Assert.Contains("Flow:App:FlowAssemblies:0", missing.Message, StringComparison.Ordinal);
        Assert.Contains("does not exist", missing.Message, StringComparison.Ordinal);
        Assert.Contains("Flow:App:FlowAssemblies:0", noModule.Message, StringComparison.Ordinal);
        Assert.Contains("no public IFlowModule", noModule.Message, StringComparison.Ordinal);
    }
}
