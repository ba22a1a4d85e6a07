using System.Net.Http.Json;
using System.Text.RegularExpressions;
using Flow.TestSupport;
using Microsoft.Playwright;

namespace Flow.Dashboard.Tests;

/// <summary>
/// The dashboard in a real Chromium against the app on Azurite: sign-in, the generated run form with the API's field errors,
/// live run pages (timeline, logs, artifacts), cancel, resume with input, URL filters and work pools. Each test saves a
/// screenshot under artifacts/dashboard/.
/// </summary>
public sealed partial class DashboardBrowserTests(DashboardFixture fixture) : IClassFixture<DashboardFixture>
{
    private static TestDeadline Deadline() => TestDeadline.Create(TimeSpan.FromSeconds(90));

    private static LocatorAssertionsToHaveTextOptions Within(TestDeadline deadline) => new() { Timeout = (float)deadline.Remaining.TotalMilliseconds };

    [Fact]
    public async Task SignIn_RefusesAWrongKey_WithAClearMessage_AndAcceptsTheRightOne()
    {
        using var deadline = Deadline();
        var page = await fixture.NewPageAsync(signedIn: false);
        await page.GotoAsync("/runs");
        await page.GetByLabel("API key").FillAsync("not-the-key");
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Alert)).ToContainTextAsync("The API key is wrong", new() { Timeout = 20_000 });
        await DashboardFixture.ScreenshotAsync(page, "sign-in-wrong-key");

        await page.GetByLabel("API key").FillAsync(DashboardFixture.ApiKey);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Runs" })).ToBeVisibleAsync();
        Assert.Equal(DashboardFixture.ApiKey, await page.EvaluateAsync<string>("sessionStorage.getItem('flow.apiKey')"));
        Assert.EndsWith("/runs", page.Url, StringComparison.Ordinal);
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task RunForm_ShowsTheApiFieldErrorInPlace_ThenTheRunReachesCompletedWithoutReload_WithTimelineLogsAndTable()
    {
        using var deadline = Deadline();
        var page = await fixture.NewPageAsync();
        await page.GotoAsync("/deployments/dash-report/nightly?run=1");
        var form = page.GetByRole(AriaRole.Form, new() { Name = "Run parameters" });
        await Assertions.Expect(form.GetByLabel(new Regex("^region"))).ToHaveValueAsync("north");

        // A required field left empty is caught before sending.
        await form.GetByLabel(new Regex("^region")).FillAsync(string.Empty);
        await form.GetByRole(AriaRole.Button, new() { Name = "Start run" }).ClickAsync();
        await Assertions.Expect(page.Locator("#f-region-error")).ToHaveTextAsync("required");

        // A time span the API cannot read comes back as a field error, shown next to the field.
        await form.GetByLabel(new Regex("^region")).FillAsync("west");
        await form.GetByLabel(new Regex("^window")).FillAsync("about an hour");
        await form.GetByRole(AriaRole.Button, new() { Name = "Start run" }).ClickAsync();
        await Assertions.Expect(page.Locator("#f-window-error")).ToContainTextAsync("TimeSpan", new() { Timeout = 20_000 });
        await Assertions.Expect(form.GetByLabel(new Regex("^window"))).ToHaveAttributeAsync("aria-invalid", "true");
        await DashboardFixture.ScreenshotAsync(page, "run-form-field-error");

        await form.GetByLabel(new Regex("^window")).FillAsync("01:00:00");
        await form.GetByLabel(new Regex("^count")).FillAsync("5");
        await form.GetByRole(AriaRole.Button, new() { Name = "Start run" }).ClickAsync();
        await Assertions.Expect(page).ToHaveURLAsync(new Regex("/runs/[^/?]+$"));
        var navigations = 0;
        page.FrameNavigated += (_, frame) => navigations += frame == page.MainFrame ? 1 : 0;

        // The page polls: the state badge turns Completed with no reload.
        await Assertions.Expect(page.Locator("h1 .badge")).ToHaveTextAsync("Completed", Within(deadline));
        Assert.Equal(0, navigations);

        var fetch = page.Locator(".tl-row[data-kind=task]").Filter(new() { HasText = "fetch" });
        await Assertions.Expect(fetch.Locator(".seg.failed")).ToHaveCountAsync(1);
        await Assertions.Expect(fetch.Locator(".seg.retry-wait")).ToHaveCountAsync(1);
        await Assertions.Expect(fetch).ToContainTextAsync("2 attempts");
        await Assertions.Expect(page.Locator(".tl-row[data-kind=task]").Filter(new() { HasText = "total" })).ToHaveAttributeAsync("data-state", "Completed");
        await DashboardFixture.ScreenshotAsync(page, "run-timeline");

        await page.GetByRole(AriaRole.Tab, new() { Name = "Logs" }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Log)).ToContainTextAsync("report for west done: total 150");
        await page.GetByLabel("Level").SelectOptionAsync("Warning");
        await Assertions.Expect(page.GetByRole(AriaRole.Log)).Not.ToContainTextAsync("totalling");
        Assert.Contains("level=Warning", page.Url, StringComparison.Ordinal);
        await DashboardFixture.ScreenshotAsync(page, "run-logs");

        await page.GetByRole(AriaRole.Tab, new() { Name = "Artifacts" }).ClickAsync();
        var table = page.Locator(".artifact[data-type=Table] table");
        await Assertions.Expect(table.Locator("tbody tr")).ToHaveCountAsync(5);
        await Assertions.Expect(table.Locator("tbody tr").First).ToContainTextAsync("west-1");
        await Assertions.Expect(page.Locator(".artifact[data-type=Markdown] h3").Last).ToHaveTextAsync("Report");
        await DashboardFixture.ScreenshotAsync(page, "run-artifacts");
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task RunPage_CancelsARunningRun()
    {
        using var deadline = Deadline();
        var id = await fixture.TriggerAsync("dash-hold/long", new { steps = 300 }, deadline.Token);
        await deadline.PollUntilAsync(async ct => await fixture.StateAsync(id, ct) == "Running", "the run to be running");
        var page = await fixture.NewPageAsync();
        await page.GotoAsync("/runs/" + id);
        await Assertions.Expect(page.Locator("h1 .badge")).ToHaveTextAsync("Running");
        await page.GetByRole(AriaRole.Button, new() { Name = "Cancel" }).ClickAsync();
        await Assertions.Expect(page.Locator("h1 .badge")).ToHaveTextAsync("Cancelled", Within(deadline));
        await page.GetByRole(AriaRole.Tab, new() { Name = "History" }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Tabpanel)).ToContainTextAsync("Cancelled from the dashboard");
        await DashboardFixture.ScreenshotAsync(page, "run-cancelled");
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task RunPage_ResumesAPausedRunWithInput()
    {
        using var deadline = Deadline();
        var id = await fixture.TriggerAsync("dash-review/approval", null, deadline.Token);
        await deadline.PollUntilAsync(async ct => await fixture.StateAsync(id, ct) == "Paused", "the run to pause");
        var page = await fixture.NewPageAsync();
        await page.GotoAsync("/runs/" + id);
        await page.GetByRole(AriaRole.Button, new() { Name = "Resume…" }).ClickAsync();
        await page.GetByLabel("Input for the paused flow (JSON)").FillAsync("{ \"by\": \"ana\", \"approved\": true ");
        await page.GetByRole(AriaRole.Button, new() { Name = "Resume run" }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Alert)).ToContainTextAsync("Not valid JSON");
        await page.GetByLabel("Input for the paused flow (JSON)").FillAsync("{ \"by\": \"ana\", \"approved\": true }");
        await DashboardFixture.ScreenshotAsync(page, "run-resume");
        await page.GetByRole(AriaRole.Button, new() { Name = "Resume run" }).ClickAsync();
        await Assertions.Expect(page.Locator("h1 .badge")).ToHaveTextAsync("Completed", Within(deadline));
        await page.GetByRole(AriaRole.Tab, new() { Name = "Result" }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Tabpanel)).ToContainTextAsync("approved by ana");
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task RunsList_FiltersByTagsInTheUrl_AndAsksTheServerForLateRuns()
    {
        using var deadline = Deadline();
        var marker = "m" + Guid.NewGuid().ToString("N")[..8];
        async Task<string> TriggerTaggedAsync(Dictionary<string, string> tags)
        {
            using var response = await fixture.Api.PostAsJsonAsync("/api/deployments/dash-report/nightly/runs", new { parameters = new { region = "east", count = 1 }, tags }, deadline.Token);
            var body = await response.Content.ReadFromJsonAsync<System.Text.Json.JsonElement>(deadline.Token);
            Assert.True(response.IsSuccessStatusCode, body.ToString());
            return body.GetProperty("id").GetString()!;
        }

        var tagged = await TriggerTaggedAsync(new() { [marker] = "yes", ["team"] = "data" });
        var other = await TriggerTaggedAsync(new() { [marker] = "no" });

        var page = await fixture.NewPageAsync();
        await page.GotoAsync($"/runs?tag={marker}=yes&tag=team");
        await Assertions.Expect(page.GetByLabel("Tags")).ToHaveValueAsync($"{marker}=yes team");
        await Assertions.Expect(page.Locator("table.runs tbody tr").Filter(new() { HasText = tagged })).ToHaveCountAsync(1);
        await Assertions.Expect(page.Locator("table.runs tbody tr").Filter(new() { HasText = other })).ToHaveCountAsync(0);

        // Typing tags rewrites the URL (repeated tag parameters), which the API receives as they are.
        await page.GetByLabel("Tags").FillAsync(marker);
        await page.GetByLabel("Tags").PressAsync("Enter");
        await Assertions.Expect(page).ToHaveURLAsync(new Regex($"tag={marker}(&|$)"));
        await Assertions.Expect(page.Locator("table.runs tbody tr").Filter(new() { HasText = other })).ToHaveCountAsync(1);

        // Late is the server's filter now: the request says state=Late, with the tags.
        var request = page.WaitForRequestAsync(new Regex(@"/api/runs\?state=Late&.*tag="));
        await page.GetByLabel("State").SelectOptionAsync("Late");
        await request;
        await Assertions.Expect(page).ToHaveURLAsync(new Regex("state=Late"));
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task RunsList_FiltersByStateFromTheUrl()
    {
        using var deadline = Deadline();
        var done = await fixture.TriggerAsync("dash-report/nightly", new { region = "east", count = 1 }, deadline.Token);
        var paused = await fixture.TriggerAsync("dash-review/approval", null, deadline.Token);
        await deadline.PollUntilAsync(async ct => await fixture.StateAsync(done, ct) == "Completed" && await fixture.StateAsync(paused, ct) == "Paused", "one run completed and one paused");

        var page = await fixture.NewPageAsync();
        await page.GotoAsync("/runs?state=Paused");
        await Assertions.Expect(page.GetByLabel("State")).ToHaveValueAsync("Paused");
        await Assertions.Expect(page.Locator("table.runs tbody tr").Filter(new() { HasText = paused })).ToHaveCountAsync(1);
        await Assertions.Expect(page.Locator("table.runs tbody tr").Filter(new() { HasText = done })).ToHaveCountAsync(0);
        foreach (var badge in await page.Locator("table.runs tbody .badge").AllTextContentsAsync())
        {
            Assert.Equal("Paused", badge);
        }

        // Changing the filter rewrites the URL, so the view can be shared and reloaded.
        await page.GetByLabel("State").SelectOptionAsync("Completed");
        await Assertions.Expect(page).ToHaveURLAsync(new Regex("state=Completed"));
        await Assertions.Expect(page.Locator("table.runs tbody tr").Filter(new() { HasText = done })).ToHaveCountAsync(1);
        await Assertions.Expect(page.Locator("table.runs tbody tr").Filter(new() { HasText = paused })).ToHaveCountAsync(0);
        await DashboardFixture.ScreenshotAsync(page, "runs-filtered");
        await page.ReloadAsync();
        await Assertions.Expect(page.GetByLabel("State")).ToHaveValueAsync("Completed");
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task DeploymentsList_ShowsWhenEachScheduleNextRuns()
    {
        using var deadline = Deadline();
        var spec = new { parameters = new { region = "north" }, schedules = new[] { new { cron = "0 6 1 1 *", timezone = "Europe/London" } } };
        using (var put = await fixture.Api.PutAsJsonAsync("/api/deployments/dash-report/new-year", spec, deadline.Token))
        {
            Assert.True(put.IsSuccessStatusCode, await put.Content.ReadAsStringAsync(deadline.Token));
        }

        var page = await fixture.NewPageAsync();
        await page.GotoAsync("/deployments");
        var scheduled = page.Locator("tbody tr").Filter(new() { Has = page.GetByRole(AriaRole.Link, new() { Name = "dash-report/new-year", Exact = true }) });
        await Assertions.Expect(scheduled.Locator("td.next-run time")).ToHaveAttributeAsync("datetime", new Regex("-01-01T06:00:00"));
        var manual = page.Locator("tbody tr").Filter(new() { Has = page.GetByRole(AriaRole.Link, new() { Name = "dash-report/nightly", Exact = true }) });
        await Assertions.Expect(manual.Locator("td.next-run")).ToHaveTextAsync("—");
        await DashboardFixture.ScreenshotAsync(page, "deployments");
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task WorkPools_PauseAndResumeAPool()
    {
        var page = await fixture.NewPageAsync();
        await page.GotoAsync("/work-pools");
        var row = page.Locator("tr[data-pool=spare]");
        await Assertions.Expect(row).ToContainTextAsync("0 / 4");
        await row.GetByRole(AriaRole.Button, new() { Name = "Pause spare" }).ClickAsync();
        await Assertions.Expect(row.Locator(".badge")).ToHaveTextAsync("Paused");
        await DashboardFixture.ScreenshotAsync(page, "work-pools");
        using var deadline = Deadline();
        var paused = await fixture.Api.GetStringAsync("/api/work-pools/spare", deadline.Token);
        Assert.Contains("\"paused\":true", paused, StringComparison.Ordinal);
        await row.GetByRole(AriaRole.Button, new() { Name = "Resume spare" }).ClickAsync();
        await Assertions.Expect(row).ToContainTextAsync("ready");
        Assert.Contains("\"paused\":false", await fixture.Api.GetStringAsync("/api/work-pools/spare", deadline.Token), StringComparison.Ordinal);
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task Home_And_Runs_DoNotBreakTheLayout_AtPhoneAndLaptopSizes()
    {
        foreach (var (width, height, name) in new[] { (1280, 720, "home"), (390, 844, "home-phone") })
        {
            var page = await fixture.NewPageAsync(width: width, height: height);
            await page.GotoAsync("/");
            await Assertions.Expect(page.Locator(".chart canvas")).ToHaveCountAsync(1);
            foreach (var path in new[] { "/", "/runs", "/deployments", "/events", "/automations" })
            {
                await page.GotoAsync(path);
                await Assertions.Expect(page.Locator("main h1")).ToBeVisibleAsync();
                var overflow = await page.EvaluateAsync<int>("document.documentElement.scrollWidth - document.documentElement.clientWidth");
                Assert.True(overflow <= 0, $"{path} at {width}x{height} scrolls sideways by {overflow}px");
            }

            await page.GotoAsync("/");
            await Assertions.Expect(page.Locator(".chart canvas")).ToHaveCountAsync(1);
            await DashboardFixture.ScreenshotAsync(page, name);
            await page.Context.CloseAsync();
        }
    }

    [Fact]
    public async Task Keyboard_Alone_SkipsToContent_OpensARun_AndMovesBetweenItsTabs()
    {
        using var deadline = Deadline();
        var id = await fixture.TriggerAsync("dash-report/nightly", new { region = "keys", count = 1 }, deadline.Token);
        await deadline.PollUntilAsync(async ct => await fixture.StateAsync(id, ct) == "Completed", "the run to complete");
        var page = await fixture.NewPageAsync();
        await page.GotoAsync("/runs");
        await Assertions.Expect(page.Locator("table.runs tbody tr").Filter(new() { HasText = id })).ToHaveCountAsync(1);

        // The first Tab reaches the skip link; Enter on it puts the focus on the page's content.
        await page.Keyboard.PressAsync("Tab");
        Assert.Equal("Skip to content", await ActiveAsync(page, "e => e.textContent.trim()"));
        await page.Keyboard.PressAsync("Enter");
        Assert.Equal("main", await ActiveAsync(page, "e => e.id"));

        // Tab walks to the run's link, which shows a visible focus ring; Enter opens the run and focuses its content.
        var href = "/runs/" + Uri.EscapeDataString(id);
        for (var i = 0; i < 80 && await ActiveAsync(page, "e => e.getAttribute('href') ?? ''") != href; i++)
        {
            await page.Keyboard.PressAsync("Tab");
        }

        Assert.Equal(href, await ActiveAsync(page, "e => e.getAttribute('href') ?? ''"));
        Assert.NotEqual("none", await ActiveAsync(page, "e => getComputedStyle(e).outlineStyle"));
        await page.Keyboard.PressAsync("Enter");
        await Assertions.Expect(page).ToHaveURLAsync(new Regex(Regex.Escape(href) + "$"));
        await Assertions.Expect(page.Locator("h1 .badge")).ToHaveTextAsync("Completed");
        Assert.Equal("main", await ActiveAsync(page, "e => e.id"));

        // The tab list is one tab stop (the selected tab); arrows, Home and End move the selection, and Tab enters the panel.
        for (var i = 0; i < 80 && await ActiveAsync(page, "e => e.getAttribute('role') ?? ''") != "tab"; i++)
        {
            await page.Keyboard.PressAsync("Tab");
        }

        Assert.Equal("Timeline", await ActiveAsync(page, "e => e.textContent"));
        await page.Keyboard.PressAsync("ArrowRight");
        Assert.Equal("Logs", await ActiveAsync(page, "e => e.textContent"));
        await Assertions.Expect(page).ToHaveURLAsync(new Regex("tab=logs"));
        await Assertions.Expect(page.GetByRole(AriaRole.Log)).ToContainTextAsync("report for keys done");
        await page.Keyboard.PressAsync("End");
        Assert.Equal("Journal", await ActiveAsync(page, "e => e.textContent"));
        await Assertions.Expect(page.Locator(".journal tr[data-kind=TaskCompleted]").First).ToBeVisibleAsync();
        await page.Keyboard.PressAsync("ArrowRight");
        Assert.Equal("Timeline", await ActiveAsync(page, "e => e.textContent"));
        await page.Keyboard.PressAsync("ArrowLeft");
        await page.Keyboard.PressAsync("ArrowLeft");
        await Assertions.Expect(page.GetByRole(AriaRole.Tab, new() { Name = "Result" })).ToHaveAttributeAsync("aria-selected", "true");
        await page.Keyboard.PressAsync("Tab");
        Assert.Equal("tabpanel", await ActiveAsync(page, "e => e.getAttribute('role') ?? ''"));
        await Assertions.Expect(page.GetByRole(AriaRole.Tabpanel)).ToHaveAttributeAsync("aria-labelledby", "run-tab-result");
        await Assertions.Expect(page.GetByRole(AriaRole.Tabpanel)).ToContainTextAsync("keys: 10");
        await DashboardFixture.ScreenshotAsync(page, "keyboard-run-result");
        await page.Context.CloseAsync();
    }

    private static Task<string> ActiveAsync(IPage page, string expression) =>
        page.EvaluateAsync<string>($"({expression})(document.activeElement)");
}
