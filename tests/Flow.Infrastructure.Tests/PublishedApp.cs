namespace Flow.Infrastructure.Tests;

/// <summary>
/// The Functions app published once, exactly as azd publishes it (<c>dotnet publish functions/Flow.Functions.csproj -c Release
/// --output DIR</c>, no runtime given): the folder azd zips and Flex Consumption runs.
/// </summary>
public sealed class PublishedApp : IAsyncLifetime
{
    /// <summary>The publish output.</summary>
    public string Root { get; } = Path.Combine(Path.GetTempPath(), "flow-publish-" + Guid.NewGuid().ToString("N"));

    /// <summary>The publish command's result.</summary>
    internal ProcessRunner.Result Result { get; private set; } = new(-1, "", "");

    public async ValueTask InitializeAsync()
    {
        var project = Path.Combine(RepoPaths.Root, "functions", "Flow.Functions.csproj");
        Result = await ProcessRunner.RunAsync("dotnet", ["publish", project, "-c", "Release", "--output", Root, "-nologo"], RepoPaths.Root, TimeSpan.FromMinutes(20), CancellationToken.None);
    }

    public ValueTask DisposeAsync()
    {
        if (Directory.Exists(Root))
        {
            Directory.Delete(Root, recursive: true);
        }

        return ValueTask.CompletedTask;
    }
}
