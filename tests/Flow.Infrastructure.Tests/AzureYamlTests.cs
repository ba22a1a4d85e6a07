using System.Text.RegularExpressions;
using YamlDotNet.RepresentationModel;

namespace Flow.Infrastructure.Tests;

/// <summary>
/// azure.yaml against the fields azd documents (schemas/v1.0/azure.yaml.json of Azure/azure-dev): the name's pattern,
/// known top-level and service keys, a service with host <c>function</c>, a language azd packages, an existing project
/// and an infra path holding the module.
/// </summary>
public sealed partial class AzureYamlTests
{
    private static readonly string[] TopLevelKeys = ["name", "resourceGroup", "metadata", "infra", "services", "pipeline", "hooks", "requiredVersions", "state", "platform", "workflows", "cloud", "resources"];
    private static readonly string[] ServiceKeys = ["apiVersion", "resourceGroup", "resourceName", "project", "image", "host", "language", "module", "dist", "remoteBuild", "docker", "k8s", "config", "uses", "env", "hooks"];
    private static readonly string[] Hosts = ["appservice", "containerapp", "function", "springapp", "staticwebapp", "aks"];
    private static readonly string[] Languages = ["dotnet", "csharp", "fsharp", "py", "python", "js", "ts", "java", "go", "golang", "docker", "custom"];

    private static YamlMappingNode Load()
    {
        using var reader = new StreamReader(Path.Combine(RepoPaths.Root, "azure.yaml"));
        var stream = new YamlStream();
        stream.Load(reader);
        return (YamlMappingNode)stream.Documents.Single().RootNode;
    }

    private static string? Scalar(YamlMappingNode map, string key) =>
        map.Children.TryGetValue(new YamlScalarNode(key), out var node) ? ((YamlScalarNode)node).Value : null;

    [GeneratedRegex("^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")]
    private static partial Regex NamePattern();

    [Fact]
    public void AzureYaml_UsesOnlyDocumentedKeys_AndAValidName()
    {
        var root = Load();
        Assert.All(root.Children.Keys, k => Assert.Contains(((YamlScalarNode)k).Value, TopLevelKeys));
        var name = Scalar(root, "name");
        Assert.NotNull(name);
        Assert.Matches(NamePattern(), name);
    }

    [Fact]
    public void AzureYaml_HasOneFunctionService_PublishedFromTheFunctionsProject()
    {
        var services = (YamlMappingNode)Load().Children[new YamlScalarNode("services")];
        var (key, value) = Assert.Single(services.Children);
        var service = (YamlMappingNode)value;
        Assert.Equal("flow", ((YamlScalarNode)key).Value);
        Assert.All(service.Children.Keys, k => Assert.Contains(((YamlScalarNode)k).Value, ServiceKeys));
        Assert.Equal("function", Scalar(service, "host"));
        Assert.Contains(Scalar(service, "host"), Hosts);
        Assert.Equal("dotnet", Scalar(service, "language"));
        Assert.Contains(Scalar(service, "language"), Languages);

        // azd runs `dotnet publish <the project file in this folder> -c Release --output DIR`: exactly one project file.
        var project = Path.GetFullPath(Path.Combine(RepoPaths.Root, Scalar(service, "project")!));
        Assert.Single(Directory.GetFiles(project, "*.csproj"));
        Assert.True(File.Exists(Path.Combine(project, "..", "host.json")) || File.Exists(Path.Combine(project, "host.json")));
    }

    [Fact]
    public void AzureYaml_InfraPointsAtTheBicepModule_WithItsParametersFile()
    {
        var infra = (YamlMappingNode)Load().Children[new YamlScalarNode("infra")];
        Assert.Equal("bicep", Scalar(infra, "provider"));
        var folder = Path.Combine(RepoPaths.Root, Scalar(infra, "path")!);
        var module = Scalar(infra, "module") ?? "main";
        Assert.True(File.Exists(Path.Combine(folder, module + ".bicep")));
        var parameters = File.ReadAllText(Path.Combine(folder, module + ".parameters.json"));
        Assert.Contains("${AZURE_ENV_NAME}", parameters, StringComparison.Ordinal);
        Assert.Contains("${AZURE_LOCATION}", parameters, StringComparison.Ordinal);
        Assert.Contains("${AZURE_PRINCIPAL_ID}", parameters, StringComparison.Ordinal);
    }
}
