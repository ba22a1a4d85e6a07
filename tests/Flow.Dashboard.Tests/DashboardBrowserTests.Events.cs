using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Playwright;

namespace Flow.Dashboard.Tests;

/// <summary>The Events view: a run's state events from its run page, filters in the URL, details, and follow mode.</summary>
public sealed partial class DashboardBrowserTests
{
    [Fact]
    public async Task EventsView_ListsARunsStateEvents_AndFiltersByKindThroughTheUrl()
    {
        using var deadline = Deadline();
        var id = await fixture.TriggerAsync("dash-report/nightly", new { region = "events", count = 1 }, deadline.Token);
        await deadline.PollUntilAsync(async ct => await fixture.StateAsync(id, ct) == "Completed", "the run to complete");

        // On Azure the outbox relay copies the events to the event store just after the commit.
        await deadline.PollUntilAsync(async ct => (await EventKindsAsync("flow-run/" + id, ct)).Contains("flow-run.Completed"), "the run's Completed event");

        // The run page links to the run's events.
        var page = await fixture.NewPageAsync();
        await page.GotoAsync("/runs/" + id);
        await page.GetByRole(AriaRole.Link, new() { Name = "Events of this run" }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Events" })).ToBeVisibleAsync();
        Assert.Contains("resource=flow-run%2F" + id, page.Url, StringComparison.Ordinal);
        var rows = page.Locator("table.events tbody tr[data-kind]");
        await Assertions.Expect(rows.And(page.Locator("[data-kind='flow-run.Running']"))).ToHaveCountAsync(1);
        await Assertions.Expect(rows.And(page.Locator("[data-kind='flow-run.Completed']"))).ToHaveCountAsync(1);

        // Newest first: Completed above Running.
        var kinds = await rows.EvaluateAllAsync<string[]>("rs => rs.map(r => r.dataset.kind)");
        Assert.True(Array.IndexOf(kinds, "flow-run.Completed") < Array.IndexOf(kinds, "flow-run.Running"), string.Join(", ", kinds));

        // An event opens onto its resource (linking to the run page), related resources and formatted payload.
        await page.GetByRole(AriaRole.Button, new() { NameRegex = new Regex("^Show flow-run\\.Completed") }).ClickAsync();
        var detail = page.Locator("tr.event-detail");
        await Assertions.Expect(detail.GetByRole(AriaRole.Link, new() { Name = "flow-run/" + id, Exact = true }).First).ToHaveAttributeAsync("href", "/runs/" + id);
        await Assertions.Expect(detail.GetByRole(AriaRole.Link, new() { Name = "deployment/dash-report/nightly", Exact = true })).ToHaveAttributeAsync("href", "/deployments/dash-report/nightly");
        await Assertions.Expect(detail.GetByRole(AriaRole.Link, new() { Name = "work-pool/default", Exact = true })).ToHaveAttributeAsync("href", "/work-pools");
        await Assertions.Expect(detail.Locator("pre.json")).ToContainTextAsync("\"previousState\": \"Running\"");
        await DashboardFixture.ScreenshotAsync(page, "events-run");

        // Typing a kind prefix rewrites the URL and lists only that kind; a reload keeps it.
        await page.GetByLabel("Kind starts with").FillAsync("flow-run.Completed");
        await page.GetByLabel("Kind starts with").PressAsync("Enter");
        await Assertions.Expect(page).ToHaveURLAsync(new Regex("kind=flow-run\\.Completed"));
        await Assertions.Expect(rows.And(page.Locator("[data-kind='flow-run.Running']"))).ToHaveCountAsync(0);
        await Assertions.Expect(rows).ToHaveCountAsync(1);
        await page.ReloadAsync();
        await Assertions.Expect(page.GetByLabel("Kind starts with")).ToHaveValueAsync("flow-run.Completed");
        await Assertions.Expect(rows).ToHaveCountAsync(1);
        await Assertions.Expect(rows.First).ToHaveAttributeAsync("data-kind", "flow-run.Completed");
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task EventsView_FollowMode_PutsANewRunsEventsOnTop_WithoutAReload()
    {
        using var deadline = Deadline();
        var page = await fixture.NewPageAsync();
        await page.GotoAsync("/events?kind=flow-run.&follow=1");
        await Assertions.Expect(page.GetByLabel("Follow")).ToBeCheckedAsync();
        await Assertions.Expect(page.Locator("table.events")).ToBeVisibleAsync();
        var navigations = 0;
        page.FrameNavigated += (_, frame) => navigations += frame == page.MainFrame ? 1 : 0;

        var id = await fixture.TriggerAsync("dash-report/nightly", new { region = "follow", count = 1 }, deadline.Token);
        var completed = page.Locator($"table.events tbody tr[data-kind='flow-run.Completed']").Filter(new() { HasText = id });
        await Assertions.Expect(completed).ToHaveCountAsync(1, new() { Timeout = (float)deadline.Remaining.TotalMilliseconds });
        var order = await page.Locator("table.events tbody tr[data-kind]").EvaluateAllAsync<string[]>("rs => rs.map(r => r.dataset.event)");
        Assert.True(Array.FindIndex(order, e => e.StartsWith(id + ".", StringComparison.Ordinal)) < 10, "the new run's events are among the newest rows: " + string.Join(", ", order.Take(12)));
        Assert.Equal(0, navigations);
        await DashboardFixture.ScreenshotAsync(page, "events-follow");
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task EventsView_FollowMode_KeepsTheRowBeingRead_InPlace_WhenNewerEventsArrive()
    {
        using var deadline = Deadline();
        var kind = "dash.follow." + Guid.NewGuid().ToString("N")[..8];
        await EmitAsync(kind, 60, deadline.Token);
        var page = await fixture.NewPageAsync();
        await page.GotoAsync("/events?follow=1&kind=" + kind);
        var rows = page.Locator("table.events tbody tr[data-kind]");
        await Assertions.Expect(rows).ToHaveCountAsync(50);

        // The reader scrolls down to the 30th row; three newer events arrive and go on top, and that row does not move.
        var reading = rows.Nth(29);
        var readingId = await reading.GetAttributeAsync("data-event");
        await reading.ScrollIntoViewIfNeededAsync();
        var before = await reading.EvaluateAsync<double>("r => r.getBoundingClientRect().top");
        Assert.True(await page.EvaluateAsync<double>("window.scrollY") > 0);
        await EmitAsync(kind, 3, deadline.Token);
        await Assertions.Expect(rows).ToHaveCountAsync(53, new() { Timeout = (float)deadline.Remaining.TotalMilliseconds });
        Assert.Equal(readingId, await rows.Nth(32).GetAttributeAsync("data-event"));
        var after = await page.Locator($"tr[data-event='{readingId}']").EvaluateAsync<double>("r => r.getBoundingClientRect().top");
        Assert.InRange(after - before, -2, 2);
        await page.Context.CloseAsync();
    }

    private async Task EmitAsync(string kind, int count, CancellationToken cancellationToken)
    {
        var events = Enumerable.Range(0, count).Select(i => new { kind, resource = new { id = "dash-test/follow" }, payload = new { i } }).ToArray();
        using var response = await fixture.Api.PostAsJsonAsync("/api/events", events, cancellationToken);
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync(cancellationToken));
    }

    private async Task<List<string>> EventKindsAsync(string resource, CancellationToken cancellationToken)
    {
        var page = await fixture.Api.GetFromJsonAsync<JsonElement>("/api/events?resource=" + Uri.EscapeDataString(resource), cancellationToken);
        return [.. page.GetProperty("events").EnumerateArray().Select(e => e.GetProperty("kind").GetString()!)];
    }
}
