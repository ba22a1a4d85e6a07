using System.Net;
using Flow.TestSupport;

namespace Flow.Functions.Tests;

/// <summary>Every kind of bad input answers 4xx with problem details naming the field, and writes nothing.</summary>
public sealed class BadInputTests(AzuriteFixture azurite)
{
    public static TheoryData<string, string, string, int, string> Cases => new()
    {
        // name, path, body, expected status, field named in errors (or "" for a detail-only problem)
        { "malformed JSON", "/api/deployments/greet/x", "{\"parameters\": {", 400, "" },
        { "bad cron", "/api/deployments/greet/x", "{\"schedules\":[{\"cron\":\"61 * * * *\"}]}", 400, "schedules[0].cron" },
        { "cron with too many fields", "/api/deployments/greet/x", "{\"schedules\":[{\"cron\":\"* * * * * * *\"}]}", 400, "schedules[0].cron" },
        { "unknown time zone", "/api/deployments/greet/x", "{\"schedules\":[{\"cron\":\"0 6 * * *\",\"timezone\":\"Mars/Olympus\"}]}", 400, "schedules[0].timezone" },
        { "cron and interval", "/api/deployments/greet/x", "{\"schedules\":[{\"cron\":\"0 6 * * *\",\"interval\":60}]}", 400, "schedules[0]" },
        { "interval too short", "/api/deployments/greet/x", "{\"schedules\":[{\"interval\":0.5}]}", 400, "schedules[0].interval" },
        { "invalid deployment name", "/api/deployments/greet/bad%20name", "{}", 400, "name" },
        { "unknown flow", "/api/deployments/nope/x", "{}", 400, "flow" },
        { "wrong parameter type", "/api/deployments/greet/x", "{\"parameters\":{\"name\":\"a\",\"excitement\":\"lots\"}}", 400, "parameters.excitement" },
        { "unknown parameter", "/api/deployments/greet/x", "{\"parameters\":{\"name\":\"a\",\"loud\":true}}", 400, "parameters.loud" },
        { "parameters not an object", "/api/deployments/greet/x", "{\"parameters\":[1,2]}", 400, "parameters" },
        { "unknown field", "/api/deployments/greet/x", "{\"paramaters\":{}}", 400, "paramaters" },
        { "wrong field type", "/api/deployments/greet/x", "{\"concurrencyLimit\":\"one\"}", 400, "concurrencyLimit" },
        { "bad collision strategy", "/api/deployments/greet/x", "{\"parameters\":{\"name\":\"a\"},\"collisionStrategy\":\"drop\"}", 400, "collisionStrategy" },
        { "unknown pool", "/api/deployments/greet/x", "{\"parameters\":{\"name\":\"a\"},\"pool\":\"gpu\"}", 400, "pool" },
        { "process entrypoint without command", "/api/deployments/greet/x", "{\"entrypoint\":{\"kind\":\"process\"}}", 400, "entrypoint.command" },
        { "interval of a million years", "/api/deployments/greet/x", "{\"parameters\":{\"name\":\"a\"},\"schedules\":[{\"interval\":\"P1000000Y\"}]}", 400, "schedules[0].interval" },
        { "interval of 1e300 seconds", "/api/deployments/greet/x", "{\"parameters\":{\"name\":\"a\"},\"schedules\":[{\"interval\":1e300}]}", 400, "schedules[0].interval" },
        { "cron that never fires", "/api/deployments/greet/x", "{\"parameters\":{\"name\":\"a\"},\"schedules\":[{\"cron\":\"0 0 30 2 *\"}]}", 400, "schedules[0].cron" },
        { "number written as a string", "/api/deployments/greet/x", "{\"parameters\":{\"name\":\"a\"},\"concurrencyLimit\":\"5\"}", 400, "concurrencyLimit" },
        { "duplicate key", "/api/deployments/greet/x", "{\"parameters\":{\"name\":\"a\"},\"version\":\"1\",\"version\":\"2\"}", 400, "version" },
        { "duplicate key in parameters", "/api/deployments/greet/x", "{\"parameters\":{\"name\":\"a\",\"name\":\"b\"}}", 400, "parameters" },
        { "JSON nested 70 deep", "/api/deployments/greet/x", "{\"parameters\":" + string.Concat(Enumerable.Repeat("{\"a\":", 70)) + "1" + new string('}', 70) + "}", 400, "parameters" },
        { "record input without its required field", "/api/deployments/greet/x", "{\"parameters\":{\"excitement\":2}}", 400, "parameters.name" },
        { "scheduled record input without its required field", "/api/deployments/greet/x", "{\"schedules\":[{\"interval\":60}]}", 400, "schedules[0].parameters.name" },
        { "record input with empty parameters", "/api/deployments/greet/x", "{\"parameters\":{}}", 400, "parameters.name" },
        { "parameters not an object (in user terms)", "/api/work-pools/p", "[1,2,3]", 400, "" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task PutDeployment_BadInput_Returns4xxProblemNamingTheFieldAndStoresNothing(string name, string path, string body, int status, string field)
    {
        using var deadline = TestDeadline.Create(TimeSpan.FromSeconds(60));
        await using var app = await TestApp.StartAsync(azurite, deadline);

        var (response, problem) = await app.SendAsync(HttpMethod.Put, path, null, deadline, body);

        Assert.True(status == (int)response.StatusCode, $"{name}: expected {status}, got {(int)response.StatusCode}: {problem}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(status, problem.GetProperty("status").GetInt32());
        if (field.Length > 0)
        {
            Assert.True(problem.GetProperty("errors").TryGetProperty(field, out _), $"{name}: errors do not name {field}: {problem}");
        }

        // In the user's terms: no .NET type names.
        var detail = problem.GetProperty("detail").GetString()!;
        Assert.DoesNotContain("System.", detail, StringComparison.Ordinal);
        Assert.DoesNotContain("Flow.Engine", detail, StringComparison.Ordinal);
        Assert.DoesNotContain("`1", detail, StringComparison.Ordinal);

        var (_, all) = await app.SendAsync(HttpMethod.Get, "/api/deployments", null, deadline);
        Assert.Equal(0, all.GetArrayLength());
    }

    [Fact]
    public async Task TriggerRun_BadInput_Returns4xxProblems()
    {
        using var deadline = TestDeadline.Create(TimeSpan.FromSeconds(60));
        await using var app = await TestApp.StartAsync(azurite, deadline, new() { ["Flow:App:MaxRequestBodyBytes"] = "4096" });
        await app.SendAsync(HttpMethod.Put, "/api/deployments/greet/x", new { parameters = new { name = "a" } }, deadline);

        var (unknown, _) = await app.SendAsync(HttpMethod.Post, "/api/deployments/greet/missing/runs", null, deadline);
        var (wrongType, typeProblem) = await app.SendAsync(HttpMethod.Post, "/api/deployments/greet/x/runs", new { parameters = new { excitement = "x" } }, deadline);
        var (tooLarge, largeProblem) = await app.SendAsync(HttpMethod.Post, "/api/deployments/greet/x/runs", new { parameters = new { name = new string('a', 10_000) } }, deadline);
        var (malformed, _) = await app.SendAsync(HttpMethod.Post, "/api/deployments/greet/x/runs", null, deadline, "{]");
        var (badState, stateProblem) = await app.SendAsync(HttpMethod.Get, "/api/runs?state=Sleeping", null, deadline);
        var (badToken, tokenProblem) = await app.SendAsync(HttpMethod.Get, "/api/runs?continuationToken=forged", null, deadline);

        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, wrongType.StatusCode);
        Assert.True(typeProblem.GetProperty("errors").TryGetProperty("parameters.excitement", out _), typeProblem.ToString());
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, tooLarge.StatusCode);
        Assert.Contains("4,096", largeProblem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.BadRequest, malformed.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, badState.StatusCode);
        Assert.True(stateProblem.GetProperty("errors").TryGetProperty("state", out _));
        Assert.Equal(HttpStatusCode.BadRequest, badToken.StatusCode);
        Assert.True(tokenProblem.GetProperty("errors").TryGetProperty("continuationToken", out _));

        var (_, runs) = await app.SendAsync(HttpMethod.Get, "/api/runs?deployment=greet/x", null, deadline);
        Assert.Equal(0, runs.GetProperty("runs").GetArrayLength());
    }
}
