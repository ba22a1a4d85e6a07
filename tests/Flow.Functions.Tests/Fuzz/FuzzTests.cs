using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Flow.Engine;
using Flow.Process;
using Flow.Storage.Azure;
using Flow.TestSupport;

namespace Flow.Functions.Tests.Fuzz;

/// <summary>
/// A bounded, seeded fuzz of every HTTP endpoint (the process API with a valid run token included) and the run-request queue.
/// It asserts: no 5xx; every 4xx is problem+json (a 400 names the field); a refused write changes nothing (the listings are
/// compared before and after); every queue message is settled once (refused and recorded, or run) with nothing left or
/// poisoned; and the app is healthy and still runs flows at the end. It prints one machine-readable line of counts
/// (<c>FLOW_FUZZ {...}</c>). Set <c>FLOW_FUZZ_SEED</c> to replay another seed.
/// </summary>
public sealed class FuzzTests(AzuriteFixture azurite, ITestOutputHelper output)
{
    private const int MaxBodyBytes = 64 * 1024;
    private const int HttpCases = 1000;
    private const int QueueMessages = 100;

    /// <summary>
    /// False while the process API's own body handling is being fixed on another branch (issue 11 item 7): its 5xx and
    /// unnamed 400s are then printed and counted (<c>processApiFindings</c>) instead of failing the test. Set true once merged.
    /// </summary>
    private const bool ProcessApiIsStrict = true;

    [Fact]
    public async Task MalformedInputEverywhere_NeverAnswers5xx_AlwaysProblemDetails_WritesNothing_SettlesEveryMessageOnce()
    {
        using var deadline = TestDeadline.Create(TimeSpan.FromSeconds(120));
        var seed = int.TryParse(Environment.GetEnvironmentVariable("FLOW_FUZZ_SEED"), CultureInfo.InvariantCulture, out var s) ? s : 20261206;
        var random = new Random(seed);
        var watch = Stopwatch.StartNew();
        await using var app = await TestApp.StartAsync(azurite, deadline, new() { ["Flow:App:MaxRequestBodyBytes"] = MaxBodyBytes.ToString(CultureInfo.InvariantCulture) });

        // What the fuzz aims at: a deployment with a finished run, a run paused waiting for an event, and a process token for it.
        await Ok(app.SendAsync(HttpMethod.Put, "/api/deployments/greet/base", new { parameters = new { name = "Ada" } }, deadline));
        await Ok(app.SendAsync(HttpMethod.Put, "/api/deployments/wait-for-approval/gate", new { parameters = new { name = "Bo" } }, deadline));
        var (_, triggered) = await Ok(app.SendAsync(HttpMethod.Post, "/api/deployments/greet/base/runs", new { idempotencyKey = "fuzz-first" }, deadline));
        var (_, gated) = await Ok(app.SendAsync(HttpMethod.Post, "/api/deployments/wait-for-approval/gate/runs", new { }, deadline));
        var doneRun = triggered.GetProperty("id").GetString()!;
        var waitingRun = gated.GetProperty("id").GetString()!;
        await app.WaitForRunAsync(doneRun, r => r.GetProperty("state").GetString() == "Completed", deadline, "the seed run to complete");
        await app.WaitForRunAsync(waitingRun, r => r.GetProperty("state").GetString() == "Paused", deadline, "the gated run to wait");
        var token = await app.Service<RunTokens>().IssueAsync(waitingRun, TimeSpan.FromHours(1), deadline);
        var (_, storedRun) = await Ok(SendAsync(app, new FuzzRequest("seed", HttpMethod.Get, $"/api/process/runs/{waitingRun}/store", null, "application/json", "process", false), token, deadline));

        var requests = BuildRequests(random, doneRun, waitingRun, storedRun.GetRawText());
        var counts = new SortedDictionary<string, int>(StringComparer.Ordinal);
        var kinds = new SortedDictionary<string, int>(StringComparer.Ordinal);
        var failures = new List<string>();
        var processApiFindings = new List<string>();
        var gate = new object();
        void Judge(FuzzRequest request, int status, string text, string? mediaType)
        {
            lock (gate)
            {
                Count(counts, status.ToString(CultureInfo.InvariantCulture));
                Count(kinds, request.Kind);
                var where = $"{request.Method} {Shorten(request.Path)} [{request.Kind}] -> {status}: {Shorten(text)}";
                var findings = request.Area == "process" && !ProcessApiIsStrict ? processApiFindings : failures;
                if (status >= 500)
                {
                    findings.Add(where);
                }
                else if (status >= 400 && text.Length == 0 && mediaType is null && request.Path.Contains("%00", StringComparison.Ordinal))
                {
                    Count(counts, "refusedByKestrel"); // a NUL in the path: the HTTP server refuses the request line before the app sees it
                }
                else if (status >= 400)
                {
                    Count(counts, "problemJson", mediaType == "application/problem+json" ? 1 : 0);
                    if (CheckProblem(status, text, mediaType) is { } problem)
                    {
                        findings.Add(where + " — " + problem);
                    }
                    else if (status == 400)
                    {
                        Count(counts, "namedField");
                    }
                }
            }
        }

        // Requests that cannot write control-plane state go four at a time; the others one by one, each compared with the
        // listings before it: a refused write must leave deployments, pools and runs exactly as they were.
        await Parallel.ForEachAsync(requests.Where(r => !r.Mutates), new ParallelOptions { MaxDegreeOfParallelism = 4, CancellationToken = deadline }, async (request, ct) =>
        {
            using var response = await SendRawAsync(app, request, token, ct);
            Judge(request, (int)response.StatusCode, await response.Content.ReadAsStringAsync(ct), response.Content.Headers.ContentType?.MediaType);
        });
        var fingerprint = await FingerprintAsync(app, deadline);
        foreach (var request in requests.Where(r => r.Mutates))
        {
            using var response = await SendRawAsync(app, request, token, deadline);
            var status = (int)response.StatusCode;
            var text = await response.Content.ReadAsStringAsync(deadline);
            Judge(request, status, text, response.Content.Headers.ContentType?.MediaType);
            var after = await FingerprintAsync(app, deadline);
            if (status >= 400 && after != fingerprint)
            {
                failures.Add($"{request.Method} {Shorten(request.Path)} [{request.Kind}] -> {status} — a refused request changed the deployments, pools or runs");
            }

            fingerprint = after;
        }

        var httpElapsed = watch.Elapsed;
        var queue = await FuzzQueueAsync(app, random, deadline);
        var (healthResponse, health) = await app.SendAsync(HttpMethod.Get, "/api/health", null, deadline);
        var (_, finalRun) = await Ok(app.SendAsync(HttpMethod.Post, "/api/deployments/greet/base/runs", new { idempotencyKey = "fuzz-last" }, deadline));
        await app.WaitForRunAsync(finalRun.GetProperty("id").GetString()!, r => r.GetProperty("state").GetString() == "Completed", deadline, "a run after the fuzz to complete");

        var summary = JsonSerializer.Serialize(new
        {
            seed,
            httpRequests = requests.Count,
            byStatus = counts.Where(c => char.IsDigit(c.Key[0])).ToDictionary(),
            problemJson = counts.GetValueOrDefault("problemJson"),
            namedField = counts.GetValueOrDefault("namedField"),
            serverErrors = counts.Where(c => c.Key.StartsWith('5')).Sum(c => c.Value),
            refusedByKestrel = counts.GetValueOrDefault("refusedByKestrel"),
            processApiFindings = processApiFindings.Count,
            kinds,
            queueMessages = queue.Sent,
            queueRefused = queue.Refused,
            queueRuns = queue.Runs,
            httpSeconds = Math.Round(httpElapsed.TotalSeconds, 1),
            totalSeconds = Math.Round(watch.Elapsed.TotalSeconds, 1),
        });
        output.WriteLine("FLOW_FUZZ " + summary);
        Console.WriteLine("FLOW_FUZZ " + summary);
        foreach (var line in processApiFindings)
        {
            output.WriteLine("process API finding (owned by the process-API fix): " + line);
        }

        Assert.True(failures.Count == 0, $"{failures.Count} failures (seed {seed}):\n" + string.Join("\n", failures.Take(40)));
        Assert.Equal(HttpStatusCode.OK, healthResponse.StatusCode);
        Assert.Equal("healthy", health.GetProperty("status").GetString());
        Assert.True(requests.Count >= 1000);
    }

    private static List<FuzzRequest> BuildRequests(Random random, string doneRun, string waitingRun, string storedRun)
    {
        const string deployment = """{"parameters":{"name":"a","excitement":1},"schedules":[{"cron":"0 6 * * *","timezone":"UTC","parameters":{"excitement":2}}],"tags":{"t":"v"},"concurrencyLimit":2,"collisionStrategy":"enqueue","description":"d","version":"1","paused":true}""";
        const string pool = """{"type":"in-app","description":"d","concurrencyLimit":3,"paused":false}""";
        const string trigger = """{"parameters":{"name":"a","excitement":1},"idempotencyKey":"k1","scheduledTime":"2030-01-01T00:00:00Z","tags":{"a":"b"}}""";
        const string cancel = """{"reason":"r"}""";
        const string automation = """{"description":"d","enabled":true,"trigger":{"posture":"proactive","after":["flow-run.Running"],"expect":["flow-run.Completed","!x"],"match":{"flow":"greet"},"matchRelated":[{"role":"tag","id":"tag/p"}],"forEach":"id","within":60},"actions":[{"type":"call-webhook","url":"http://127.0.0.1:9/x","body":{"t":"{{ event.id }}"},"maxAttempts":2},{"type":"run-deployment","deployment":"greet/base","parameters":{"name":"{{ event.resource.labels.flow }}"}}]}""";
        const string logs = """{"lines":[{"message":"m","level":"Information"}]}""";
        const string task = """{"name":"t","state":"Completed","result":1,"startedAt":"2026-01-01T00:00:00Z"}""";
        const string artifact = """{"key":"k","type":"Markdown","data":"# x","description":"d"}""";
        var cache = "{\"key\":\"k\",\"runId\":\"" + waitingRun + "\",\"value\":\"1\",\"createdAt\":\"2026-01-01T00:00:00Z\"}";
        var commit = "{\"run\":" + storedRun + ",\"events\":[],\"inbox\":[]}";
        var enqueue = "{\"item\":{\"kind\":\"run\",\"runId\":\"" + waitingRun + "\"},\"delaySeconds\":1}";
        var process = "/api/process/runs/" + waitingRun;
        const string emitted = """{"id":"fuzz-e","kind":"ci.build.passed","resource":{"id":"repo/flow","labels":{"branch":"main"}},"related":[{"id":"team/data","role":"team"}],"payload":{"n":1}}""";

        // Endpoints with a JSON body: (path, valid body, area, mutates).
        (string Method, string Path, string Valid, string Area, bool Mutates)[] bodies =
        [
            ("PUT", "/api/deployments/greet/fuzz", deployment, "control", true),
            ("PUT", "/api/work-pools/fuzz-pool", pool, "control", true),
            ("PUT", "/api/automations/fuzz", automation, "control", true),
            ("POST", "/api/deployments/greet/base/runs", trigger, "control", true),
            ("POST", $"/api/runs/{doneRun}/cancel", cancel, "runs", true),
            ("POST", $"/api/runs/{waitingRun}/events/nothing", cancel, "runs", false),
            ("POST", $"/api/runs/{doneRun}/resume", cancel, "runs", false),
            ("POST", process + "/logs", logs, "process", false),
            ("POST", process + "/tasks", task, "process", false),
            ("POST", process + "/artifacts", artifact, "process", false),
            ("POST", process + "/store/commit", commit, "process", false),
            ("POST", process + "/store/journal", storedRun, "process", false),
            ("PUT", process + "/store/cache", cache, "process", false),
            ("POST", process + "/enqueue", enqueue, "process", false),
            ("POST", "/api/events", emitted, "events", true),
        ];

        // Endpoints with names in the path: the names get the tricks.
        string[] named =
        [
            "GET /api/deployments/{0}/{1}", "PUT /api/deployments/{0}/{1}", "DELETE /api/deployments/{0}/{1}", "POST /api/deployments/{0}/{1}/pause",
            "POST /api/deployments/{0}/{1}/resume", "POST /api/deployments/{0}/{1}/runs", "GET /api/deployments/{0}/{1}/schedule", "GET /api/work-pools/{0}",
            "PUT /api/work-pools/{0}", "POST /api/work-pools/{0}/pause", "POST /api/work-pools/{0}/resume", "GET /api/runs/{0}", "POST /api/runs/{0}/cancel",
            "GET /api/runs/{0}/logs", "GET /api/runs/{0}/artifacts", "POST /api/runs/{0}/events/{1}", "POST /api/runs/{0}/resume", "GET /api/process/runs/{0}",
            "GET " + process + "/store/journal/{0}/{1}", "GET " + process + "/store/cache?key={0}",
            "GET /api/automations/{0}", "PUT /api/automations/{0}", "DELETE /api/automations/{0}", "POST /api/automations/{0}/enable", "GET /api/automations/{0}/firings",
        ];

        // Query strings.
        string[] queries =
        [
            "/api/runs?pageSize={n}", "/api/runs?state={t}", "/api/runs?from={t}", "/api/runs?to={t}", "/api/runs?continuationToken={t}", "/api/runs?deployment={t}&flow={t}",
            "/api/run-requests/rejected?count={n}", "/api/deployments/greet/base/schedule?count={n}", $"/api/runs/{doneRun}/logs?pageSize={{n}}",
            $"/api/runs/{doneRun}/logs?continuationToken={{t}}", process + "/store/cache?key={t}", process + "/store/journal/{n}/{n}",
            "/api/automations/fuzz/firings?count={n}",
            "/api/events?pageSize={n}", "/api/events?since={t}&until={t}", "/api/events?kind={t}&resource={t}", "/api/events?continuationToken={t}",
        ];

        var list = new List<FuzzRequest>();
        while (list.Count < HttpCases)
        {
            switch (random.Next(10))
            {
                case < 5:
                    var (method, path, valid, area, mutates) = bodies[random.Next(bodies.Length)];
                    var (kind, body) = FuzzCorpus.MalformedJson(random, valid, MaxBodyBytes);
                    var contentType = random.Next(12) switch { 0 => "text/plain", 1 => "application/xml", 2 => "application/json; charset=utf-16", _ => "application/json" };
                    list.Add(new FuzzRequest(kind, new HttpMethod(method), path, body, contentType, area, mutates));
                    break;
                case 5:
                    var (yamlKind, yaml) = random.Next(4) == 0 ? FuzzCorpus.MalformedJson(random, """{"deployments":[{"flow":"greet","name":"a","parameters":{"name":"x"}}]}""", MaxBodyBytes) : FuzzCorpus.MalformedYaml(random, MaxBodyBytes);
                    list.Add(new FuzzRequest(yamlKind, HttpMethod.Post, "/api/deployments/apply", yaml, "application/yaml", "control", true));
                    break;
                case 6 or 7:
                    var parts = named[random.Next(named.Length)].Split(' ', 2);
                    var trick = FuzzCorpus.PathTricks[random.Next(FuzzCorpus.PathTricks.Length)];
                    var other = random.Next(2) == 0 ? "base" : FuzzCorpus.PathTricks[random.Next(FuzzCorpus.PathTricks.Length)];
                    var target = random.Next(3) == 0 ? string.Format(CultureInfo.InvariantCulture, parts[1], "greet", trick) : string.Format(CultureInfo.InvariantCulture, parts[1], trick, other);
                    list.Add(new FuzzRequest("path-trick", new HttpMethod(parts[0]), target, parts[0] == "GET" ? null : Encoding.UTF8.GetBytes("{}"), "application/json", target.StartsWith("/api/process", StringComparison.Ordinal) ? "process" : "control", parts[0] != "GET"));
                    break;
                case 8:
                    var query = queries[random.Next(queries.Length)]
                        .Replace("{n}", FuzzCorpus.BadNumbers[random.Next(FuzzCorpus.BadNumbers.Length)], StringComparison.Ordinal)
                        .Replace("{t}", FuzzCorpus.BadTexts[random.Next(FuzzCorpus.BadTexts.Length)], StringComparison.Ordinal);
                    list.Add(new FuzzRequest("bad-query", HttpMethod.Get, query, null, "application/json", query.StartsWith("/api/process", StringComparison.Ordinal) ? "process" : "runs", false));
                    break;
                default:
                    var key = random.GetItems<string>(["", new string('k', 300), "a b", "k%C3%A9", "../x", "%00", "a\tb"], 1)[0];
                    list.Add(new FuzzRequest("bad-header", HttpMethod.Post, $"/api/runs/{waitingRun}/events/x", Encoding.UTF8.GetBytes("\"v\""), "application/json", "runs", false, new Dictionary<string, string> { ["Idempotency-Key"] = key }));
                    break;
            }
        }

        return list;
    }

    private async Task<(int Sent, int Refused, int Runs)> FuzzQueueAsync(TestApp app, Random random, CancellationToken ct)
    {
        var raw = new List<string>();
        var encoded = new List<string>();
        var kinds = new SortedDictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < QueueMessages; i++)
        {
            var (kind, text) = FuzzCorpus.MalformedRunRequest(random);
            Count(kinds, kind);
            // base64 makes a message a third larger: oversize ones go as they are (up to the queue's 64 KiB)
            (random.Next(2) == 0 || Encoding.UTF8.GetByteCount(text) > 48 * 1024 ? raw : encoded).Add(text.Length == 0 ? " " : text);
        }

        var (_, before) = await app.SendAsync(HttpMethod.Get, "/api/runs?deployment=greet/base&pageSize=1000", null, ct);
        var runsBefore = before.GetProperty("runs").GetArrayLength();
        var name = app.QueuePrefix + "run-requests";
        await StandaloneTriggerTests.SendWithJsSdkAsync(azurite, name, "queue-send-raw", raw, ct);
        await StandaloneTriggerTests.SendWithJsSdkAsync(azurite, name, "queue-send", encoded, ct);

        var engine = app.Service<FlowEngine>();
        using (var settle = TestDeadline.Create(TimeSpan.FromSeconds(60)))
        {
            await settle.PollUntilAsync(async c => await engine.Queue.GetApproximateCountAsync("run-requests", c) == 0, "every run request to be settled");
        }

        var (_, rejected) = await app.SendAsync(HttpMethod.Get, "/api/run-requests/rejected?count=1000", null, ct);
        var (_, after) = await app.SendAsync(HttpMethod.Get, "/api/runs?deployment=greet/base&pageSize=1000", null, ct);
        var refused = rejected.GetArrayLength();
        var runs = after.GetProperty("runs").GetArrayLength() - runsBefore;
        var ids = rejected.EnumerateArray().Select(r => r.GetProperty("id").GetString()).ToList();
        Assert.Equal(ids.Count, ids.Distinct().Count());
        Assert.All(rejected.EnumerateArray(), r => Assert.True(Encoding.UTF8.GetByteCount(r.GetProperty("body").GetString() ?? string.Empty) <= 32 * 1024));
        Assert.All(rejected.EnumerateArray(), r => Assert.DoesNotContain("System.", r.GetProperty("reason").GetString(), StringComparison.Ordinal));
        var poison = await app.Service<AzureWorkQueue>().GetPoisonQueueClient("run-requests").GetPropertiesAsync(ct);
        Assert.Equal(0, poison.Value.ApproximateMessagesCount);

        // Each message is either refused and recorded once, or accepted as a run (a wrong type can land on a field that takes it).
        Assert.True(refused <= QueueMessages, $"{refused} refusals recorded for {QueueMessages} messages");
        Assert.True(refused == QueueMessages || runs >= 1, $"{QueueMessages - refused} messages were neither refused nor run");
        output.WriteLine("queue kinds: " + JsonSerializer.Serialize(kinds));
        return (QueueMessages, refused, runs);
    }

    private static async Task<string> FingerprintAsync(TestApp app, CancellationToken ct)
    {
        var deployments = await app.Client.GetStringAsync("/api/deployments", ct);
        var pools = await app.Client.GetStringAsync("/api/work-pools", ct);
        var automations = await app.Client.GetStringAsync("/api/automations", ct);
        var (_, runs) = await app.SendAsync(HttpMethod.Get, "/api/runs?pageSize=5", null, ct); // newest first: a new run shows at the top
        var ids = string.Join(",", runs.GetProperty("runs").EnumerateArray().Select(r => r.GetProperty("id").GetString()).Order(StringComparer.Ordinal));
        return deployments + "|" + pools + "|" + automations + "|" + ids;
    }

    private static string? CheckProblem(int status, string text, string? mediaType)
    {
        if (mediaType != "application/problem+json")
        {
            return $"not problem+json but {mediaType ?? "no content type"}";
        }

        try
        {
            using var document = JsonDocument.Parse(text);
            var root = document.RootElement;
            if (!root.TryGetProperty("status", out var code) || code.GetInt32() != status || !root.TryGetProperty("detail", out _))
            {
                return "the problem has no matching status or no detail";
            }

            if (status == 400 && (!root.TryGetProperty("errors", out var errors) || !errors.EnumerateObject().Any()))
            {
                return "a 400 that names no field";
            }

            var detail = root.GetProperty("detail").GetString() ?? string.Empty;
            return detail.Contains("System.", StringComparison.Ordinal) || detail.Contains("Flow.Engine.", StringComparison.Ordinal) ? "the detail shows .NET type names" : null;
        }
        catch (JsonException e)
        {
            return "the problem is not JSON: " + e.Message;
        }
    }

    private static async Task<HttpResponseMessage> SendRawAsync(TestApp app, FuzzRequest request, string token, CancellationToken ct)
    {
        using var message = new HttpRequestMessage(request.Method, new Uri(app.BaseAddress, request.Path));
        if (request.Body is not null)
        {
            message.Content = new ByteArrayContent(request.Body);
            message.Content.Headers.TryAddWithoutValidation("Content-Type", request.ContentType);
        }

        if (request.Path.StartsWith("/api/process/", StringComparison.Ordinal))
        {
            message.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        foreach (var (name, value) in request.Headers ?? new Dictionary<string, string>())
        {
            message.Headers.TryAddWithoutValidation(name, value);
        }

        return await app.Client.SendAsync(message, ct);
    }

    private static async Task<(HttpResponseMessage Response, JsonElement Body)> SendAsync(TestApp app, FuzzRequest request, string token, CancellationToken ct)
    {
        var response = await SendRawAsync(app, request, token, ct);
        var text = await response.Content.ReadAsStringAsync(ct);
        return (response, text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone());
    }

    private static async Task<(HttpResponseMessage Response, JsonElement Body)> Ok(Task<(HttpResponseMessage Response, JsonElement Body)> call)
    {
        var (response, body) = await call;
        Assert.True(response.IsSuccessStatusCode, $"{response.StatusCode}: {body}");
        return (response, body);
    }

    private static void Count(SortedDictionary<string, int> counts, string key, int by = 1) => counts[key] = counts.GetValueOrDefault(key) + by;

    private static string Shorten(string text) => text.Length <= 160 ? text : text[..157] + "...";
}
