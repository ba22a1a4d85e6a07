using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Flow.Client;
using Flow.TestSupport;

namespace Flow.Dashboard.Tests;

/// <summary>The API the dashboard added, over real HTTP: parameter schemas, timelines, stats, pool load and ETags.</summary>
public sealed class DashboardApiTests(DashboardFixture fixture) : IClassFixture<DashboardFixture>
{
    [Fact]
    public async Task FlowSchema_DescribesRequiredFields_Enums_Numbers_TimeSpans_AndDescriptions()
    {
        using var deadline = TestDeadline.Create(TimeSpan.FromSeconds(30));
        var schema = await fixture.Api.GetFromJsonAsync<JsonElement>("/api/flows/dash-report/schema", deadline.Token);
        Assert.Equal("dash-report", schema.GetProperty("title").GetString());
        Assert.Equal(["region"], schema.GetProperty("required").EnumerateArray().Select(e => e.GetString()));
        var properties = schema.GetProperty("properties");
        Assert.Equal("The sales region to report on.", properties.GetProperty("region").GetProperty("description").GetString());
        Assert.Equal("integer", properties.GetProperty("count").GetProperty("type").GetString());
        Assert.Equal(3, properties.GetProperty("count").GetProperty("default").GetInt32());
        Assert.Equal("How far back to look, as hh:mm:ss.", properties.GetProperty("window").GetProperty("description").GetString());
        Assert.True(properties.TryGetProperty("color", out _));

        using var missing = await fixture.Api.GetAsync("/api/flows/no-such-flow/schema", deadline.Token);
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        Assert.Equal("application/problem+json", missing.Content.Headers.ContentType!.MediaType);
    }

    [Fact]
    public async Task Timeline_ShowsAttempts_RetryWaits_AndTaskStates_InOneRequest()
    {
        using var deadline = TestDeadline.Create(TimeSpan.FromSeconds(60));
        var id = await fixture.TriggerAsync("dash-report/nightly", new { region = "south", count = 2 }, deadline.Token);
        await deadline.PollUntilAsync(async ct => await fixture.StateAsync(id, ct) == "Completed", "the run to complete");
        var timeline = await fixture.Api.GetFromJsonAsync<JsonElement>($"/api/runs/{id}/timeline", deadline.Token);
        var rows = timeline.GetProperty("rows").EnumerateArray().ToList();
        var fetch = rows.Single(r => r.GetProperty("name").GetString() == "fetch");
        Assert.Equal("Completed", fetch.GetProperty("state").GetString());
        var segments = fetch.GetProperty("segments").EnumerateArray().Select(s => (s.GetProperty("kind").GetString(), s.GetProperty("outcome").GetString())).ToList();
        Assert.Equal([("attempt", "Failed"), ("retry-wait", "Completed"), ("attempt", "Completed")], segments);
        Assert.Contains(rows, r => r.GetProperty("name").GetString() == "total" && r.GetProperty("kind").GetString() == "task");

        using var bad = await fixture.Api.GetAsync("/api/runs/not%20an%20id/timeline", deadline.Token);
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        using var missing = await fixture.Api.GetAsync("/api/runs/no-such-run/timeline", deadline.Token);
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
    }

    [Fact]
    public async Task Journal_ListsTheRecordedEventsInOrder_PagedByIndex_AndRefusesBadPages()
    {
        using var deadline = TestDeadline.Create(TimeSpan.FromSeconds(60));
        var id = await fixture.TriggerAsync("dash-report/nightly", new { region = "journal", count = 2 }, deadline.Token);
        await deadline.PollUntilAsync(async ct => await fixture.StateAsync(id, ct) == "Completed", "the run to complete");

        var whole = await fixture.Api.GetFromJsonAsync<JsonElement>($"/api/runs/{id}/journal", deadline.Token);
        var events = whole.GetProperty("events").EnumerateArray().ToList();
        Assert.Equal(whole.GetProperty("length").GetInt32(), events.Count);
        Assert.Equal(Enumerable.Range(1, events.Count), events.Select(e => e.GetProperty("index").GetInt32()));
        Assert.Null(Next(whole));
        var fetch = events.Where(e => e.TryGetProperty("name", out var name) && name.GetString() == "fetch" && e.GetProperty("kind").GetString() != "TaskStarted").Select(e => (e.GetProperty("kind").GetString(), e.GetProperty("attempt").GetInt32())).ToList();
        Assert.Equal([("TaskAttemptFailed", 1), ("TaskCompleted", 2)], fetch);
        var failed = events.Single(e => e.GetProperty("kind").GetString() == "TaskAttemptFailed");
        Assert.False(string.IsNullOrEmpty(failed.GetProperty("failure").GetProperty("message").GetString()));
        Assert.True(failed.TryGetProperty("dueAt", out var due) && due.ValueKind == JsonValueKind.String);

        // One event a page: each page names the next index, and the pages together are the whole journal.
        var paged = new List<int>();
        for (int? from = 1; from is not null;)
        {
            var page = await fixture.Api.GetFromJsonAsync<JsonElement>($"/api/runs/{id}/journal?pageSize=1&from={from}", deadline.Token);
            paged.AddRange(page.GetProperty("events").EnumerateArray().Select(e => e.GetProperty("index").GetInt32()));
            from = Next(page);
        }

        Assert.Equal(Enumerable.Range(1, events.Count), paged);

        foreach (var (query, field) in new[] { ("pageSize=0", "pageSize"), ("pageSize=1001", "pageSize"), ("from=0", "from") })
        {
            using var bad = await fixture.Api.GetAsync($"/api/runs/{id}/journal?{query}", deadline.Token);
            Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
            Assert.Contains(field, await bad.Content.ReadAsStringAsync(deadline.Token), StringComparison.Ordinal);
        }

        using var missing = await fixture.Api.GetAsync("/api/runs/no-such-run/journal", deadline.Token);
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
    }

    /// <summary>A journal page's <c>next</c>: absent (nulls are not written) on the last page.</summary>
    private static int? Next(JsonElement page) =>
        page.TryGetProperty("next", out var next) && next.ValueKind == JsonValueKind.Number ? next.GetInt32() : null;

    [Fact]
    public async Task Stats_CountRunsByStateInBuckets_AndRefuseBadWindows()
    {
        using var deadline = TestDeadline.Create(TimeSpan.FromSeconds(60));
        var id = await fixture.TriggerAsync("dash-report/nightly", new { region = "stats", count = 1 }, deadline.Token);
        await deadline.PollUntilAsync(async ct => await fixture.StateAsync(id, ct) == "Completed", "the run to complete");
        var stats = await fixture.Api.GetFromJsonAsync<JsonElement>("/api/runs/stats?bucketMinutes=60", deadline.Token);
        Assert.Equal(24, stats.GetProperty("buckets").GetArrayLength());
        Assert.True(stats.GetProperty("totals").GetProperty("Completed").GetInt32() >= 1);
        var last = stats.GetProperty("buckets").EnumerateArray().Last();
        Assert.True(last.GetProperty("counts").GetProperty("Completed").GetInt32() >= 1);

        using var reversed = await fixture.Api.GetAsync("/api/runs/stats?from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z", deadline.Token);
        Assert.Equal(HttpStatusCode.BadRequest, reversed.StatusCode);
        Assert.Contains("\"from\"", await reversed.Content.ReadAsStringAsync(deadline.Token), StringComparison.Ordinal);
        using var tooMany = await fixture.Api.GetAsync("/api/runs/stats?from=2026-01-01T00:00:00Z&to=2026-02-01T00:00:00Z&bucketMinutes=1", deadline.Token);
        Assert.Equal(HttpStatusCode.BadRequest, tooMany.StatusCode);
        Assert.Contains("bucketMinutes", await tooMany.Content.ReadAsStringAsync(deadline.Token), StringComparison.Ordinal);
    }

    [Fact]
    public async Task TypedClient_ReadsTimelineJournalStatsAndPoolLoad_AsTheApiAnswersThem()
    {
        using var deadline = TestDeadline.Create(TimeSpan.FromSeconds(60));
        using var client = new FlowClient(fixture.BaseAddress, DashboardFixture.ApiKey);
        var id = await fixture.TriggerAsync("dash-report/nightly", new { region = "typed", count = 2 }, deadline.Token);
        await deadline.PollUntilAsync(async ct => await fixture.StateAsync(id, ct) == "Completed", "the run to complete");

        var timeline = await client.GetRunTimelineAsync(id, deadline.Token);
        var fetch = timeline.Rows.Single(r => r.Name == "fetch");
        Assert.Equal(["attempt", "retry-wait", "attempt"], fetch.Segments.Select(s => s.Kind));
        Assert.Equal("Completed", timeline.State);

        var journal = await client.GetRunJournalAsync(id, from: 1, pageSize: 1, deadline.Token);
        Assert.Equal(1, Assert.Single(journal.Events).Index);
        Assert.Equal(2, journal.Next);
        Assert.True(journal.Length > 1);

        var stats = await client.GetRunStatsAsync(from: null, to: null, bucketMinutes: 60, deployment: "dash-report/nightly", deadline.Token);
        Assert.Equal(24, stats.Buckets.Count);
        Assert.True(stats.Totals["Completed"] >= 1);

        var pools = await client.GetWorkPoolStatusAsync(deadline.Token);
        Assert.Equal(4, pools.Single(p => p.Name == "spare").ConcurrencyLimit);

        var refused = await Assert.ThrowsAsync<FlowApiException>(() => client.GetRunJournalAsync(id, from: 0, pageSize: null, deadline.Token));
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
    }

    [Fact]
    public async Task PoolStatus_ShowsEveryPoolWithItsLoad()
    {
        using var deadline = TestDeadline.Create(TimeSpan.FromSeconds(30));
        var pools = await fixture.Api.GetFromJsonAsync<JsonElement>("/api/work-pools/status", deadline.Token);
        var spare = pools.EnumerateArray().Single(p => p.GetProperty("name").GetString() == "spare");
        Assert.Equal(4, spare.GetProperty("concurrencyLimit").GetInt32());
        Assert.Equal(0, spare.GetProperty("running").GetInt32());
        Assert.Equal(0, spare.GetProperty("queued").GetInt32());
        Assert.Contains(pools.EnumerateArray(), p => p.GetProperty("name").GetString() == "default");
    }

    [Fact]
    public async Task RunListAndDetails_AnswerNotModified_ForTheirCurrentETag()
    {
        using var deadline = TestDeadline.Create(TimeSpan.FromSeconds(60));
        var id = await fixture.TriggerAsync("dash-report/nightly", new { region = "etag", count = 1 }, deadline.Token);
        await deadline.PollUntilAsync(async ct => await fixture.StateAsync(id, ct) == "Completed", "the run to complete");
        foreach (var path in new[] { $"/api/runs/{id}", "/api/runs?pageSize=5" })
        {
            using var first = await fixture.Api.GetAsync(path, deadline.Token);
            var tag = first.Headers.ETag;
            Assert.NotNull(tag);
            using var request = new HttpRequestMessage(HttpMethod.Get, path);
            request.Headers.IfNoneMatch.Add(tag);
            using var again = await fixture.Api.SendAsync(request, deadline.Token);
            Assert.Equal(HttpStatusCode.NotModified, again.StatusCode);
            Assert.Empty(await again.Content.ReadAsByteArrayAsync(deadline.Token));

            using var stale = new HttpRequestMessage(HttpMethod.Get, path);
            stale.Headers.IfNoneMatch.Add(new EntityTagHeaderValue("\"stale\""));
            using var changed = await fixture.Api.SendAsync(stale, deadline.Token);
            Assert.Equal(HttpStatusCode.OK, changed.StatusCode);
            Assert.Equal(tag, changed.Headers.ETag);
        }
    }
}
