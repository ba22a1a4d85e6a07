using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json;
using Flow.Engine;
using Flow.Storage.Azure;
using Flow.TestSupport;

namespace Flow.Functions.Tests;

/// <summary>
/// The bounds on input (docs/input-limits.md): YAML aliases refused before they expand, applies that write all or nothing,
/// query errors as problem details, and oversize run requests settled in one delivery on both queue paths.
/// </summary>
public sealed class InputLimitTests(AzuriteFixture azurite)
{
    /// <summary>A 341-byte-class "billion laughs": nine levels of aliases, each nine times the one before (9^9 strings if expanded).</summary>
    internal static string AliasBomb()
    {
        var text = new StringBuilder("a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n");
        for (var level = 'b'; level <= 'i'; level++)
        {
            var previous = (char)(level - 1);
            text.Append(level).Append(": &").Append(level).Append(" [").Append(string.Join(",", Enumerable.Repeat("*" + previous, 9))).Append("]\n");
        }

        return text.ToString();
    }

    [Fact]
    public async Task ApplyYaml_NineLevelAliasBomb_Answers400NamingTheLineWithinOneSecondAndMemoryStaysFlat()
    {
        using var deadline = TestDeadline.Create(TimeSpan.FromSeconds(60));
        await using var app = await TestApp.StartAsync(azurite, deadline);
        await app.SendAsync(HttpMethod.Get, "/api/deployments", null, deadline); // warm the path
        GC.Collect();
        var before = Environment.WorkingSet;
        var allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);

        var watch = Stopwatch.StartNew();
        var (response, problem) = await app.SendAsync(HttpMethod.Post, "/api/deployments/apply", null, deadline, AliasBomb(), "application/yaml");
        watch.Stop();

        var allocated = GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore;
        var grown = Environment.WorkingSet - before;
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains("line 1", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Contains("Anchors", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(1), $"took {watch.ElapsedMilliseconds} ms");
        Assert.True(grown < 50L * 1024 * 1024, $"the process grew by {grown / (1024 * 1024)} MB");
        Assert.True(allocated < 50L * 1024 * 1024, $"the request allocated {allocated / (1024 * 1024)} MB");
    }

    [Fact]
    public async Task ApplyFile_ValidPoolAndInvalidDeployment_Answers400AndLeavesNothingBehind()
    {
        using var deadline = TestDeadline.Create(TimeSpan.FromSeconds(60));
        await using var app = await TestApp.StartAsync(azurite, deadline);
        var file = """
            workPools:
              - name: batch
                concurrencyLimit: 2
            deployments:
              - flow: greet
                name: ok
                pool: batch
                parameters: {name: Ada}
              - flow: greet
                name: broken
                pool: batch
                schedules:
                  - cron: "61 * * * *"
            """;

        var (response, problem) = await app.SendAsync(HttpMethod.Post, "/api/deployments/apply", null, deadline, file, "application/yaml");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.True(problem.GetProperty("errors").TryGetProperty("deployments[1].schedules[0].cron", out _), problem.ToString());
        var (_, pools) = await app.SendAsync(HttpMethod.Get, "/api/work-pools", null, deadline);
        Assert.DoesNotContain(pools.EnumerateArray(), p => p.GetProperty("name").GetString() == "batch");
        var (_, deployments) = await app.SendAsync(HttpMethod.Get, "/api/deployments", null, deadline);
        Assert.Equal(0, deployments.GetArrayLength());
    }

    [Fact]
    public async Task RecordInputFieldWithoutDefault_MissingFromDeploymentOrTrigger_Answers400NamingItRequiredAndNoRunStarts()
    {
        using var deadline = TestDeadline.Create(TimeSpan.FromSeconds(60));
        await using var app = await TestApp.StartAsync(azurite, deadline);

        var (saved, problem) = await app.SendAsync(HttpMethod.Put, "/api/deployments/greet/hello", null, deadline, """{"parameters":{}}""");
        var (adhoc, _) = await app.SendAsync(HttpMethod.Put, "/api/deployments/greet/adhoc", null, deadline, "{}");
        var (triggered, triggerProblem) = await app.SendAsync(HttpMethod.Post, "/api/deployments/greet/adhoc/runs", null, deadline, "{}");

        Assert.Equal(HttpStatusCode.BadRequest, saved.StatusCode);
        Assert.Equal("parameters.name: required", problem.GetProperty("detail").GetString());
        Assert.Equal(HttpStatusCode.Created, adhoc.StatusCode); // parameters left to each trigger
        Assert.Equal(HttpStatusCode.BadRequest, triggered.StatusCode);
        Assert.Equal("parameters.name: required", triggerProblem.GetProperty("detail").GetString());
        var (_, runs) = await app.SendAsync(HttpMethod.Get, "/api/runs?deployment=greet/adhoc", null, deadline);
        Assert.Equal(0, runs.GetProperty("runs").GetArrayLength());
    }

    [Theory]
    [InlineData("/api/runs?pageSize=abc", "pageSize")]
    [InlineData("/api/run-requests/rejected?count=abc", "count")]
    [InlineData("/api/runs/some-run/logs?pageSize=1e3", "pageSize")]
    [InlineData("/api/deployments/greet/x/schedule?count=ten", "count")]
    public async Task Query_NotANumber_Answers400ProblemNamingTheParameter(string path, string parameter)
    {
        using var deadline = TestDeadline.Create(TimeSpan.FromSeconds(60));
        await using var app = await TestApp.StartAsync(azurite, deadline);

        var (response, problem) = await app.SendAsync(HttpMethod.Get, path, null, deadline);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains("whole number", problem.GetProperty("errors").GetProperty(parameter)[0].GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunRequestQueue_SixtyKilobyteInvalidMessages_AreEachRefusedOnceTruncatedByBytesAndNothingIsLeftOrPoisoned()
    {
        using var deadline = TestDeadline.Create(TimeSpan.FromSeconds(90));
        await using var app = await TestApp.StartAsync(azurite, deadline);
        var queue = app.QueuePrefix + "run-requests";
        var padding = new string('x', 60_000);
        string[] raw =
        [
            .. Enumerable.Range(0, 6).Select(i => $$$"""{"deployment":"greet/nope{{{i}}}","parameters":{"pad":"{{{padding}}}"}}"""),
            .. Enumerable.Range(0, 4).Select(i => i + new string('é', 30_000)), // 60,001 bytes of UTF-8 that is not JSON
            "[1,2,3]",
        ];
        string[] base64 = [.. Enumerable.Range(0, 2).Select(i => $$$"""{"deployment":"greet/x{{{i}}}","parameters":{"name":"{{{string.Concat(Enumerable.Repeat("😀", 11_000))}}}"}}""")];

        await StandaloneTriggerTests.SendWithJsSdkAsync(azurite, queue, "queue-send-raw", raw, deadline);
        await StandaloneTriggerTests.SendWithJsSdkAsync(azurite, queue, "queue-send", base64, deadline);

        JsonElement rejected = default;
        await deadline.PollUntilAsync(async ct =>
        {
            (_, rejected) = await app.SendAsync(HttpMethod.Get, "/api/run-requests/rejected?count=100", null, ct);
            return rejected.GetArrayLength() >= raw.Length + base64.Length;
        }, "every message to be refused and recorded");

        Assert.Equal(raw.Length + base64.Length, rejected.GetArrayLength());
        Assert.Equal(rejected.GetArrayLength(), rejected.EnumerateArray().Select(r => r.GetProperty("id").GetString()).Distinct().Count());
        foreach (var entry in rejected.EnumerateArray())
        {
            var body = entry.GetProperty("body").GetString()!;
            Assert.True(Encoding.UTF8.GetByteCount(body) <= 32 * 1024, $"a stored body has {Encoding.UTF8.GetByteCount(body)} bytes");
            if (body != "[1,2,3]")
            {
                Assert.Contains("[truncated: the original is", body, StringComparison.Ordinal);
            }
            else
            {
                Assert.Contains("expected a JSON object", entry.GetProperty("reason").GetString(), StringComparison.OrdinalIgnoreCase);
            }
        }

        var work = app.Service<AzureWorkQueue>();
        await deadline.PollUntilAsync(async ct => await app.Service<FlowEngine>().Queue.GetApproximateCountAsync("run-requests", ct) == 0, "the queue to be empty");
        var poison = await work.GetPoisonQueueClient("run-requests").GetPropertiesAsync(deadline);
        Assert.Equal(0, poison.Value.ApproximateMessagesCount);
    }

    [Fact]
    public async Task RunRequestInvocation_SixtyKilobyteMessage_AnswersOkAndRecordsATruncatedBodyWithItsSize()
    {
        using var deadline = TestDeadline.Create(TimeSpan.FromSeconds(60));
        await using var app = await InvocationContractTests.StartFunctionsModeAsync(azurite, deadline);
        var message = $$$"""{"deployment":"greet/none","parameters":{"name":"{{{new string('ü', 30_000)}}}"}}""";

        var (status, body) = await InvocationContractTests.InvokeAsync(app, "run-requests", InvocationContractTests.HostPayload("message", message, "msg-60k", "1"), deadline);

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Contains("refused", body.GetProperty("Logs")[0].GetString(), StringComparison.Ordinal);
        var (_, rejected) = await app.SendAsync(HttpMethod.Get, "/api/run-requests/rejected", null, deadline);
        var entry = Assert.Single(rejected.EnumerateArray());
        var stored = entry.GetProperty("body").GetString()!;
        Assert.True(Encoding.UTF8.GetByteCount(stored) <= 32 * 1024);
        Assert.EndsWith($"[truncated: the original is {Encoding.UTF8.GetByteCount(message):N0} UTF-8 bytes]", stored, StringComparison.Ordinal);
        Assert.StartsWith(message[..1000], stored, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunRequestInvocation_JsonArray_IsRefusedAsNotAnObjectWithoutDotNetNames()
    {
        using var deadline = TestDeadline.Create(TimeSpan.FromSeconds(60));
        await using var app = await InvocationContractTests.StartFunctionsModeAsync(azurite, deadline);

        await InvocationContractTests.InvokeAsync(app, "run-requests", InvocationContractTests.HostPayload("message", "[1,2,3]", "msg-array", "1"), deadline);
        await InvocationContractTests.InvokeAsync(app, "run-requests", InvocationContractTests.HostPayload("message", """{"deployment":"greet/x","scheduledTime":"soon"}""", "msg-time", "1"), deadline);

        var (_, rejected) = await app.SendAsync(HttpMethod.Get, "/api/run-requests/rejected", null, deadline);
        var reasons = rejected.EnumerateArray().ToDictionary(r => r.GetProperty("id").GetString()!, r => r.GetProperty("reason").GetString()!);
        Assert.Contains("expected a JSON object, not an array", reasons["msg-array"], StringComparison.OrdinalIgnoreCase);
        Assert.Contains("scheduledTime", reasons["msg-time"], StringComparison.Ordinal);
        Assert.Contains("date and time", reasons["msg-time"], StringComparison.Ordinal);
        Assert.All(reasons.Values, r => Assert.DoesNotContain("System.", r, StringComparison.Ordinal));
        Assert.All(reasons.Values, r => Assert.DoesNotContain("RunRequestMessage", r, StringComparison.Ordinal));
    }
}
