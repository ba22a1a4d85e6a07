using Flow.Engine.Storage;
using Flow.Functions.Hosting;
using Flow.Storage.Azure;
using Flow.TestSupport;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Flow.Functions.Tests;

/// <summary>Where Azure retention runs: in the scheduler role (after start-up has reached the storage), not in an api-only or worker-only app.</summary>
public sealed class RetentionHostingTests(AzuriteFixture azurite)
{
    [Theory]
    [InlineData("api,scheduler,worker", true)]
    [InlineData("scheduler", true)]
    [InlineData("api", false)]
    [InlineData("worker", false)]
    public async Task AzureRetention_IsHostedExactlyWhereTheSchedulerRuns(string roles, bool hosted)
    {
        await using var app = FlowApp.Build(["--urls", "http://127.0.0.1:0"], TestFlows.Register, builder => builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["AzureWebJobsStorage"] = azurite.ConnectionString,
            ["Flow:App:Roles"] = roles,
            ["Flow:App:ApiKey"] = TestApp.ApiKey,
            ["FUNCTIONS_CUSTOMHANDLER_PORT"] = null,
        }));

        var services = app.Services.GetServices<IHostedService>().Select(s => s is AfterStartup wrapped ? wrapped.Inner : s).ToList();

        Assert.Equal(hosted, services.Any(s => s is AzureRetentionService { Days: 30 }));
        Assert.Same(app.Services.GetRequiredService<AzureFlowStore>(), app.Services.GetRequiredService<IRunRetention>());
    }
}
