using Flow.Client;
using Flow.ControlPlane.Automations;

namespace Flow.Functions.Api;

/// <summary><c>/api/automations</c>: create or update (PUT, idempotent), read, list, delete, enable, disable, and the firings.</summary>
internal static class AutomationEndpoints
{
    public static void Map(RouteGroupBuilder group)
    {
        group.MapGet("/", async (bool? lastFiring, AutomationService service, CancellationToken ct) =>
        {
            var views = (await service.ListAsync(ct)).Select(AutomationViews.Automation).ToArray();
            if (lastFiring == true)
            {
                // One store query per automation, in parallel: the dashboard's list shows each one's newest firing in one request.
                var newest = await Task.WhenAll(views.Select(v => service.ListFiringsAsync(v.Name, 1, ct)));
                views = [.. views.Select((v, i) => newest[i] is [var f, ..] ? v with { LastFiring = AutomationViews.Firing(f) } : v)];
            }

            return Results.Json(views, ApiJson.Options);
        }).Produces<AutomationView[]>().WithSummary("Lists automations, by name; with lastFiring=true each carries its newest firing (lastFiring).");

        group.MapPut("/{name}", async (string name, HttpRequest request, AutomationService service, CancellationToken ct) =>
        {
            var (spec, error) = await Problems.ReadJsonAsync<AutomationSpec>(request, required: true, ct);
            if (error is not null)
            {
                return error;
            }

            if (spec!.Name is not null && spec.Name != name)
            {
                return Problems.Field("name", "differs from the URL; leave it out or make it match");
            }

            var result = await service.ApplyAsync(name, spec, "api", ct);
            return Results.Json(AutomationViews.Automation(result.Automation), ApiJson.Options, statusCode: result.Outcome == "created" ? 201 : 200);
        }).Produces<AutomationView>().Produces<AutomationView>(201).ProducesValidationProblem()
            .WithSummary("Creates or updates an automation (idempotent: the same definition changes nothing). Every invalid field is named in the problem's errors (trigger.within, actions[0].url).");

        group.MapGet("/{name}", async (string name, AutomationService service, CancellationToken ct) =>
            Results.Json(AutomationViews.Automation(await service.GetAsync(name, ct)), ApiJson.Options))
            .Produces<AutomationView>().ProducesProblem(404).WithSummary("Reads an automation.");

        group.MapDelete("/{name}", async (string name, AutomationService service, CancellationToken ct) =>
        {
            await service.DeleteAsync(name, ct);
            return Results.NoContent();
        }).ProducesProblem(404).WithSummary("Deletes an automation (its firings stay readable).");

        group.MapPost("/{name}/enable", async (string name, AutomationService service, CancellationToken ct) =>
            Results.Json(AutomationViews.Automation(await service.SetEnabledAsync(name, true, ct)), ApiJson.Options))
            .Produces<AutomationView>().ProducesProblem(404).WithSummary("Enables an automation: it evaluates events from now on.");

        group.MapPost("/{name}/disable", async (string name, AutomationService service, CancellationToken ct) =>
            Results.Json(AutomationViews.Automation(await service.SetEnabledAsync(name, false, ct)), ApiJson.Options))
            .Produces<AutomationView>().ProducesProblem(404).WithSummary("Disables an automation: it stops evaluating events.");

        group.MapGet("/{name}/firings", async (string name, int? count, AutomationService service, CancellationToken ct) =>
            Results.Json((await service.ListFiringsAsync(name, count ?? 50, ct)).Select(AutomationViews.Firing), ApiJson.Options))
            .Produces<AutomationFiringView[]>().ProducesValidationProblem().WithSummary("Lists an automation's firings, newest first (count 1-1000, default 50): trigger reason, matched events, each action's status and attempts.");
    }
}
