using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Flow.Client;
using Flow.Sdk;
using Spectre.Console;

namespace Flow.Cli;

/// <summary><c>flow deployment …</c>, <c>flow run …</c>, <c>flow automation …</c> and <c>flow event …</c> (<see cref="EventCommand"/>): the HTTP API from a terminal.</summary>
internal static partial class ApiCommands
{
    internal static readonly Option<string?> Api = new("--api") { Description = "The Flow API's address (default: FLOW_API_URL, else http://127.0.0.1:7071).", Recursive = true };
    internal static readonly Option<string?> ApiKey = new("--api-key") { Description = "The API key (default: FLOW_API_KEY).", Recursive = true };
    internal static readonly Option<bool> Json = new("--json") { Description = "Print the API's JSON instead of a table.", Recursive = true };

    public static IEnumerable<Command> Create()
    {
        var deployment = new Command("deployment", "Deployments: list, apply a deployments file, run.") { Api, ApiKey, Json };
        var ls = new Command("ls", "List deployments.");
        ls.SetAction((p, ct) => RunAsync(p, ct, async (api, json) =>
        {
            var list = await api.ListDeploymentsAsync(ct).ConfigureAwait(false);
            if (json)
            {
                return list;
            }

            var table = new Table().AddColumns("deployment", "pool", "paused", "schedules", "source");
            foreach (var d in list)
            {
                var schedules = string.Join("; ", d.Schedules.Select(s => s.Cron is { } c ? $"cron {c} {s.Timezone ?? "UTC"}" : $"every {s.Interval}"));
                table.AddRow(Markup.Escape(d.FullName), Markup.Escape(d.Pool), d.Paused ? "yes" : "no", Markup.Escape(schedules), Markup.Escape(d.Source ?? string.Empty));
            }

            AnsiConsole.Write(table);
            return null;
        }));

        var file = new Argument<FileInfo>("file") { Description = "A deployments file (YAML or JSON, the format of samples/flow.yaml)." };
        var apply = new Command("apply", "Apply a deployments file: creates or updates its work pools and deployments; unchanged ones are left alone.") { file };
        apply.SetAction((p, ct) => RunAsync(p, ct, async (api, json) =>
        {
            var path = p.GetValue(file)!;
            if (!path.Exists)
            {
                throw new CliException($"{path.FullName} does not exist.");
            }

            var text = await File.ReadAllTextAsync(path.FullName, ct).ConfigureAwait(false);
            var results = await api.ApplyDeploymentsAsync(text, ct).ConfigureAwait(false);
            if (json)
            {
                return results;
            }

            foreach (var r in results)
            {
                Console.WriteLine($"{r.Name}: {r.Outcome}");
            }

            return null;
        }));

        var name = new Argument<string>("deployment") { Description = "flow-name/deployment-name" };
        var parameters = new Option<string[]>("--param") { Description = "A parameter, name=value (the value is JSON when it parses as JSON, else a string); repeatable.", AllowMultipleArgumentsPerToken = false };
        var key = new Option<string?>("--idempotency-key") { Description = "The same key gives the same run." };
        var watch = new Option<bool>("--watch") { Description = "Stream the run's state changes and log lines until it ends; exit 1 unless it completed." };
        var run = new Command("run", "Trigger a run of a deployment.") { name, parameters, key, watch };
        run.SetAction((p, ct) => RunAsync(p, ct, async (api, json) =>
        {
            var deploymentName = p.GetValue(name)!;
            var values = new JsonObject();
            foreach (var pair in p.GetValue(parameters) ?? [])
            {
                var eq = pair.IndexOf('=', StringComparison.Ordinal);
                if (eq <= 0)
                {
                    throw new CliException($"--param '{pair}' is not name=value.");
                }

                values[pair[..eq]] = ParseValue(pair[(eq + 1)..]);
            }

            var request = new TriggerRunRequest { Parameters = JsonSerializer.SerializeToElement(values), IdempotencyKey = p.GetValue(key) };
            if (!deploymentName.Trim('/').Contains('/', StringComparison.Ordinal))
            {
                throw new CliException($"'{deploymentName}' is not a deployment (flow-name/deployment-name).");
            }

            var started = await api.TriggerRunAsync(deploymentName, request, ct).ConfigureAwait(false);
            var id = started.Id;
            if (!p.GetValue(watch))
            {
                if (json)
                {
                    return started;
                }

                Console.WriteLine($"run {id} {(started.Created ? "created" : "already existed")}: {started.State}");
                return null;
            }

            if (!json)
            {
                Console.WriteLine($"run {id} {(started.Created ? "created" : "already existed")}; watching (Ctrl+C stops watching, not the run)");
            }

            var final = await new RunWatcher(api, id, json).WatchAsync(ct).ConfigureAwait(false);
            if (json)
            {
                Console.WriteLine(JsonSerializer.Serialize(final, FlowJson.Options));
            }
            else
            {
                RunOutput.PrintRun(final);
            }

            return final.State == RunState.Completed ? null : throw new CliException($"run {id} ended {final.State}: {RunOutput.StateMessage(final)}");
        }));
        deployment.Subcommands.Add(ls);
        deployment.Subcommands.Add(apply);
        deployment.Subcommands.Add(run);

        var runs = new Command("run", "Runs: list, show, logs, cancel.") { Api, ApiKey, Json };
        var deploymentFilter = new Option<string?>("--deployment") { Description = "Only runs of this deployment." };
        var stateFilter = new Option<string?>("--state") { Description = "Only runs in this state, or Late (Scheduled or Pending past the grace period, newest scheduled first)." };
        var tagFilter = new Option<string[]>("--tag") { Description = "Only runs with this tag: key or key=value; repeat for several (all must match).", AllowMultipleArgumentsPerToken = false };
        var limit = new Option<int>("--limit") { Description = "How many (newest first).", DefaultValueFactory = _ => 20 };
        var runLs = new Command("ls", "List runs, newest first.") { deploymentFilter, stateFilter, tagFilter, limit };
        runLs.SetAction((p, ct) => RunAsync(p, ct, async (api, json) =>
        {
            RunState? state = null;
            var late = false;
            if (p.GetValue(stateFilter) is { } s)
            {
                late = string.Equals(s, "Late", StringComparison.OrdinalIgnoreCase);
                state = late ? null
                    : Enum.TryParse<RunState>(s, ignoreCase: true, out var parsed) && !int.TryParse(s, CultureInfo.InvariantCulture, out _)
                    ? parsed
                    : throw new CliException($"--state '{s}' is not a state; use one of {string.Join(", ", Enum.GetNames<RunState>())} or Late.");
            }

            var filter = new RunFilter
            {
                Deployment = p.GetValue(deploymentFilter),
                State = state,
                Late = late,
                Tags = p.GetValue(tagFilter) ?? [],
                PageSize = Math.Clamp(p.GetValue(limit), 1, 1000),
            };
            var page = await api.ListRunsAsync(filter, ct).ConfigureAwait(false);
            if (json)
            {
                return page;
            }

            RunOutput.PrintList(page.Runs, DateTimeOffset.UtcNow);
            return null;
        }));

        var runId = new Argument<string>("run") { Description = "The run id, or a unique prefix of it (at least 4 characters; looked up among the newest 5,000 runs)." };
        var get = new Command("get", "Show a run: state, history, task runs, result or failure.") { runId };
        get.SetAction((p, ct) => RunAsync(p, ct, async (api, json) =>
        {
            var id = await RunIds.ResolveAsync(api, p.GetValue(runId)!, ct).ConfigureAwait(false);
            var r = await api.GetRunAsync(id, ct).ConfigureAwait(false);
            if (json)
            {
                return r;
            }

            RunOutput.PrintRun(r);
            return null;
        }));

        var logsId = new Argument<string>("run") { Description = "The run id, or a unique prefix of it (at least 4 characters; looked up among the newest 5,000 runs)." };
        var logs = new Command("logs", "Print a run's log lines.") { logsId };
        logs.SetAction((p, ct) => RunAsync(p, ct, async (api, json) =>
        {
            var id = await RunIds.ResolveAsync(api, p.GetValue(logsId)!, ct).ConfigureAwait(false);
            string? token = null;
            do
            {
                var page = await api.GetRunLogsAsync(id, 1000, token, ct).ConfigureAwait(false);
                foreach (var line in page.Lines)
                {
                    Console.WriteLine(json ? JsonSerializer.Serialize(line, FlowJson.Options) : $"{line.Timestamp:O} {line.Level,-11} {line.Message}");
                }

                token = page.ContinuationToken;
            }
            while (token is not null);
            return null;
        }));

        var cancelId = new Argument<string>("run") { Description = "The run id, or a unique prefix of it (at least 4 characters; looked up among the newest 5,000 runs)." };
        var cancel = new Command("cancel", "Cancel a run.") { cancelId };
        cancel.SetAction((p, ct) => RunAsync(p, ct, async (api, json) =>
        {
            var id = await RunIds.ResolveAsync(api, p.GetValue(cancelId)!, ct).ConfigureAwait(false);
            var result = await api.CancelRunAsync(id, null, ct).ConfigureAwait(false);
            if (json)
            {
                return result;
            }

            Console.WriteLine($"cancellation of run {id} requested");
            return null;
        }));
        runs.Subcommands.Add(runLs);
        runs.Subcommands.Add(get);
        runs.Subcommands.Add(logs);
        runs.Subcommands.Add(cancel);
        return [deployment, runs, CreateAutomation(), EventCommand.Create()];
    }

    internal static async Task<int> RunAsync(ParseResult parse, CancellationToken ct, Func<FlowClient, bool, Task<object?>> action)
    {
        FlowClient? api = null;
        try
        {
            api = ApiClient.Create(parse.GetValue(Api), parse.GetValue(ApiKey));
            var result = await action(api, parse.GetValue(Json)).ConfigureAwait(false);
            if (result is not null)
            {
                Console.WriteLine(JsonSerializer.Serialize(result, result.GetType(), FlowJson.Options));
            }

            return 0;
        }
        catch (FlowApiException e)
        {
            await Console.Error.WriteLineAsync("flow: error: " + ApiClient.Describe(e)).ConfigureAwait(false);
            return 1;
        }
        catch (HttpRequestException e)
        {
            await Console.Error.WriteLineAsync($"flow: error: cannot reach the Flow API at {api?.Address} ({e.Message}); start it (./flow.sh start) or set --api / FLOW_API_URL.").ConfigureAwait(false);
            return 1;
        }
        catch (CliException e)
        {
            await Console.Error.WriteLineAsync("flow: error: " + e.Message).ConfigureAwait(false);
            return 1;
        }
        finally
        {
            api?.Dispose();
        }
    }

    private static JsonNode? ParseValue(string text)
    {
        try
        {
            return JsonNode.Parse(text);
        }
        catch (JsonException)
        {
            return JsonValue.Create(text);
        }
    }
}
