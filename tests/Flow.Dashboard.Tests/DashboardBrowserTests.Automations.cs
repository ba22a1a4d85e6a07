using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Playwright;

namespace Flow.Dashboard.Tests;

/// <summary>The Automations views: the list in words, enable/disable from the UI, and a firing with its action's outcome.</summary>
public sealed partial class DashboardBrowserTests
{
    [Fact]
    public async Task Automations_ListedInWords_DisabledAndEnabledFromTheUi_AndAFiringShowsItsActionsOutcome()
    {
        using var deadline = Deadline();
        using (var put = await fixture.Api.PutAsJsonAsync("/api/deployments/dash-fail/boom", new { pool = "default", description = "Fails on purpose." }, deadline.Token))
        {
            Assert.True(put.IsSuccessStatusCode, await put.Content.ReadAsStringAsync(deadline.Token));
        }

        var automation = new
        {
            description = "Says so when a dash-fail run fails.",
            trigger = new { expect = new[] { "flow-run.Failed" }, match = new Dictionary<string, string> { ["deployment"] = "dash-fail/boom" } },
            actions = new object[] { new { type = "send-event", kind = "dash.alert.failed", body = new { run = "{{ event.resource.id }}" } } },
        };
        foreach (var name in new[] { "dash-on-failure", "dash-short-lived" })
        {
            using var put = await fixture.Api.PutAsJsonAsync("/api/automations/" + name, automation, deadline.Token);
            Assert.True(put.IsSuccessStatusCode, await put.Content.ReadAsStringAsync(deadline.Token));
        }

        var page = await fixture.NewPageAsync();
        await page.GotoAsync("/automations");
        var row = page.Locator("tr[data-automation=dash-on-failure]");
        await Assertions.Expect(row.Locator("td.trigger")).ToHaveTextAsync("when flow-run.Failed for deployment dash-fail/boom");
        await Assertions.Expect(row).ToContainTextAsync("send event dash.alert.failed");
        await Assertions.Expect(row.Locator("td.last-firing")).ToHaveTextAsync("never");
        await Assertions.Expect(row.Locator(".badge")).ToHaveTextAsync("enabled");

        // Disable, then enable, from the list; the API agrees each time.
        await row.GetByRole(AriaRole.Button, new() { Name = "Disable dash-on-failure" }).ClickAsync();
        await Assertions.Expect(row.Locator(".badge")).ToHaveTextAsync("disabled");
        Assert.False(await EnabledAsync("dash-on-failure", deadline.Token));
        await row.GetByRole(AriaRole.Button, new() { Name = "Enable dash-on-failure" }).ClickAsync();
        await Assertions.Expect(row.Locator(".badge")).ToHaveTextAsync("enabled");
        Assert.True(await EnabledAsync("dash-on-failure", deadline.Token));

        await DashboardFixture.ScreenshotAsync(page, "automations");

        // The API's refusal is shown: an automation deleted behind the page's back cannot be disabled. (Its detail page keeps
        // what it read when a later read fails, so the button is still there.)
        await page.GetByRole(AriaRole.Link, new() { Name = "dash-short-lived", Exact = true }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "dash-short-lived" })).ToBeVisibleAsync();
        using (var delete = await fixture.Api.DeleteAsync("/api/automations/dash-short-lived", deadline.Token))
        {
            Assert.True(delete.IsSuccessStatusCode);
        }

        await page.GetByRole(AriaRole.Button, new() { Name = "Disable dash-short-lived" }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Alert)).ToContainTextAsync("'dash-short-lived' does not exist");
        await DashboardFixture.ScreenshotAsync(page, "automation-refused");

        // A failed run fires it; the detail page (a deep link) shows the firing, its event and the action's outcome.
        var runId = await fixture.TriggerAsync("dash-fail/boom", null, deadline.Token);
        await page.GotoAsync("/automations/dash-on-failure");
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "dash-on-failure" })).ToBeVisibleAsync();
        await Assertions.Expect(page.GetByLabel("Trigger (JSON)")).ToContainTextAsync("\"expect\": [");
        var firing = page.Locator("article.firing");
        await Assertions.Expect(firing).ToHaveCountAsync(1, new() { Timeout = (float)deadline.Remaining.TotalMilliseconds });
        await Assertions.Expect(firing).ToHaveAttributeAsync("data-status", "succeeded", new() { Timeout = (float)deadline.Remaining.TotalMilliseconds });
        await Assertions.Expect(firing.GetByRole(AriaRole.Link, new() { Name = "flow-run/" + runId, Exact = true }).First).ToHaveAttributeAsync("href", "/runs/" + runId);
        var action = firing.Locator("tr[data-action=send-event]");
        await Assertions.Expect(action).ToHaveAttributeAsync("data-status", "succeeded");
        await Assertions.Expect(action.Locator("ol.attempts li")).ToHaveCountAsync(1);
        await Assertions.Expect(action.Locator("ol.attempts li")).ToContainTextAsync("succeeded");
        await DashboardFixture.ScreenshotAsync(page, "automation-firing");

        // The list shows the last firing (one request: GET /api/automations?lastFiring=true).
        await page.GetByRole(AriaRole.Link, new() { Name = "Automations", Exact = true }).ClickAsync();
        await Assertions.Expect(row.Locator("td.last-firing .badge")).ToHaveTextAsync("succeeded");
        await Assertions.Expect(row.Locator("td.last-firing")).ToContainTextAsync(new Regex("ago"));
        await page.Context.CloseAsync();
    }

    private async Task<bool> EnabledAsync(string automation, CancellationToken cancellationToken) =>
        (await fixture.Api.GetFromJsonAsync<JsonElement>("/api/automations/" + automation, cancellationToken)).GetProperty("enabled").GetBoolean();
}
