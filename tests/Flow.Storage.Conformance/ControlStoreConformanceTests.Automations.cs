using System.Text.Json;
using Flow.ControlPlane;
using Flow.ControlPlane.Automations;
using Flow.Engine.Events;
using Flow.Engine.Storage;
using Flow.TestSupport;

namespace Flow.Storage.Conformance;

/// <summary>Automations and firings: round trips, write conditions, create-once under contention, newest-first listing.</summary>
public abstract partial class ControlStoreConformanceTests
{
    [Fact]
    public async Task PutAutomationAsync_EveryField_RoundTripsAndListsByName()
    {
        using var deadline = TestDeadline.Create(Timeout);
        var store = await NewStoreAsync(deadline.Token);
        var full = FullAutomation("zeta");
        await store.PutAutomationAsync(full, IControlStore.MustNotExist, deadline.Token);
        await store.PutAutomationAsync(FullAutomation("alpha.1") with { Enabled = false, EnabledAt = null }, null, deadline.Token);

        var read = await store.GetAutomationAsync("zeta", deadline.Token);
        Assert.NotNull(read);
        Assert.Equal(CanonicalJson(ControlStoreContract.Normalize(full)), CanonicalJson(read.Record));
        Assert.Equal(["alpha.1", "zeta"], (await store.ListAutomationsAsync(deadline.Token)).Select(a => a.Record.Name));
        Assert.Null(await store.GetAutomationAsync("missing", deadline.Token));
    }

    [Fact]
    public async Task PutAutomationAsync_WriteConditions_CreateOnceReplaceByVersionDelete()
    {
        using var deadline = TestDeadline.Create(Timeout);
        var store = await NewStoreAsync(deadline.Token);
        var first = await store.PutAutomationAsync(FullAutomation("a"), IControlStore.MustNotExist, deadline.Token);
        await Assert.ThrowsAsync<ConcurrencyException>(() => store.PutAutomationAsync(FullAutomation("a"), IControlStore.MustNotExist, deadline.Token));

        var second = await store.PutAutomationAsync(FullAutomation("a") with { Description = "v2" }, first.Version, deadline.Token);
        Assert.NotEqual(first.Version, second.Version);
        await Assert.ThrowsAsync<ConcurrencyException>(() => store.PutAutomationAsync(FullAutomation("a") with { Description = "stale" }, first.Version, deadline.Token));
        Assert.Equal("v2", (await store.GetAutomationAsync("a", deadline.Token))!.Record.Description);

        Assert.True(await store.DeleteAutomationAsync("a", deadline.Token));
        Assert.False(await store.DeleteAutomationAsync("a", deadline.Token));
        await Assert.ThrowsAnyAsync<ArgumentException>(() => store.GetAutomationAsync("bad/name", deadline.Token));
    }

    [Fact]
    public async Task PutFiringAsync_ManyWritersCreateTheSameFiring_ExactlyOneSucceeds()
    {
        using var deadline = TestDeadline.Create(Timeout);
        var store = await NewStoreAsync(deadline.Token);
        var firing = Firing("a", "f-0123456789abcdef0123456789abcdef", T0);

        var outcomes = await Task.WhenAll(Enumerable.Range(0, 8).Select(async _ =>
        {
            try
            {
                await store.PutFiringAsync(firing, IControlStore.MustNotExist, deadline.Token);
                return true;
            }
            catch (ConcurrencyException)
            {
                return false;
            }
        }));

        Assert.Single(outcomes, created => created);
        var read = await store.GetFiringAsync("a", firing.Id, deadline.Token);
        Assert.NotNull(read);
        Assert.Equal(CanonicalJson(ControlStoreContract.Normalize(firing)), CanonicalJson(read.Record));
    }

    [Fact]
    public async Task PutFiringAsync_ReplaceByVersion_StaleVersionWritesNothing()
    {
        using var deadline = TestDeadline.Create(Timeout);
        var store = await NewStoreAsync(deadline.Token);
        var created = await store.PutFiringAsync(Firing("a", "f-1", T0), IControlStore.MustNotExist, deadline.Token);
        var done = created.Record with { Status = AutomationFiring.Succeeded };

        var replaced = await store.PutFiringAsync(done, created.Version, deadline.Token);
        await Assert.ThrowsAsync<ConcurrencyException>(() => store.PutFiringAsync(created.Record with { Status = AutomationFiring.Failed }, created.Version, deadline.Token));

        var read = await store.GetFiringAsync("a", "f-1", deadline.Token);
        Assert.Equal(AutomationFiring.Succeeded, read!.Record.Status);
        Assert.Equal(replaced.Version, read.Version);
    }

    [Fact]
    public async Task ListFiringsAsync_NewestFirst_OnlyThatAutomation_AtMostCount()
    {
        using var deadline = TestDeadline.Create(Timeout);
        var store = await NewStoreAsync(deadline.Token);
        for (var i = 0; i < 5; i++)
        {
            await store.PutFiringAsync(Firing("a", $"f-{i}", T0.AddMinutes(i)), IControlStore.MustNotExist, deadline.Token);
        }

        await store.PutFiringAsync(Firing("b", "f-9", T0.AddHours(1)), IControlStore.MustNotExist, deadline.Token);

        Assert.Equal(["f-4", "f-3", "f-2"], (await store.ListFiringsAsync("a", 3, deadline.Token)).Select(f => f.Record.Id));
        Assert.Equal(["f-9"], (await store.ListFiringsAsync("b", 10, deadline.Token)).Select(f => f.Record.Id));
        Assert.Empty(await store.ListFiringsAsync("c", 10, deadline.Token));
        await Assert.ThrowsAnyAsync<ArgumentException>(() => store.ListFiringsAsync("a", 0, deadline.Token));
    }

    /// <summary>An automation with every field set, Unicode in free text and JSON templates.</summary>
    protected static AutomationRecord FullAutomation(string name) => new()
    {
        Name = name,
        Description = "Alerte ✓ 失败",
        Enabled = true,
        Trigger = new AutomationTrigger
        {
            Posture = AutomationTrigger.Proactive,
            Expect = ["flow-run.Completed"],
            After = ["flow-run.Running"],
            Match = new Dictionary<string, string> { ["flow"] = "daily-etl", ["state"] = "!Scheduled" },
            MatchRelated = [new RelatedMatch { Role = "tag", Id = "tag/prod" }],
            ForEach = "id",
            Threshold = 1,
            Within = 1800,
        },
        Actions =
        [
            new AutomationAction { Type = AutomationActionTypes.CallWebhook, Url = "https://hooks.example/x", Secret = "slack", MaxAttempts = 3, Body = JsonDocument.Parse("""{"text":"{{ event.resource.labels.flow }} 遅い","n":1}""").RootElement },
            new AutomationAction { Type = AutomationActionTypes.RunDeployment, Deployment = "etl/recover", Parameters = JsonDocument.Parse("""{"run":"{{ event.resource.id }}"}""").RootElement },
        ],
        Source = "file:flow.yaml",
        CreatedAt = T0,
        UpdatedAt = T0.AddMinutes(1),
        EnabledAt = T0.AddMinutes(1),
    };

    /// <summary>A firing with an event, one action and one attempt.</summary>
    protected static AutomationFiring Firing(string automation, string id, DateTimeOffset firedAt) => new()
    {
        Automation = automation,
        Id = id,
        FiredAt = firedAt,
        Reason = "event flow-run.Failed matched",
        Key = "deployment/etl/daily",
        EventIds = ["run-1.t3"],
        Event = new FlowEvent
        {
            Id = "run-1.t3",
            Kind = "flow-run.Failed",
            OccurredAt = firedAt.ToUniversalTime(),
            Resource = new EventResource("flow-run/run-1", null, new Dictionary<string, string> { ["flow"] = "etl", ["state"] = "Failed" }),
            Related = [new EventResource("deployment/etl/daily", "deployment")],
            Payload = """{"message":"boom ✗"}""",
        },
        Actions =
        [
            new FiringAction
            {
                Index = 0,
                Type = AutomationActionTypes.CallWebhook,
                IdempotencyKey = id + ".a0",
                NextAttemptAt = firedAt.AddSeconds(2),
                Attempts = [new FiringAttempt { At = firedAt, Succeeded = false, StatusCode = 503, Detail = "HTTP 503" }],
            },
        ],
    };

    private static string CanonicalJson<T>(T record) => JsonSerializer.Serialize(record);
}
