using System.Collections;
using System.Reflection;
using System.Text.Json;
using System.Text.Json.Nodes;
using Flow.Client;
using Flow.TestSupport;

namespace Flow.Functions.Tests;

/// <summary>
/// Flow.Client and the OpenAPI document the app serves cannot drift: every response type of the client is a schema of the
/// document, and each schema property exists on the client type with the same JSON type, and the other way round.
/// </summary>
public sealed class ClientContractTests(AzuriteFixture azurite)
{
    // Request bodies and query filters: the client writes them; the document describes responses (and the API binds its own specs).
    private static readonly HashSet<string> RequestTypes = [nameof(TriggerRunRequest), nameof(CancelRunRequest), nameof(RunFilter), nameof(AutomationRequest), nameof(EmitEventRequest), nameof(EventFilter)];

    [Fact]
    public async Task OpenApiDocument_DescribesEveryClientResponseType_WithTheSamePropertiesAndJsonTypes()
    {
        using var deadline = TestDeadline.Create(TimeSpan.FromSeconds(90));
        await using var app = await TestApp.StartAsync(azurite, deadline);
        var document = JsonNode.Parse(await app.Client.GetStringAsync("/api/openapi.json", deadline.Token))!;
        var schemas = document["components"]!["schemas"]!.AsObject();

        var responseTypes = typeof(FlowClient).Assembly.GetExportedTypes()
            .Where(t => t.GetCustomAttribute<System.Runtime.CompilerServices.CompilerGeneratedAttribute>() is null
                && t.GetMethod("<Clone>$") is not null
                && !RequestTypes.Contains(t.Name)
                && t != typeof(ProblemDetailsView))
            .ToList();
        Assert.Contains(typeof(RunView), responseTypes);

        var mismatches = new List<string>();
        foreach (var type in responseTypes)
        {
            if (schemas[type.Name] is not JsonObject schema)
            {
                mismatches.Add($"{type.Name}: no schema of that name in /api/openapi.json (declare it with .Produces<{type.Name}>() on its endpoint)");
                continue;
            }

            var properties = schema["properties"]?.AsObject() ?? [];
            var clientProperties = type.GetProperties(BindingFlags.Public | BindingFlags.Instance)
                .Where(p => p.Name != "EqualityContract")
                .ToDictionary(p => FlowJson.Options.PropertyNamingPolicy!.ConvertName(p.Name), StringComparer.Ordinal);
            foreach (var (name, node) in properties)
            {
                if (!clientProperties.TryGetValue(name, out var property))
                {
                    mismatches.Add($"{type.Name}.{name}: in the document, not on the client type");
                    continue;
                }

                var expected = JsonType(property.PropertyType);
                var actual = SchemaTypes(node!, schemas);
                if (expected is not null && !actual.SetEquals([expected]))
                {
                    mismatches.Add($"{type.Name}.{name}: the client's {property.PropertyType.Name} is {expected}; the document says {string.Join("|", actual.Order())}");
                }
            }

            foreach (var name in clientProperties.Keys.Where(n => !properties.ContainsKey(n)))
            {
                mismatches.Add($"{type.Name}.{name}: on the client type, not in the document");
            }
        }

        Assert.True(mismatches.Count == 0, "Flow.Client and /api/openapi.json differ:\n" + string.Join("\n", mismatches));
    }

    [Theory]
    [InlineData(typeof(DeploymentRequest), typeof(Flow.ControlPlane.DeploymentSpec))]
    [InlineData(typeof(WorkPoolRequest), typeof(Flow.ControlPlane.WorkPoolSpec))]
    public void ClientRequestTypes_HaveTheJsonShapeOfTheSpecsTheApiBinds(Type client, Type spec)
    {
        var mismatches = new List<string>();
        CompareShapes(client, spec, client.Name, mismatches);

        Assert.True(mismatches.Count == 0, "Flow.Client's request types and the API's specs differ:\n" + string.Join("\n", mismatches));
    }

    [Fact]
    public async Task PutDeploymentAndPool_ThroughTheTypedClient_AreStoredAsWritten_AndABadFieldIsNamed()
    {
        using var deadline = TestDeadline.Create(TimeSpan.FromSeconds(90));
        await using var app = await TestApp.StartAsync(azurite, deadline);
        using var client = new FlowClient(app.Client.BaseAddress!, TestApp.ApiKey);

        var pool = await client.PutWorkPoolAsync("typed-pool", new WorkPoolRequest { ConcurrencyLimit = 3, Description = "typed" }, deadline.Token);
        Assert.Equal(3, pool.ConcurrencyLimit);
        var deployment = await client.PutDeploymentAsync("greet/typed", new DeploymentRequest
        {
            Pool = "typed-pool",
            Parameters = JsonDocument.Parse("{\"name\":\"Ada\"}").RootElement,
            Tags = new Dictionary<string, string> { ["team"] = "data" },
            Schedules = [new ScheduleRequest { Cron = "0 6 * * *", Timezone = "Europe/Paris" }],
        }, deadline.Token);
        Assert.Equal("typed-pool", deployment.Pool);
        Assert.Equal("data", deployment.Tags!["team"]);
        Assert.Equal("0 6 * * *", Assert.Single(deployment.Schedules).Cron);

        var bad = await Assert.ThrowsAsync<FlowApiException>(() => client.PutDeploymentAsync("greet/typed", new DeploymentRequest
        {
            Schedules = [new ScheduleRequest { Cron = "not a cron" }],
        }, deadline.Token));
        Assert.Equal(System.Net.HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Contains("schedules[0].cron", bad.Errors.Keys);
    }

    private static void CompareShapes(Type client, Type spec, string path, List<string> mismatches)
    {
        static Dictionary<string, Type> Properties(Type type) => type.GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Where(p => p.Name != "EqualityContract")
            .ToDictionary(p => FlowJson.Options.PropertyNamingPolicy!.ConvertName(p.Name), p => p.PropertyType, StringComparer.Ordinal);

        var clientProperties = Properties(client);
        var specProperties = Properties(spec);
        foreach (var name in specProperties.Keys.Except(clientProperties.Keys))
        {
            mismatches.Add($"{path}.{name}: the API reads it, the client cannot write it");
        }

        foreach (var name in clientProperties.Keys.Except(specProperties.Keys))
        {
            mismatches.Add($"{path}.{name}: the client writes it, the API ignores it");
        }

        foreach (var name in clientProperties.Keys.Intersect(specProperties.Keys))
        {
            var (c, s) = (Element(clientProperties[name]), Element(specProperties[name]));
            if (c.Namespace == "Flow.Client" && s.Namespace == "Flow.ControlPlane")
            {
                CompareShapes(c, s, $"{path}.{name}", mismatches);
            }
            else if (JsonType(clientProperties[name]) != JsonType(specProperties[name]) || c != s)
            {
                mismatches.Add($"{path}.{name}: the client's {clientProperties[name].Name}, the API's {specProperties[name].Name}");
            }
        }
    }

    /// <summary>The element type of a list, the value type of a dictionary, or the type itself (nullable unwrapped).</summary>
    private static Type Element(Type type)
    {
        type = Nullable.GetUnderlyingType(type) ?? type;
        return type.IsGenericType && type != typeof(string) && typeof(IEnumerable).IsAssignableFrom(type) ? type.GetGenericArguments()[^1] : type;
    }

    [Fact]
    public async Task OpenApiDocument_WritesIntegersAsIntegers_NotAsStringOrNumber()
    {
        using var deadline = TestDeadline.Create(TimeSpan.FromSeconds(90));
        await using var app = await TestApp.StartAsync(azurite, deadline);
        var text = await app.Client.GetStringAsync("/api/openapi.json", deadline.Token);
        var attempt = JsonNode.Parse(text)!["components"]!["schemas"]!["RunView"]!["properties"]!["attempt"]!;

        Assert.Equal("integer", attempt["type"]!.GetValue<string>());
        Assert.DoesNotContain("\"pattern\": \"^-?(?:0|[1-9]\\\\d*)$\"", text, StringComparison.Ordinal);
    }

    /// <summary>The JSON type a client property serializes to, or null when any JSON value fits (<see cref="JsonElement"/>).</summary>
    private static string? JsonType(Type type)
    {
        type = Nullable.GetUnderlyingType(type) ?? type;
        return type switch
        {
            _ when type == typeof(JsonElement) => null,
            _ when type == typeof(string) || type == typeof(DateTimeOffset) || type == typeof(DateTime) || type == typeof(TimeSpan) || type.IsEnum => "string",
            _ when type == typeof(int) || type == typeof(long) => "integer",
            _ when type == typeof(double) || type == typeof(decimal) || type == typeof(float) => "number",
            _ when type == typeof(bool) => "boolean",
            _ when type.IsGenericType && type.GetGenericTypeDefinition() is var d && (d == typeof(IReadOnlyDictionary<,>) || d == typeof(IDictionary<,>) || d == typeof(Dictionary<,>)) => "object",
            _ when typeof(IEnumerable).IsAssignableFrom(type) => "array",
            _ => "object",
        };
    }

    /// <summary>The JSON types a property schema allows, <c>null</c> left out; a reference counts as the referenced schema's type.</summary>
    private static HashSet<string> SchemaTypes(JsonNode schema, JsonObject schemas)
    {
        var types = new HashSet<string>(StringComparer.Ordinal);
        if (schema["$ref"] is { } reference)
        {
            var target = schemas[reference.GetValue<string>().Split('/')[^1]];
            types.UnionWith(target is null ? ["object"] : SchemaTypes(target, schemas) is { Count: > 0 } t ? t : ["object"]);
        }

        if (schema["enum"] is JsonArray values && values.All(v => v is null || v.GetValueKind() == JsonValueKind.String))
        {
            types.Add("string");
        }

        switch (schema["type"])
        {
            case JsonValue single:
                types.Add(single.GetValue<string>());
                break;
            case JsonArray many:
                types.UnionWith(many.Select(t => t!.GetValue<string>()));
                break;
        }

        foreach (var key in new[] { "oneOf", "anyOf", "allOf" })
        {
            if (schema[key] is JsonArray options)
            {
                foreach (var option in options)
                {
                    types.UnionWith(SchemaTypes(option!, schemas));
                }
            }
        }

        types.Remove("null");
        return types;
    }
}
