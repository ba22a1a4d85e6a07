using System.Net;
using Flow.TestSupport;

namespace Flow.Functions.Tests;

/// <summary>Deployments, work pools and triggering over real HTTP against Azurite.</summary>
public sealed class DeploymentApiTests(AzuriteFixture azurite)
{
    private static object Greeter(object? schedules = null, int? limit = null, string? collision = null) => new
    {
        parameters = new { name = "Ada" },
        tags = new Dictionary<string, string> { ["team"] = "core" },
        description = "says hello",
        version = "1.0",
        concurrencyLimit = limit,
        collisionStrategy = collision,
        schedules,
    };

    [Fact]
    public async Task PutDeployment_New_Returns201AndGetReturnsIt()
    {
        using var deadline = TestDeadline.Create(TimeSpan.FromSeconds(60));
        await using var app = await TestApp.StartAsync(azurite, deadline);

        var (created, body) = await app.SendAsync(HttpMethod.Put, "/api/deployments/greet/hello", Greeter(new[] { new { cron = "0 6 * * *", timezone = "Europe/London" } }), deadline);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.Equal("greet/hello", body.GetProperty("fullName").GetString());

        var (got, deployment) = await app.SendAsync(HttpMethod.Get, "/api/deployments/greet/hello", null, deadline);
        Assert.Equal(HttpStatusCode.OK, got.StatusCode);
        Assert.Equal("Ada", deployment.GetProperty("parameters").GetProperty("name").GetString());
        Assert.Equal("default", deployment.GetProperty("pool").GetString());
        Assert.Equal("Europe/London", deployment.GetProperty("schedules")[0].GetProperty("timezone").GetString());
        Assert.Equal("s0", deployment.GetProperty("schedules")[0].GetProperty("id").GetString());

        var (list, all) = await app.SendAsync(HttpMethod.Get, "/api/deployments", null, deadline);
        Assert.Equal(HttpStatusCode.OK, list.StatusCode);
        Assert.Contains(all.EnumerateArray(), d => d.GetProperty("fullName").GetString() == "greet/hello");
    }

    [Fact]
    public async Task Deployment_ShowsItsNextRun_FromTheEarliestActiveSchedule_AndNoneWhilePaused()
    {
        using var deadline = TestDeadline.Create(TimeSpan.FromSeconds(60));
        await using var app = await TestApp.StartAsync(azurite, deadline);
        var yearly = new { cron = "0 6 1 1 *", timezone = "Europe/London" };

        // One yearly cron: the next run is the coming 1 January 06:00 in London (GMT then, so 06:00Z).
        var now = DateTimeOffset.UtcNow;
        var (_, cronOnly) = await app.SendAsync(HttpMethod.Put, "/api/deployments/greet/yearly", Greeter(new object[] { yearly }), deadline);
        var januaryFirst = new DateTimeOffset(now.Year, 1, 1, 6, 0, 0, TimeSpan.Zero);
        Assert.Equal(januaryFirst > now ? januaryFirst : januaryFirst.AddYears(1), cronOnly.GetProperty("nextRunAt").GetDateTimeOffset());

        // With an hourly interval beside it, the earliest of the two wins: within the next hour.
        var before = DateTimeOffset.UtcNow;
        await app.SendAsync(HttpMethod.Put, "/api/deployments/greet/both", Greeter(new object[] { yearly, new { interval = 3600 } }), deadline);
        var (_, both) = await app.SendAsync(HttpMethod.Get, "/api/deployments/greet/both", null, deadline);
        var after = DateTimeOffset.UtcNow;
        Assert.InRange(both.GetProperty("nextRunAt").GetDateTimeOffset(), before, after.AddHours(1));

        // Paused, or without schedules, a deployment has no next run (the field is left out).
        var (_, paused) = await app.SendAsync(HttpMethod.Post, "/api/deployments/greet/both/pause", null, deadline);
        Assert.False(paused.TryGetProperty("nextRunAt", out _));
        var (_, manual) = await app.SendAsync(HttpMethod.Put, "/api/deployments/greet/manual", Greeter(), deadline);
        Assert.False(manual.TryGetProperty("nextRunAt", out _));
        var (_, list) = await app.SendAsync(HttpMethod.Get, "/api/deployments", null, deadline);
        Assert.True(list.EnumerateArray().Single(d => d.GetProperty("fullName").GetString() == "greet/yearly").TryGetProperty("nextRunAt", out _));
    }

    [Fact]
    public async Task PutDeployment_SameSpecTwice_SecondChangesNothing()
    {
        using var deadline = TestDeadline.Create(TimeSpan.FromSeconds(60));
        await using var app = await TestApp.StartAsync(azurite, deadline);

        var (_, first) = await app.SendAsync(HttpMethod.Put, "/api/deployments/greet/hello", Greeter(), deadline);
        var (again, second) = await app.SendAsync(HttpMethod.Put, "/api/deployments/greet/hello", Greeter(), deadline);

        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        Assert.Equal(first.GetProperty("updatedAt").GetDateTimeOffset(), second.GetProperty("updatedAt").GetDateTimeOffset());
    }

    [Fact]
    public async Task TriggerRun_WithIdempotencyKey_ReturnsTheSameRunTwice()
    {
        using var deadline = TestDeadline.Create(TimeSpan.FromSeconds(60));
        await using var app = await TestApp.StartAsync(azurite, deadline);
        await app.SendAsync(HttpMethod.Put, "/api/deployments/greet/hello", Greeter(), deadline);

        var (first, a) = await app.SendAsync(HttpMethod.Post, "/api/deployments/greet/hello/runs", new { idempotencyKey = "order-17", parameters = new { excitement = 2 } }, deadline);
        var (second, b) = await app.SendAsync(HttpMethod.Post, "/api/deployments/greet/hello/runs", new { idempotencyKey = "order-17", parameters = new { excitement = 2 } }, deadline);

        Assert.Equal(HttpStatusCode.Accepted, first.StatusCode);
        Assert.Equal(HttpStatusCode.Accepted, second.StatusCode);
        Assert.Equal(a.GetProperty("id").GetString(), b.GetProperty("id").GetString());
        Assert.True(a.GetProperty("created").GetBoolean());
        Assert.False(b.GetProperty("created").GetBoolean());
        Assert.Equal($"/api/runs/{a.GetProperty("id").GetString()}", a.GetProperty("statusUrl").GetString());

        var run = await app.WaitForRunAsync(a.GetProperty("id").GetString()!, r => r.GetProperty("state").GetString() == "Completed", deadline, "the run to complete");
        Assert.Equal("Hello, Ada!!", run.GetProperty("result").GetString());
        Assert.Equal("greet/hello", run.GetProperty("deployment").GetString());
        Assert.Equal("core", run.GetProperty("tags").GetProperty("team").GetString());
    }

    [Fact]
    public async Task TriggerRun_PausedDeployment_Returns409AndResumeAllowsIt()
    {
        using var deadline = TestDeadline.Create(TimeSpan.FromSeconds(60));
        await using var app = await TestApp.StartAsync(azurite, deadline);
        await app.SendAsync(HttpMethod.Put, "/api/deployments/greet/hello", Greeter(), deadline);

        var (paused, pausedBody) = await app.SendAsync(HttpMethod.Post, "/api/deployments/greet/hello/pause", null, deadline);
        Assert.True(pausedBody.GetProperty("paused").GetBoolean());
        var (refused, problem) = await app.SendAsync(HttpMethod.Post, "/api/deployments/greet/hello/runs", null, deadline);
        Assert.Equal(HttpStatusCode.Conflict, refused.StatusCode);
        Assert.Equal("application/problem+json", refused.Content.Headers.ContentType?.MediaType);
        Assert.Contains("paused", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);

        await app.SendAsync(HttpMethod.Post, "/api/deployments/greet/hello/resume", null, deadline);
        var (accepted, _) = await app.SendAsync(HttpMethod.Post, "/api/deployments/greet/hello/runs", null, deadline);
        Assert.Equal(HttpStatusCode.Accepted, accepted.StatusCode);
    }

    [Fact]
    public async Task SchedulePreview_DstTransition_ShowsUtcOffsetsOnBothSides()
    {
        using var deadline = TestDeadline.Create(TimeSpan.FromSeconds(60));
        await using var app = await TestApp.StartAsync(azurite, deadline);
        await app.SendAsync(HttpMethod.Put, "/api/deployments/greet/hello", Greeter(new[] { new { cron = "30 2 * * *", timezone = "America/New_York" } }), deadline);

        var (response, occurrences) = await app.SendAsync(HttpMethod.Get, "/api/deployments/greet/hello/schedule?count=400", null, deadline);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var offsets = occurrences.EnumerateArray().Select(o => o.GetProperty("utcOffset").GetString()).Distinct().ToList();
        Assert.Contains("-05:00", offsets);
        Assert.Contains("-04:00", offsets);
        Assert.All(occurrences.EnumerateArray(), o => Assert.EndsWith(o.GetProperty("utcOffset").GetString()!, o.GetProperty("time").GetString(), StringComparison.Ordinal));
    }

    [Fact]
    public async Task SchedulePreview_From_StartsAfterThatTimeAndUnknownParametersAreRefused()
    {
        using var deadline = TestDeadline.Create(TimeSpan.FromSeconds(60));
        await using var app = await TestApp.StartAsync(azurite, deadline);
        await app.SendAsync(HttpMethod.Put, "/api/deployments/greet/hello", Greeter(new[] { new { cron = "0 0 L * *", timezone = "America/New_York" } }), deadline);

        var (response, occurrences) = await app.SendAsync(HttpMethod.Get, "/api/deployments/greet/hello/schedule?from=2030-01-15T00:00:00Z&count=3", null, deadline);
        var (unknown, unknownProblem) = await app.SendAsync(HttpMethod.Get, "/api/deployments/greet/hello/schedule?form=2030-01-15T00:00:00Z", null, deadline);
        var (badFrom, badFromProblem) = await app.SendAsync(HttpMethod.Get, "/api/deployments/greet/hello/schedule?from=next-tuesday", null, deadline);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(["2030-01-31T00:00:00-05:00", "2030-02-28T00:00:00-05:00", "2030-03-31T00:00:00-04:00"], occurrences.EnumerateArray().Select(o => o.GetProperty("time").GetString()));
        Assert.Equal(HttpStatusCode.BadRequest, unknown.StatusCode);
        Assert.Equal("application/problem+json", unknown.Content.Headers.ContentType?.MediaType);
        Assert.True(unknownProblem.GetProperty("errors").TryGetProperty("form", out _));
        Assert.Equal(HttpStatusCode.BadRequest, badFrom.StatusCode);
        Assert.True(badFromProblem.GetProperty("errors").TryGetProperty("from", out _));
    }

    [Fact]
    public async Task DeleteDeployment_ThenGet_Returns404Problem()
    {
        using var deadline = TestDeadline.Create(TimeSpan.FromSeconds(60));
        await using var app = await TestApp.StartAsync(azurite, deadline);
        await app.SendAsync(HttpMethod.Put, "/api/deployments/greet/hello", Greeter(), deadline);

        var (deleted, _) = await app.SendAsync(HttpMethod.Delete, "/api/deployments/greet/hello", null, deadline);
        var (missing, problem) = await app.SendAsync(HttpMethod.Get, "/api/deployments/greet/hello", null, deadline);

        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Equal(404, problem.GetProperty("status").GetInt32());
    }

    [Fact]
    public async Task WorkPools_DefaultExists_CreatePauseAndRefuseTypeChange()
    {
        using var deadline = TestDeadline.Create(TimeSpan.FromSeconds(60));
        await using var app = await TestApp.StartAsync(azurite, deadline);

        var (_, pools) = await app.SendAsync(HttpMethod.Get, "/api/work-pools", null, deadline);
        Assert.Contains(pools.EnumerateArray(), p => p.GetProperty("name").GetString() == "default" && p.GetProperty("type").GetString() == "in-app");

        var (created, pool) = await app.SendAsync(HttpMethod.Put, "/api/work-pools/batch", new { type = "process", concurrencyLimit = 2 }, deadline);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.Equal(2, pool.GetProperty("concurrencyLimit").GetInt32());
        var (_, paused) = await app.SendAsync(HttpMethod.Post, "/api/work-pools/batch/pause", null, deadline);
        Assert.True(paused.GetProperty("paused").GetBoolean());

        var (refused, problem) = await app.SendAsync(HttpMethod.Put, "/api/work-pools/batch", new { type = "in-app" }, deadline);
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.True(problem.GetProperty("errors").TryGetProperty("type", out _));
    }

    [Fact]
    public async Task ApplyFile_YamlTwice_CreatesThenReportsUnchanged()
    {
        using var deadline = TestDeadline.Create(TimeSpan.FromSeconds(60));
        await using var app = await TestApp.StartAsync(azurite, deadline);
        const string yaml = """
            deployments:
              - flow: greet
                name: nightly
                parameters:
                  name: "Grace"
                  excitement: 1
                schedules:
                  - cron: "0 2 * * *"
                    timezone: Australia/Lord_Howe
                  - id: every-15
                    interval: PT15M
            """;

        var (first, created) = await app.SendAsync(HttpMethod.Post, "/api/deployments/apply", null, deadline, yaml, "application/yaml");
        var (second, unchanged) = await app.SendAsync(HttpMethod.Post, "/api/deployments/apply", null, deadline, yaml, "application/yaml");

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal("created", created[0].GetProperty("outcome").GetString());
        Assert.Equal("unchanged", unchanged[0].GetProperty("outcome").GetString());
        Assert.Equal("PT15M", unchanged[0].GetProperty("deployment").GetProperty("schedules")[1].GetProperty("interval").GetString());
    }

    [Fact]
    public async Task ConcurrencyLimitCancelNew_SecondRunWhileFirstRuns_IsCancelled()
    {
        using var deadline = TestDeadline.Create(TimeSpan.FromSeconds(90));
        await using var app = await TestApp.StartAsync(azurite, deadline);
        await app.SendAsync(HttpMethod.Put, "/api/deployments/wait-for-approval/gated", new { parameters = new { name = "x" }, concurrencyLimit = 1, collisionStrategy = "cancel-new" }, deadline);

        var (_, first) = await app.SendAsync(HttpMethod.Post, "/api/deployments/wait-for-approval/gated/runs", null, deadline);
        var firstId = first.GetProperty("id").GetString()!;
        await app.WaitForRunAsync(firstId, r => r.GetProperty("state").GetString() == "Paused", deadline, "the first run to wait for its event");
        var (_, second) = await app.SendAsync(HttpMethod.Post, "/api/deployments/wait-for-approval/gated/runs", null, deadline);
        var cancelled = await app.WaitForRunAsync(second.GetProperty("id").GetString()!, r => r.GetProperty("state").GetString() == "Cancelled", deadline, "the second run to be cancelled");

        Assert.Contains("concurrency limit", cancelled.GetProperty("stateMessage").GetString(), StringComparison.Ordinal);
        var (sent, _) = await app.SendAsync(HttpMethod.Post, $"/api/runs/{firstId}/events/approve", "Ada", deadline);
        Assert.Equal(HttpStatusCode.Accepted, sent.StatusCode);
        var done = await app.WaitForRunAsync(firstId, r => r.GetProperty("state").GetString() == "Completed", deadline, "the first run to complete");
        Assert.Equal("x approved by Ada", done.GetProperty("result").GetString());
    }

    [Fact]
    public async Task ConcurrencyLimitEnqueue_ThreeRuns_NeverMoreThanOneRunningAndAllComplete()
    {
        using var deadline = TestDeadline.Create(TimeSpan.FromSeconds(90));
        await using var app = await TestApp.StartAsync(azurite, deadline, new() { ["Flow:ControlPlane:SlotRetryInterval"] = "00:00:00.200" });
        await app.SendAsync(HttpMethod.Put, "/api/deployments/wait-for-approval/serial", new { parameters = new { name = "x" }, concurrencyLimit = 1 }, deadline);

        var ids = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            var (_, body) = await app.SendAsync(HttpMethod.Post, "/api/deployments/wait-for-approval/serial/runs", null, deadline);
            ids.Add(body.GetProperty("id").GetString()!);
        }

        for (var done = 0; done < 3; done++)
        {
            string? paused = null;
            await deadline.PollUntilAsync(async ct =>
            {
                var (_, page) = await app.SendAsync(HttpMethod.Get, "/api/runs?deployment=wait-for-approval/serial", null, ct);
                var states = page.GetProperty("runs").EnumerateArray().Select(r => (Id: r.GetProperty("id").GetString()!, State: r.GetProperty("state").GetString())).ToList();
                Assert.True(states.Count(s => s.State is "Running" or "Paused") <= 1, "more than one run of a deployment with limit 1 started: " + string.Join(", ", states));
                paused = states.FirstOrDefault(s => s.State == "Paused").Id;
                return paused is not null;
            }, "a run to take the slot");
            await app.SendAsync(HttpMethod.Post, $"/api/runs/{paused}/events/approve", "ok", deadline);
            await app.WaitForRunAsync(paused!, r => r.GetProperty("state").GetString() == "Completed", deadline, "the run to complete");
        }

        foreach (var id in ids)
        {
            var (_, run) = await app.SendAsync(HttpMethod.Get, $"/api/runs/{id}", null, deadline);
            Assert.Equal("Completed", run.GetProperty("state").GetString());
        }
    }
}
