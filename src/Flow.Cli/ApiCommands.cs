using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Spectre.Console;

namespace Flow.Cli;

/// <summary><c>flow deployment …</c> and <c>flow run …</c>: the HTTP API from a terminal.</summary>
internal static class ApiCommands
{
    private static readonly Option<string?> Api = new("--api") { Description = "The Flow API's address (default: FLOW_API_URL, else http://127.0.0.1:7071).", Recursive = true };
    private static readonly Option<string?> ApiKey = new("--api-key") { Description = "The API key (default: FLOW_API_KEY).", Recursive = true };
    private static readonly Option<bool> Json = new("--json") { Description = "Print the API's JSON instead of a table.", Recursive = true };

    public static IEnumerable<Command> Create()
    {
        var deployment = new Command("deployment", "Deployments: list, apply a deployments file, run.") { Api, ApiKey, Json };
        var ls = new Command("ls", "List deployments.");
        ls.SetAction((p, ct) => RunAsync(p, ct, async (api, json) =>
        {
            var list = await api.GetAsync("deployments", ct).ConfigureAwait(false);
            if (json)
            {
                return list;
            }

            var table = new Table().AddColumns("deployment", "pool", "paused", "schedules", "source");
            foreach (var d in list.EnumerateArray())
            {
                var schedules = string.Join("; ", d.GetProperty("schedules").EnumerateArray().Select(s =>
                    s.TryGetProperty("cron", out var c) ? $"cron {c.GetString()} {(s.TryGetProperty("timezone", out var z) ? z.GetString() : "UTC")}" : $"every {s.GetProperty("interval").GetString()}"));
                table.AddRow(Markup.Escape(d.GetProperty("fullName").GetString()!), Markup.Escape(d.GetProperty("pool").GetString()!), d.GetProperty("paused").GetBoolean() ? "yes" : "no", Markup.Escape(schedules), Markup.Escape(RunOutput.Text(d, "source")));
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
            var results = await api.PostAsync("deployments/apply", text, ct, path.Extension.Equals(".json", StringComparison.OrdinalIgnoreCase) ? "application/json" : "application/yaml").ConfigureAwait(false);
            if (json)
            {
                return results;
            }

            foreach (var r in results.EnumerateArray())
            {
                Console.WriteLine($"{r.GetProperty("name").GetString()}: {r.GetProperty("outcome").GetString()}");
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
            var body = new JsonObject();
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

            body["parameters"] = values;
            if (p.GetValue(key) is { } k)
            {
                body["idempotencyKey"] = k;
            }

            var started = await api.PostAsync($"deployments/{deploymentName.Trim('/')}/runs", body.ToJsonString(), ct).ConfigureAwait(false);
            var id = started.GetProperty("id").GetString()!;
            if (!p.GetValue(watch))
            {
                if (json)
                {
                    return started;
                }

                Console.WriteLine($"run {id} {(started.GetProperty("created").GetBoolean() ? "created" : "already existed")}: {started.GetProperty("state").GetString()}");
                return null;
            }

            if (!json)
            {
                Console.WriteLine($"run {id} {(started.GetProperty("created").GetBoolean() ? "created" : "already existed")}; watching (Ctrl+C stops watching, not the run)");
            }

            var final = await new RunWatcher(api, id, json).WatchAsync(ct).ConfigureAwait(false);
            if (json)
            {
                Console.WriteLine(final.GetRawText());
            }
            else
            {
                RunOutput.PrintRun(final);
            }

            var state = final.GetProperty("state").GetString();
            return state == "Completed" ? null : throw new CliException($"run {id} ended {state}: {RunOutput.StateMessage(final)}");
        }));
        deployment.Subcommands.Add(ls);
        deployment.Subcommands.Add(apply);
        deployment.Subcommands.Add(run);

        var runs = new Command("run", "Runs: list, show, logs, cancel.") { Api, ApiKey, Json };
        var deploymentFilter = new Option<string?>("--deployment") { Description = "Only runs of this deployment." };
        var stateFilter = new Option<string?>("--state") { Description = "Only runs in this state." };
        var limit = new Option<int>("--limit") { Description = "How many (newest first).", DefaultValueFactory = _ => 20 };
        var runLs = new Command("ls", "List runs, newest first.") { deploymentFilter, stateFilter, limit };
        runLs.SetAction((p, ct) => RunAsync(p, ct, async (api, json) =>
        {
            var query = $"runs?pageSize={Math.Clamp(p.GetValue(limit), 1, 1000).ToString(CultureInfo.InvariantCulture)}";
            if (p.GetValue(deploymentFilter) is { } d)
            {
                query += "&deployment=" + Uri.EscapeDataString(d);
            }

            if (p.GetValue(stateFilter) is { } s)
            {
                query += "&state=" + Uri.EscapeDataString(s);
            }

            var page = await api.GetAsync(query, ct).ConfigureAwait(false);
            if (json)
            {
                return page;
            }

            RunOutput.PrintList(page.GetProperty("runs").EnumerateArray().ToArray(), DateTimeOffset.UtcNow);
            return null;
        }));

        var runId = new Argument<string>("run") { Description = "The run id, or a unique prefix of it (at least 4 characters; looked up among the newest 5,000 runs)." };
        var get = new Command("get", "Show a run: state, history, task runs, result or failure.") { runId };
        get.SetAction((p, ct) => RunAsync(p, ct, async (api, json) =>
        {
            var id = await RunIds.ResolveAsync(api, p.GetValue(runId)!, ct).ConfigureAwait(false);
            var r = await api.GetAsync("runs/" + Uri.EscapeDataString(id), ct).ConfigureAwait(false);
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
                var page = await api.GetAsync($"runs/{Uri.EscapeDataString(id)}/logs?pageSize=1000" + (token is null ? string.Empty : "&continuationToken=" + Uri.EscapeDataString(token)), ct).ConfigureAwait(false);
                foreach (var line in page.GetProperty("lines").EnumerateArray())
                {
                    Console.WriteLine(json ? line.GetRawText() : $"{line.GetProperty("timestamp").GetDateTimeOffset():O} {line.GetProperty("level").GetString(),-11} {line.GetProperty("message").GetString()}");
                }

                token = page.TryGetProperty("continuationToken", out var t) ? t.GetString() : null;
            }
            while (token is not null);
            return null;
        }));

        var cancelId = new Argument<string>("run") { Description = "The run id, or a unique prefix of it (at least 4 characters; looked up among the newest 5,000 runs)." };
        var cancel = new Command("cancel", "Cancel a run.") { cancelId };
        cancel.SetAction((p, ct) => RunAsync(p, ct, async (api, json) =>
        {
            var id = await RunIds.ResolveAsync(api, p.GetValue(cancelId)!, ct).ConfigureAwait(false);
            var result = await api.PostAsync($"runs/{Uri.EscapeDataString(id)}/cancel", null, ct).ConfigureAwait(false);
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
        return [deployment, runs];
    }

    private static async Task<int> RunAsync(ParseResult parse, CancellationToken ct, Func<ApiClient, bool, Task<JsonElement?>> action)
    {
        try
        {
            using var api = new ApiClient(parse.GetValue(Api), parse.GetValue(ApiKey));
            var result = await action(api, parse.GetValue(Json)).ConfigureAwait(false);
            if (result is { } json)
            {
                Console.WriteLine(json.GetRawText());
            }

            return 0;
        }
        catch (CliException e)
        {
            await Console.Error.WriteLineAsync("flow: error: " + e.Message).ConfigureAwait(false);
            return 1;
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
