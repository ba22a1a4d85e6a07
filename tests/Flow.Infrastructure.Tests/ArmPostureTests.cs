using System.Text.Json.Nodes;

namespace Flow.Infrastructure.Tests;

/// <summary>The compiled ARM template has the security posture Flow promises: identity only, no keys anywhere.</summary>
public sealed class ArmPostureTests(BicepCompilation compilation) : IClassFixture<BicepCompilation>
{
    private const string BlobDataOwner = "b7e6dc6d-f1e8-4753-8033-0f276bb0955b";
    private const string BlobDataContributor = "ba92f5b4-2d11-453d-a403-e96b0029c9fe";
    private const string QueueDataContributor = "974c5e8b-45b9-4653-ba55-5f855dd0fb88";
    private const string TableDataContributor = "0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3";
    private const string MonitoringMetricsPublisher = "3913510d-42f4-4e42-8a64-420c390055eb";

    /// <summary>The value of a main.bicep variable the expression names (<c>[variables('x')]</c>).</summary>
    private string MainVariable(string expression)
    {
        Assert.StartsWith("[variables('", expression, StringComparison.Ordinal);
        return (string)compilation.Arm["variables"]![expression["[variables('".Length..^"')]".Length]]!;
    }

    private JsonObject Single(string type) => Assert.Single(compilation.Resources(), r => (string?)r["type"] == type);

    [Theory]
    [InlineData("listKeys")]
    [InlineData("listkeys")]
    [InlineData("AccountKey")]
    [InlineData("DefaultEndpointsProtocol")]
    [InlineData("SharedAccessSignature")]
    [InlineData("listConnectionStrings")]
    [InlineData("InstrumentationKey=")]
    public void Template_ContainsNoKeyOrStorageConnectionString(string forbidden) =>
        Assert.DoesNotContain(forbidden, compilation.ArmText, StringComparison.Ordinal);

    [Fact]
    public void StorageAccount_SharedKeysAndPublicBlobsOff_Tls12()
    {
        var storage = Single("Microsoft.Storage/storageAccounts");
        var properties = storage["properties"]!;
        Assert.Equal("StorageV2", (string?)storage["kind"]);
        Assert.False((bool)properties["allowSharedKeyAccess"]!);
        Assert.False((bool)properties["allowBlobPublicAccess"]!);
        Assert.Equal("TLS1_2", (string?)properties["minimumTlsVersion"]);
        Assert.True((bool)properties["supportsHttpsTrafficOnly"]!);
        var container = Single("Microsoft.Storage/storageAccounts/blobServices/containers");
        Assert.Equal("None", (string?)container["properties"]!["publicAccess"]);
    }

    [Fact]
    public void Plan_IsFlexConsumptionFc1OnLinux()
    {
        var plan = Single("Microsoft.Web/serverfarms");
        Assert.Equal("FC1", (string?)plan["sku"]!["name"]);
        Assert.Equal("FlexConsumption", (string?)plan["sku"]!["tier"]);
        Assert.True((bool)plan["properties"]!["reserved"]!);
    }

    [Fact]
    public void FunctionApp_RunsCustomHandlerWithIdentityDeploymentStorageAndScaleParameters()
    {
        var site = Single("Microsoft.Web/sites");
        Assert.Equal("functionapp,linux", (string?)site["kind"]);
        Assert.Equal("UserAssigned", (string?)site["identity"]!["type"]);
        Assert.True((bool)site["properties"]!["httpsOnly"]!);
        Assert.Contains("'azd-service-name'", (string?)site["tags"], StringComparison.Ordinal);
        var config = site["properties"]!["functionAppConfig"]!;
        Assert.Equal("custom", (string?)config["runtime"]!["name"]);
        Assert.Equal("blobContainer", (string?)config["deployment"]!["storage"]!["type"]);
        var authentication = config["deployment"]!["storage"]!["authentication"]!;
        Assert.Equal("UserAssignedIdentity", (string?)authentication["type"]);
        Assert.Equal("[parameters('identityId')]", (string?)authentication["userAssignedIdentityResourceId"]);
        Assert.Equal("[parameters('instanceMemoryMB')]", (string?)config["scaleAndConcurrency"]!["instanceMemoryMB"]);
        Assert.Equal("[parameters('maximumInstanceCount')]", (string?)config["scaleAndConcurrency"]!["maximumInstanceCount"]);

        var main = compilation.Arm["parameters"]!;
        Assert.NotNull(main["instanceMemoryMB"]);
        Assert.NotNull(main["maximumInstanceCount"]);
    }

    [Fact]
    public void FunctionApp_SettingsAreIdentityBasedOnly()
    {
        var site = Single("Microsoft.Web/sites");
        var settings = site["properties"]!["siteConfig"]!["appSettings"]!.AsArray()
            .ToDictionary(s => (string)s!["name"]!, s => (string?)s!["value"]);

        Assert.Equal("managedidentity", settings["AzureWebJobsStorage__credential"]);
        Assert.Equal("[parameters('identityClientId')]", settings["AzureWebJobsStorage__clientId"]);
        Assert.Equal("[parameters('blobEndpoint')]", settings["AzureWebJobsStorage__blobServiceUri"]);
        Assert.Equal("[parameters('queueEndpoint')]", settings["AzureWebJobsStorage__queueServiceUri"]);
        Assert.Equal("[parameters('tableEndpoint')]", settings["AzureWebJobsStorage__tableServiceUri"]);
        Assert.Equal("[format('ClientId={0};Authorization=AAD', parameters('identityClientId'))]", settings["APPLICATIONINSIGHTS_AUTHENTICATION_STRING"]);
        Assert.DoesNotContain("AzureWebJobsStorage", settings.Keys);
        Assert.DoesNotContain("FUNCTIONS_WORKER_RUNTIME", settings.Keys);
        Assert.DoesNotContain("WEBSITE_RUN_FROM_PACKAGE", settings.Keys);

        // The only *CONNECTION_STRING setting locates Application Insights; with local auth off it admits nobody without Entra ID.
        Assert.Equal(["APPLICATIONINSIGHTS_CONNECTION_STRING"], settings.Keys.Where(k => k.Contains("CONNECTION", StringComparison.OrdinalIgnoreCase)));
        Assert.Contains(".ConnectionString", settings["APPLICATIONINSIGHTS_CONNECTION_STRING"], StringComparison.Ordinal);
    }

    [Fact]
    public void Publishing_WithBasicCredentials_IsOff()
    {
        var policies = compilation.Resources().Where(r => (string?)r["type"] == "Microsoft.Web/sites/basicPublishingCredentialsPolicies").ToList();
        Assert.Equal(2, policies.Count);
        Assert.All(policies, p => Assert.False((bool)p["properties"]!["allow"]!));
    }

    [Fact]
    public void Monitoring_LocalAuthIsOff()
    {
        var insights = Single("Microsoft.Insights/components");
        Assert.True((bool)insights["properties"]!["DisableLocalAuth"]!);
        Assert.NotNull(insights["properties"]!["WorkspaceResourceId"]);
        var workspace = Single("Microsoft.OperationalInsights/workspaces");
        Assert.True((bool)workspace["properties"]!["features"]!["disableLocalAuth"]!);
    }

    [Fact]
    public void AppIdentity_GetsExactlyItsRoles_ScopedToStorageAndAppInsights_EachWithAReason()
    {
        var module = compilation.Module("app-roles");
        var parameters = module["properties"]!["parameters"]!;
        Assert.Equal("ServicePrincipal", (string?)parameters["principalType"]!["value"]);
        Assert.Contains("'Microsoft.Resources/deployments', 'identity')", (string?)parameters["principalId"]!["value"], StringComparison.Ordinal);
        Assert.EndsWith(".outputs.principalId.value]", (string?)parameters["principalId"]!["value"], StringComparison.Ordinal);
        var roles = parameters["storageRoles"]!["value"]!.AsArray();
        Assert.Equal(new[] { BlobDataOwner, QueueDataContributor, TableDataContributor }.Order(), roles.Select(r => MainVariable((string)r!["roleDefinitionId"]!)).Order());
        Assert.All(roles, r => Assert.False(string.IsNullOrWhiteSpace((string?)r!["reason"])));
        Assert.False(string.IsNullOrWhiteSpace((string?)parameters["monitoringReason"]!["value"]));
        Assert.Contains("applicationInsightsName", (string?)parameters["applicationInsightsName"]!["value"], StringComparison.Ordinal);
        AssertAssignmentsScoped(module);
    }

    [Fact]
    public void DeployingUser_GetsDataAccessOnlyWhenPrincipalIdIsGiven()
    {
        var module = compilation.Module("user-roles");
        Assert.Equal("[not(empty(parameters('principalId')))]", (string?)module["condition"]);
        var parameters = module["properties"]!["parameters"]!;
        Assert.Null(parameters["applicationInsightsName"]);
        var roles = parameters["storageRoles"]!["value"]!.AsArray();
        Assert.Equal(new[] { BlobDataContributor, QueueDataContributor, TableDataContributor }.Order(), roles.Select(r => MainVariable((string)r!["roleDefinitionId"]!)).Order());
        Assert.All(roles, r => Assert.False(string.IsNullOrWhiteSpace((string?)r!["reason"])));
        AssertAssignmentsScoped(module);
    }

    [Fact]
    public void Outputs_AzdNeeds_ArePresentAndHoldNoSecret()
    {
        var outputs = compilation.Arm["outputs"]!.AsObject();
        foreach (var name in new[] { "AZURE_FUNCTION_APP_NAME", "AZURE_RESOURCE_GROUP", "AZURE_LOCATION", "AZURE_TENANT_ID", "FLOW_API_URL", "AZURE_STORAGE_ACCOUNT_NAME", "AZURE_STORAGE_QUEUE_ENDPOINT", "AZURE_STORAGE_TABLE_ENDPOINT", "AZURE_STORAGE_BLOB_ENDPOINT" })
        {
            Assert.True(outputs.ContainsKey(name), $"output {name} is missing");
        }

        Assert.DoesNotContain(outputs, o => o.Key.Contains("CONNECTION", StringComparison.OrdinalIgnoreCase) || o.Key.Contains("KEY", StringComparison.OrdinalIgnoreCase));
        Assert.Equal(["environmentName", "location", "principalId"], compilation.Arm["parameters"]!.AsObject().Select(p => p.Key).Where(k => k is "environmentName" or "location" or "principalId"));
    }

    /// <summary>Storage roles are scoped to the storage account, Monitoring Metrics Publisher to the App Insights component, by role definition id.</summary>
    private static void AssertAssignmentsScoped(JsonObject module)
    {
        var template = module["properties"]!["template"]!.AsObject();
        var assignments = BicepCompilation.Entries(template["resources"]).Where(r => (string?)r["type"] == "Microsoft.Authorization/roleAssignments").ToList();
        var storage = Assert.Single(assignments, a => a["copy"] is not null);
        Assert.Equal("[resourceId('Microsoft.Storage/storageAccounts', parameters('storageAccountName'))]", (string?)storage["scope"]);
        Assert.Contains("subscriptionResourceId('Microsoft.Authorization/roleDefinitions', parameters('storageRoles')[copyIndex()].roleDefinitionId)", (string?)storage["properties"]!["roleDefinitionId"], StringComparison.Ordinal);
        Assert.Equal("[parameters('storageRoles')[copyIndex()].reason]", (string?)storage["properties"]!["description"]);

        var monitoring = Assert.Single(assignments, a => a["copy"] is null);
        Assert.Equal("[resourceId('Microsoft.Insights/components', parameters('applicationInsightsName'))]", (string?)monitoring["scope"]);
        Assert.Equal(MonitoringMetricsPublisher, (string?)template["variables"]!["monitoringMetricsPublisher"]);
        Assert.Contains("variables('monitoringMetricsPublisher')", (string?)monitoring["properties"]!["roleDefinitionId"], StringComparison.Ordinal);
        Assert.Equal("[not(empty(parameters('applicationInsightsName')))]", (string?)monitoring["condition"]);
    }
}
