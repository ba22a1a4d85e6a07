using Flow.Client;
using Flow.Engine.Storage;

namespace Flow.Functions.Api;

/// <summary>
/// The purge API: <c>DELETE /api/runs/{id}</c> and <c>DELETE /api/runs?finishedBefore=</c>, on the store's
/// <see cref="IRunRetention"/> (the path retention uses). Only runs in a final state are ever deleted.
/// </summary>
internal static class RunPurgeEndpoints
{
    /// <summary>The default and largest number of runs one <c>DELETE /api/runs</c> deletes.</summary>
    public const int DefaultLimit = 100;
    public const int MaxLimit = 1000;

    private static readonly string[] FilterParameters = ["finishedBefore", "limit"];

    public static void Map(RouteGroupBuilder runs)
    {
        runs.MapDelete("/{id}", async (string id, IRunRetention retention, CancellationToken ct) =>
        {
            if (id.Length is 0 or > 100 || !id.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.'))
            {
                return Problems.Field("id", $"'{id}' is not a run id (1-100 letters, digits, '-', '_' and '.')");
            }

            return await retention.DeleteRunAsync(id, ct) switch
            {
                RunDeletion.Deleted => Results.NoContent(),
                RunDeletion.NotFinal => Problems.Problem(409, "Conflict", $"Run '{id}' is not finished; only a run in a final state (Completed, Cached, Failed, Crashed, Cancelled) can be deleted. Cancel it first."),
                _ => Problems.NotFound($"Run '{id}' does not exist."),
            };
        }).Produces(204).ProducesProblem(404).ProducesProblem(409).ProducesValidationProblem()
          .WithSummary("Deletes a finished run with its journal, state history, inbox, logs, artifacts and stored payloads. A live run is refused (409).");

        runs.MapDelete("/", async (HttpRequest request, IRunRetention retention, CancellationToken ct) =>
        {
            var errors = new Dictionary<string, string[]>();
            foreach (var key in request.Query.Keys.Where(k => !FilterParameters.Contains(k, StringComparer.Ordinal)))
            {
                errors[key] = [$"unknown parameter; use {string.Join(" and ", FilterParameters)}"];
            }

            var finishedBefore = ApiEndpoints.Time(Single(request, "finishedBefore", errors), "finishedBefore", errors);
            if (finishedBefore is null && !errors.ContainsKey("finishedBefore"))
            {
                errors["finishedBefore"] = ["required: an ISO 8601 time; runs that finished before it are deleted"];
            }

            var limit = DefaultLimit;
            if (Single(request, "limit", errors) is { } text && (!int.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out limit) || limit is < 1 or > MaxLimit))
            {
                errors["limit"] = [$"'{text}' is not a number from 1 to {MaxLimit}"];
            }

            if (errors.Count > 0)
            {
                return Problems.Validation(errors);
            }

            var deleted = await retention.DeleteFinishedRunsAsync(finishedBefore!.Value, limit, ct);
            return Results.Json(new PurgeRunsView { Deleted = deleted, FinishedBefore = finishedBefore.Value, More = deleted == limit }, ApiJson.Options);
        }).Produces<PurgeRunsView>().ProducesValidationProblem()
          .WithSummary($"Deletes up to limit (1-{MaxLimit}, default {DefaultLimit}) runs in a final state that finished before finishedBefore (ISO 8601), with everything stored for them; live runs are never touched. Repeat while more is true.");
    }

    private static string? Single(HttpRequest request, string name, Dictionary<string, string[]> errors)
    {
        if (!request.Query.TryGetValue(name, out var values))
        {
            return null;
        }

        if (values.Count != 1)
        {
            errors[name] = ["give it once"];
            return null;
        }

        return values[0];
    }
}
