using System.Text.Json.Nodes;

namespace Flow.Infrastructure.Tests;

/// <summary>main.bicep compiled once by the Bicep CLI from NuGet; the posture tests read the ARM JSON.</summary>
public sealed class BicepCompilation : IAsyncLifetime
{
    private static readonly TimeSpan Deadline = TimeSpan.FromMinutes(5);

    /// <summary>The build's result (exit code, output).</summary>
    internal ProcessRunner.Result Build { get; private set; } = new(-1, "", "");

    /// <summary>The compiled template's text.</summary>
    public string ArmText { get; private set; } = "";

    /// <summary>The compiled template.</summary>
    public JsonObject Arm { get; private set; } = [];

    public async ValueTask InitializeAsync()
    {
        var output = Path.Combine(Path.GetTempPath(), "flow-bicep-" + Guid.NewGuid().ToString("N") + ".json");
        try
        {
            Build = await ProcessRunner.RunAsync(RepoPaths.BicepCli, ["build", RepoPaths.MainBicep, "--outfile", output], RepoPaths.Root, Deadline, CancellationToken.None);
            if (Build.ExitCode == 0)
            {
                ArmText = await File.ReadAllTextAsync(output);
                Arm = JsonNode.Parse(ArmText)!.AsObject();
            }
        }
        finally
        {
            File.Delete(output);
        }
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    /// <summary>Every resource the template and its nested module templates deploy (array or symbolic-name form; <c>existing</c> references left out).</summary>
    public IEnumerable<JsonObject> Resources() => Walk(Arm).Where(r => r["existing"] is null || !(bool)r["existing"]!);

    /// <summary>The module deployment named <paramref name="name"/> in main.bicep.</summary>
    public JsonObject Module(string name) =>
        Entries(Arm["resources"]).Single(r => (string?)r["type"] == "Microsoft.Resources/deployments" && (string?)r["name"] == name);

    public static IEnumerable<JsonObject> Entries(JsonNode? resources) => resources switch
    {
        JsonArray array => array.Select(r => r!.AsObject()),
        JsonObject map => map.Select(p => p.Value!.AsObject()),
        _ => [],
    };

    private static IEnumerable<JsonObject> Walk(JsonObject template)
    {
        foreach (var resource in Entries(template["resources"]))
        {
            yield return resource;
            if (resource["properties"]?["template"] is JsonObject nested)
            {
                foreach (var inner in Walk(nested))
                {
                    yield return inner;
                }
            }
        }
    }
}
