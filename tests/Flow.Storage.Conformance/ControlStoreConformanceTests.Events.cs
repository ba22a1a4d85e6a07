using System.Text.Json;
using Flow.ControlPlane;
using Flow.ControlPlane.Automations;
using Flow.Engine.Events;
using Flow.Engine.Storage;
using Flow.TestSupport;

namespace Flow.Storage.Conformance;

/// <summary>
/// Control-plane events (docs/events.md): every change of a deployment, pool or automation, every refused run request and
/// every firing and action outcome writes exactly one event with the change; a failed change writes none; a retried write
/// keeps one.
/// </summary>
public abstract partial class ControlStoreConformanceTests
{
    /// <summary>The event store the control store writes its events to.</summary>
    /// <param name="store">A store made by <see cref="CreateStoreAsync"/>.</param>
    /// <returns>Its event store.</returns>
    protected abstract IEventStore EventsOf(IControlStore store);

    [Fact]
    public async Task DeploymentChanges_EachWritesOneEventOfItsKind_WithResourceLabelsAndNoParameters()
    {
        using var deadline = TestDeadline.Create(Timeout);
        var store = await NewStoreAsync(deadline.Token);
        var deployment = FullDeployment("etl/daily") with { Paused = false };

        var created = await store.PutDeploymentAsync(deployment, IControlStore.MustNotExist, deadline.Token);
        var updated = await store.PutDeploymentAsync(deployment with { Version = "v2", UpdatedAt = T0.AddHours(6) }, created.Version, deadline.Token);
        var paused = await store.PutDeploymentAsync(updated.Record with { Paused = true, UpdatedAt = T0.AddHours(7) }, updated.Version, deadline.Token);
        await store.PutDeploymentAsync(paused.Record with { Paused = false, UpdatedAt = T0.AddHours(8) }, null, deadline.Token);
        Assert.True(await store.DeleteDeploymentAsync("etl/daily", deadline.Token));

        var events = await EventsAboutAsync(store, "deployment/etl/daily", deadline.Token);
        Assert.Equal(
            ["deployment.created", "deployment.updated", "deployment.paused", "deployment.resumed", "deployment.deleted"],
            events.Select(e => e.Kind));
        Assert.All(events, e =>
        {
            Assert.Equal("deployment/etl/daily", e.Resource.Id);
            Assert.Equal("etl", e.Resource.Labels!["flow"]);
            Assert.Equal("etl/daily", e.Resource.Labels["deployment"]);
            Assert.Equal("process-eu-1", e.Resource.Labels["pool"]);
            Assert.Contains(e.Related, r => r.Id == "work-pool/process-eu-1" && r.Role == "work-pool");
            Assert.DoesNotContain("crm", e.Payload, StringComparison.Ordinal); // parameters never ride on an event
            Assert.DoesNotContain("ETL_TOKEN", e.Payload, StringComparison.Ordinal); // nor the environment
        });
        var update = JsonDocument.Parse(events[1].Payload!).RootElement;
        Assert.Equal("v2", update.GetProperty("version").GetString());
        Assert.Equal(["version"], update.GetProperty("changed").EnumerateArray().Select(c => c.GetString()));
        Assert.True(JsonDocument.Parse(events[2].Payload!).RootElement.GetProperty("paused").GetBoolean());
        Assert.Equal(events.Count, events.Select(e => e.Id).Distinct().Count());
    }

    [Fact]
    public async Task WorkPoolChanges_EachWritesOneEventOfItsKind()
    {
        using var deadline = TestDeadline.Create(Timeout);
        var store = await NewStoreAsync(deadline.Token);
        var pool = FullPool("gpu") with { Paused = false };

        var created = await store.PutWorkPoolAsync(pool, IControlStore.MustNotExist, deadline.Token);
        var paused = await store.PutWorkPoolAsync(pool with { Paused = true, UpdatedAt = T0.AddMinutes(2) }, created.Version, deadline.Token);
        var resumed = await store.PutWorkPoolAsync(pool with { Paused = false, UpdatedAt = T0.AddMinutes(3) }, paused.Version, deadline.Token);
        await store.PutWorkPoolAsync(pool with { ConcurrencyLimit = 4, UpdatedAt = T0.AddMinutes(4) }, resumed.Version, deadline.Token);
        Assert.True(await store.DeleteWorkPoolAsync("gpu", deadline.Token));

        var events = await EventsAboutAsync(store, "work-pool/gpu", deadline.Token);
        Assert.Equal(["work-pool.created", "work-pool.paused", "work-pool.resumed", "work-pool.updated", "work-pool.deleted"], events.Select(e => e.Kind));
        Assert.All(events, e => Assert.Equal("gpu", e.Resource.Labels!["pool"]));
        Assert.Equal(4, JsonDocument.Parse(events[3].Payload!).RootElement.GetProperty("concurrencyLimit").GetInt32());
    }

    [Fact]
    public async Task AutomationChanges_AndFirings_WriteOneEventEach()
    {
        using var deadline = TestDeadline.Create(Timeout);
        var store = await NewStoreAsync(deadline.Token);
        var automation = FullAutomation("alert");

        var created = await store.PutAutomationAsync(automation, IControlStore.MustNotExist, deadline.Token);
        var disabled = await store.PutAutomationAsync(automation with { Enabled = false }, created.Version, deadline.Token);
        var enabled = await store.PutAutomationAsync(automation with { Enabled = true }, disabled.Version, deadline.Token);
        await store.PutAutomationAsync(automation with { Description = "changed" }, enabled.Version, deadline.Token);

        var firing = Firing("alert", "f-0123456789abcdef0123456789abcdef", T0) is var f
            ? f with { Actions = [.. f.Actions.Select(a => a with { Status = AutomationFiring.Pending, Result = null }), f.Actions[0] with { Index = 1, Status = AutomationFiring.Pending, IdempotencyKey = f.Id + ".a1" }] }
            : throw new InvalidOperationException();
        var fired = await store.PutFiringAsync(firing, IControlStore.MustNotExist, deadline.Token);
        var first = await store.PutFiringAsync(fired.Record with { Actions = [firing.Actions[0] with { Status = AutomationFiring.Succeeded, Result = "200" }, firing.Actions[1]] }, fired.Version, deadline.Token);
        var second = first.Record with { Status = AutomationFiring.Failed, Actions = [first.Record.Actions[0], firing.Actions[1] with { Status = AutomationFiring.Failed }] };
        await store.PutFiringAsync(second, first.Version, deadline.Token);
        await store.PutFiringAsync(second, null, deadline.Token); // written again: the outcomes are settled already
        Assert.True(await store.DeleteAutomationAsync("alert", deadline.Token));

        var events = await EventsAboutAsync(store, "automation/alert", deadline.Token);
        Assert.Equal(
            new[] { "automation.created", "automation.disabled", "automation.enabled", "automation.updated", "automation.triggered", "automation.action.succeeded", "automation.action.failed", "automation.deleted" }.Order(StringComparer.Ordinal),
            events.Select(e => e.Kind).Order(StringComparer.Ordinal));
        var triggered = Assert.Single(events, e => e.Kind == "automation.triggered");
        Assert.Equal(firing.Id + ".triggered", triggered.Id);
        Assert.Contains(triggered.Related, r => r.Id == "flow-run/run-1" && r.Role == "trigger");
        Assert.Equal(firing.Id + ".a0.succeeded", Assert.Single(events, e => e.Kind == "automation.action.succeeded").Id);
        Assert.Equal(firing.Id + ".a1.failed", Assert.Single(events, e => e.Kind == "automation.action.failed").Id);
        Assert.All(events, e => Assert.True(ControlEvents.IsCausedBy(e, "alert")));
    }

    [Fact]
    public async Task RefusedRunRequest_WritesOneEvent_EvenWhenRecordedTwice()
    {
        using var deadline = TestDeadline.Create(Timeout);
        var store = await NewStoreAsync(deadline.Token);
        var request = Rejected("msg-42", T0, "parameters.count: expected an integer") with { Field = "parameters.count", Body = new string('x', 5000) };

        await store.AddRejectedRequestAsync(request, deadline.Token);
        await store.AddRejectedRequestAsync(request, deadline.Token);

        var events = await EventsAboutAsync(store, "run-request/msg-42", deadline.Token);
        var refused = Assert.Single(events);
        Assert.Equal("run-request.refused", refused.Kind);
        var payload = JsonDocument.Parse(refused.Payload!).RootElement;
        Assert.Equal("parameters.count", payload.GetProperty("field").GetString());
        Assert.Equal(5000, payload.GetProperty("bodyLength").GetInt32());
        Assert.True(payload.GetProperty("body").GetString()!.Length <= ControlEvents.MaxTextLength + 1);
        Assert.Single(await store.ListRejectedRequestsAsync(10, deadline.Token)); // the outbox is no request
    }

    [Fact]
    public async Task FailedChanges_WriteNoEvent()
    {
        using var deadline = TestDeadline.Create(Timeout);
        var store = await NewStoreAsync(deadline.Token);
        var created = await store.PutDeploymentAsync(MinimalDeployment("etl/daily"), IControlStore.MustNotExist, deadline.Token);
        await store.PutDeploymentAsync(created.Record with { Paused = true }, created.Version, deadline.Token);
        var pool = await store.PutWorkPoolAsync(FullPool("gpu"), IControlStore.MustNotExist, deadline.Token);
        var before = (await AllEventsAsync(store, deadline.Token)).Count;

        await Assert.ThrowsAsync<ConcurrencyException>(() => store.PutDeploymentAsync(created.Record with { Version = "x" }, IControlStore.MustNotExist, deadline.Token));
        await Assert.ThrowsAsync<ConcurrencyException>(() => store.PutDeploymentAsync(created.Record with { Paused = false }, created.Version, deadline.Token));
        await Assert.ThrowsAsync<ConcurrencyException>(() => store.PutWorkPoolAsync(pool.Record with { Paused = false }, created.Version, deadline.Token));
        await Assert.ThrowsAnyAsync<ArgumentException>(() => store.PutDeploymentAsync(MinimalDeployment("etl/daily") with { Pool = "Not A Pool!" }, null, deadline.Token));
        await Assert.ThrowsAnyAsync<ArgumentException>(() => store.PutAutomationAsync(FullAutomation("bad name!"), null, deadline.Token));
        Assert.False(await store.DeleteDeploymentAsync("etl/missing", deadline.Token));
        Assert.False(await store.DeleteWorkPoolAsync("missing", deadline.Token));
        Assert.False(await store.DeleteAutomationAsync("missing", deadline.Token));

        Assert.Equal(before, (await AllEventsAsync(store, deadline.Token)).Count);
        Assert.True((await store.GetDeploymentAsync("etl/daily", deadline.Token))!.Record.Paused);
    }

    [Fact]
    public async Task RetriedWrites_KeepOneEvent()
    {
        using var deadline = TestDeadline.Create(Timeout);
        var store = await NewStoreAsync(deadline.Token);
        var deployment = MinimalDeployment("etl/daily") with { UpdatedAt = T0 };
        var pool = FullPool("gpu");

        // The same write made twice (a caller retrying after a lost answer): the second changes nothing and has no event.
        await store.PutDeploymentAsync(deployment, null, deadline.Token);
        await store.PutDeploymentAsync(deployment, null, deadline.Token);
        await store.PutWorkPoolAsync(pool, null, deadline.Token);
        await store.PutWorkPoolAsync(pool, null, deadline.Token);

        // Many evaluators creating one firing: one firing, one event.
        var firing = Firing("alert", "f-00000000000000000000000000000001", T0);
        await Task.WhenAll(Enumerable.Range(0, 4).Select(async _ =>
        {
            try
            {
                await store.PutFiringAsync(firing, IControlStore.MustNotExist, deadline.Token);
            }
            catch (ConcurrencyException)
            {
                // another writer created it
            }
        }));

        var events = await AllEventsAsync(store, deadline.Token);
        Assert.Single(events, e => e.Kind == "deployment.created");
        Assert.Single(events, e => e.Kind == "work-pool.created");
        Assert.Single(events, e => e.Kind == "automation.triggered");
        Assert.DoesNotContain(events, e => e.Kind is "deployment.updated" or "work-pool.updated");
    }

    /// <summary>The events about (or related to) a resource, oldest first.</summary>
    protected async Task<List<FlowEvent>> EventsAboutAsync(IControlStore store, string resourceId, CancellationToken cancellationToken) =>
        [.. (await ListAllAsync(EventsOf(store), new EventQuery { ResourceId = resourceId, PageSize = 500 }, cancellationToken)).Where(e => e.Resource.Id == resourceId)];

    /// <summary>Every event of a store, oldest first.</summary>
    protected Task<List<FlowEvent>> AllEventsAsync(IControlStore store, CancellationToken cancellationToken) =>
        ListAllAsync(EventsOf(store), new EventQuery { PageSize = 500 }, cancellationToken);

    private static async Task<List<FlowEvent>> ListAllAsync(IEventStore events, EventQuery query, CancellationToken cancellationToken)
    {
        var all = new List<FlowEvent>();
        for (string? token = null; ;)
        {
            var page = await events.ListAsync(query with { ContinuationToken = token }, cancellationToken);
            all.AddRange(page.Events);
            if ((token = page.ContinuationToken) is null)
            {
                break;
            }
        }

        // Newest first by time; events of one change sequence are ordered by their time, ties kept in list order reversed.
        all.Reverse();
        return all;
    }
}
