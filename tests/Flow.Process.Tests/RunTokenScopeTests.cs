using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Flow.Engine.Storage;
using Flow.Sdk;
using Flow.TestSupport;
using Microsoft.Extensions.DependencyInjection;

namespace Flow.Process.Tests;

/// <summary>What a run token grants on the process API: its own run until that run ends, its own flow's task cache, and a 400 naming the field for every malformed body.</summary>
public sealed class RunTokenScopeTests(AzuriteFixture azurite, ITestOutputHelper output)
{
    [Fact]
    public async Task RunToken_AfterItsRunCompleted_CannotRewriteItsState()
    {
        using var deadline = TestDeadline.Create();
        await using var app = await ProcessTestApp.StartAsync(azurite, deadline);
        var runId = await app.TriggerAsync(await app.DeployAsync("quick", ["true"], deadline), deadline);
        Assert.Equal(RunState.Completed, (await app.WaitFinalAsync(runId, deadline)).State);
        using var http = await ClientForAsync(app, runId, deadline);

        using var read = await http.GetAsync($"/api/process/runs/{runId}/store", deadline);
        var stored = JsonSerializer.Deserialize<StoredRun>(await read.Content.ReadAsStringAsync(deadline), ProcessWire.Json)!;
        var rewrite = new RunCommit { ExpectedVersion = stored.Version, Run = stored.Record with { State = RunState.Failed, StateMessage = "rewritten" } };
        using var commit = await http.PostAsync($"/api/process/runs/{runId}/store/commit", Json(JsonSerializer.Serialize(rewrite, ProcessWire.Json)), deadline);
        using var logs = await http.PostAsync($"/api/process/runs/{runId}/logs", new StringContent("late line", Encoding.UTF8, "text/plain"), deadline);
        using var task = await http.PostAsync($"/api/process/runs/{runId}/tasks", Json("""{"name":"late","state":"Failed"}"""), deadline);

        Assert.Equal(HttpStatusCode.OK, read.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, commit.StatusCode);
        Assert.Contains("has ended (Completed)", await commit.Content.ReadAsStringAsync(deadline), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Forbidden, logs.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, task.StatusCode);
        var after = (await app.Store.GetRunAsync(runId, deadline))!.Record;
        Assert.Equal(RunState.Completed, after.State);
        Assert.Equal(stored.Record.JournalLength, after.JournalLength);
        Assert.DoesNotContain(await app.LogsAsync(runId, deadline), l => l.Message == "late line");
    }

    [Fact]
    public async Task RunToken_TaskCache_OnlyItsOwnFlowsEntries()
    {
        using var deadline = TestDeadline.Create();
        await using var app = await ProcessTestApp.StartAsync(azurite, deadline, hostWorker: false);
        var mine = await app.TriggerAsync(await app.DeployAsync("mine", ["true"], deadline, flow: "mine"), deadline);
        var sibling = await app.TriggerAsync(await app.DeployAsync("mine-too", ["true"], deadline, flow: "mine"), deadline);
        var other = await app.TriggerAsync(await app.DeployAsync("other", ["true"], deadline, flow: "other"), deadline);
        await app.Store.PutCacheEntryAsync(new CacheEntry("in-app-task:abc", "\"in-app result\"", "in-app-task", "some-in-app-run", DateTimeOffset.UtcNow, null), deadline);
        using var mineHttp = await ClientForAsync(app, mine, deadline);
        using var siblingHttp = await ClientForAsync(app, sibling, deadline);
        using var otherHttp = await ClientForAsync(app, other, deadline);

        var entry = new CacheEntry("shared-key", "\"planted\"", "task", mine, DateTimeOffset.UtcNow, null);
        using var plant = await mineHttp.PutAsync($"/api/process/runs/{mine}/store/cache", Json(JsonSerializer.Serialize(entry, ProcessWire.Json)), deadline);
        using var ownRead = await mineHttp.GetAsync($"/api/process/runs/{mine}/store/cache?key=shared-key", deadline);
        using var siblingRead = await siblingHttp.GetAsync($"/api/process/runs/{sibling}/store/cache?key=shared-key", deadline);
        using var otherRead = await otherHttp.GetAsync($"/api/process/runs/{other}/store/cache?key=shared-key", deadline);
        using var inAppRead = await mineHttp.GetAsync($"/api/process/runs/{mine}/store/cache?key=in-app-task:abc", deadline);

        Assert.Equal(HttpStatusCode.NoContent, plant.StatusCode);
        Assert.Equal(HttpStatusCode.OK, ownRead.StatusCode);
        var read = JsonSerializer.Deserialize<CacheEntry>(await ownRead.Content.ReadAsStringAsync(deadline), ProcessWire.Json)!;
        Assert.Equal(("shared-key", "\"planted\""), (read.Key, read.Value));
        Assert.Equal(HttpStatusCode.OK, siblingRead.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, otherRead.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, inAppRead.StatusCode);
        Assert.Null(await app.Store.GetCacheEntryAsync("shared-key", deadline));
        Assert.Equal("\"in-app result\"", (await app.Store.GetCacheEntryAsync("in-app-task:abc", deadline))?.Value);
    }

    [Fact]
    public async Task ProcessApi_MalformedBodies_Answer400ProblemNamingTheField()
    {
        using var deadline = TestDeadline.Create(TimeSpan.FromSeconds(90));
        await using var app = await ProcessTestApp.StartAsync(azurite, deadline, hostWorker: false);
        var runId = await app.TriggerAsync(await app.DeployAsync("target", ["true"], deadline), deadline);
        using var http = await ClientForAsync(app, runId, deadline);
        string[] paths = ["logs", "tasks", "artifacts", "store/commit", "store/journal", "store/cache", "enqueue"];
        string[] anywhere = ["", " ", "{", "{\"a\":", "[]", "[1,2]", "5", "\"text\"", "true", "null", "{\"lines\": ", "\u0001", "{}"];
        var specific = new List<(string Path, string Body)>
        {
            ("logs", """{"lines":5}"""), ("logs", """{"lines":[null]}"""), ("logs", """{"lines":[{"message":null}]}"""), ("logs", """{"lines":[{"message":5}]}"""),
            ("logs", """{"lines":[{"message":"x","timestamp":"yesterday"}]}"""), ("logs", """{"lines":{"message":"x"}}"""), ("logs", """{"lines":null}"""),
            ("tasks", """{"name":5,"state":"Completed"}"""), ("tasks", """{"name":null,"state":"Completed"}"""), ("tasks", """{"name":"t","state":null}"""), ("tasks", """{"name":"t","state":"Completed","startedAt":5}"""),
            ("tasks", """{"name":["t"],"state":"Completed"}"""),
            ("artifacts", """{"key":"k","type":"Markdown","data":null}"""), ("artifacts", """{"key":5,"type":"Markdown","data":"x"}"""), ("artifacts", """{"key":"k","type":7,"data":"x"}"""),
            ("store/commit", """{"expectedVersion":"v"}"""), ("store/commit", """{"expectedVersion":"v","run":null}"""), ("store/commit", """{"expectedVersion":5,"run":{}}"""),
            ("store/commit", """{"expectedVersion":"v","run":{"runId":5}}"""), ("store/commit", """{"expectedVersion":"v","run":[]}"""), ("store/commit", """{"expectedVersion":"v","run":{"runId":null},"events":null}"""),
            ("store/journal", """{"runId":5}"""), ("store/journal", """{"runId":null}"""), ("store/journal", """{"runId":[]}"""),
            ("store/cache", """{"key":null,"value":"1","taskName":"t","runId":"x","createdAt":"2026-01-01T00:00:00Z"}"""), ("store/cache", """{"key":"k","value":5}"""),
            ("store/cache", """{"key":"k","value":"1","taskName":"t","runId":"x","createdAt":"then"}"""),
            ("enqueue", """{"item":null,"delayMilliseconds":0}"""), ("enqueue", """{"item":5}"""), ("enqueue", """{"item":{"kind":"run"},"delayMilliseconds":"soon"}"""), ("enqueue", """{"item":{"kind":5}}"""),
        };
        var cases = paths.SelectMany(p => anywhere.Select(b => (Path: p, Body: b))).Concat(specific).ToList();

        var failures = new List<string>();
        foreach (var (path, body) in cases)
        {
            using var request = new HttpRequestMessage(path == "store/cache" ? HttpMethod.Put : HttpMethod.Post, $"/api/process/runs/{runId}/{path}") { Content = Json(body) };
            using var response = await http.SendAsync(request, deadline);
            var text = await response.Content.ReadAsStringAsync(deadline);
            var named = response.Content.Headers.ContentType?.MediaType == "application/problem+json"
                && JsonDocument.Parse(text).RootElement.TryGetProperty("errors", out var errors) && errors.EnumerateObject().Any(e => e.Name.Length > 0);
            if (response.StatusCode != HttpStatusCode.BadRequest || !named)
            {
                failures.Add($"{path} {body} -> {(int)response.StatusCode} {text}");
            }
        }

        using var noKey = await http.GetAsync($"/api/process/runs/{runId}/store/cache", deadline);
        using var emptyKey = await http.GetAsync($"/api/process/runs/{runId}/store/cache?key=", deadline);
        output.WriteLine($"{cases.Count + 2} malformed process API requests, {failures.Count} not a 400 naming the field");
        Assert.True(failures.Count == 0, string.Join("\n", failures));
        Assert.Equal(HttpStatusCode.BadRequest, noKey.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, emptyKey.StatusCode);
        Assert.Contains("\"key\"", await noKey.Content.ReadAsStringAsync(deadline), StringComparison.Ordinal);
        var run = (await app.Store.GetRunAsync(runId, deadline))!.Record;
        Assert.False(run.State.IsFinal());
        Assert.Equal(0, run.JournalLength);
        Assert.Empty(await app.LogsAsync(runId, deadline));
    }

    private static StringContent Json(string body) => new(body, Encoding.UTF8, "application/json");

    private static async Task<HttpClient> ClientForAsync(ProcessTestApp app, string runId, CancellationToken cancellationToken)
    {
        var token = await app.App.Services.GetRequiredService<RunTokens>().IssueAsync(runId, TimeSpan.FromMinutes(5), cancellationToken);
        var http = new HttpClient { BaseAddress = new Uri(app.ApiUrl) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return http;
    }
}
