using System.CommandLine;
using Flow.Client;
using Spectre.Console;

namespace Flow.Cli;

/// <summary><c>flow automation ls|apply|enable|disable|firings</c>.</summary>
internal static partial class ApiCommands
{
    private static Command CreateAutomation()
    {
        var automation = new Command("automation", "Automations: list, apply from a deployments file, enable, disable, show firings.") { Api, ApiKey, Json };
        var ls = new Command("ls", "List automations.");
        ls.SetAction((p, ct) => RunAsync(p, ct, async (api, json) =>
        {
            var list = await api.ListAutomationsAsync(ct).ConfigureAwait(false);
            if (json)
            {
                return list;
            }

            var table = new Table().AddColumns("automation", "enabled", "trigger", "actions", "source");
            foreach (var a in list)
            {
                table.AddRow(Markup.Escape(a.Name), a.Enabled ? "yes" : "no", Markup.Escape(Describe(a.Trigger)), Markup.Escape(string.Join(", ", a.Actions.Select(x => x.Type))), Markup.Escape(a.Source ?? string.Empty));
            }

            AnsiConsole.Write(table);
            return null;
        }));

        var file = new Argument<FileInfo>("file") { Description = "A deployments file with an automations: section (YAML or JSON)." };
        var apply = new Command("apply", "Apply a deployments file's automations (and its pools and deployments); unchanged ones are left alone.") { file };
        apply.SetAction((p, ct) => RunAsync(p, ct, async (api, json) =>
        {
            var path = p.GetValue(file)!;
            if (!path.Exists)
            {
                throw new CliException($"{path.FullName} does not exist.");
            }

            await api.ApplyDeploymentsAsync(await File.ReadAllTextAsync(path.FullName, ct).ConfigureAwait(false), ct).ConfigureAwait(false);
            var list = await api.ListAutomationsAsync(ct).ConfigureAwait(false);
            if (json)
            {
                return list;
            }

            foreach (var a in list)
            {
                Console.WriteLine($"{a.Name}: {(a.Enabled ? "enabled" : "disabled")}, updated {a.UpdatedAt:u} from {a.Source}");
            }

            return null;
        }));

        var name = new Argument<string>("name") { Description = "The automation's name." };
        var enable = new Command("enable", "Enable an automation: it evaluates events from now on.") { name };
        enable.SetAction((p, ct) => RunAsync(p, ct, async (api, json) => Toggled(await api.SetAutomationEnabledAsync(p.GetValue(name)!, true, ct).ConfigureAwait(false), json)));
        var disable = new Command("disable", "Disable an automation.") { name };
        disable.SetAction((p, ct) => RunAsync(p, ct, async (api, json) => Toggled(await api.SetAutomationEnabledAsync(p.GetValue(name)!, false, ct).ConfigureAwait(false), json)));

        var count = new Option<int?>("--count") { Description = "How many firings, 1-1000 (default 50)." };
        var firings = new Command("firings", "Show an automation's firings, newest first, with each action's outcome.") { name, count };
        firings.SetAction((p, ct) => RunAsync(p, ct, async (api, json) =>
        {
            var list = await api.ListAutomationFiringsAsync(p.GetValue(name)!, p.GetValue(count), ct).ConfigureAwait(false);
            if (json)
            {
                return list;
            }

            var table = new Table().AddColumns("fired", "firing", "status", "reason", "actions");
            foreach (var f in list)
            {
                var actions = string.Join("; ", f.Actions.Select(a => $"{a.Type} {a.Status} ({a.Attempts.Count} attempt{(a.Attempts.Count == 1 ? "" : "s")}{(a.Result is { } r ? ": " + r : a.Attempts.LastOrDefault()?.Detail is { } d ? ": " + d : "")})"));
                table.AddRow(f.FiredAt.ToString("u", System.Globalization.CultureInfo.InvariantCulture), Markup.Escape(f.Id), f.Status, Markup.Escape(f.Reason), Markup.Escape(actions));
            }

            AnsiConsole.Write(table);
            return null;
        }));

        automation.Subcommands.Add(ls);
        automation.Subcommands.Add(apply);
        automation.Subcommands.Add(enable);
        automation.Subcommands.Add(disable);
        automation.Subcommands.Add(firings);
        return automation;
    }

    private static AutomationView? Toggled(AutomationView automation, bool json)
    {
        if (json)
        {
            return automation;
        }

        Console.WriteLine($"{automation.Name}: {(automation.Enabled ? "enabled" : "disabled")}");
        return null;
    }

    private static string Describe(AutomationTriggerView t)
    {
        var what = string.Join("|", t.Expect ?? []);
        var scope = t.ForEach is { } f ? $" per {f}" : string.Empty;
        return t.Posture == "proactive"
            ? $"no {what} within {t.Within} s{(t.After is { } a ? " after " + string.Join("|", a) : string.Empty)}{scope}"
            : $"{(t.Threshold is > 1 ? $"{t.Threshold}× " : string.Empty)}{what}{(t.Threshold is > 1 ? $" within {t.Within} s" : string.Empty)}{scope}";
    }
}
