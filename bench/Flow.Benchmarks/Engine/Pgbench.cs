using System.Globalization;
using System.Text.RegularExpressions;
using System.Text.Json.Nodes;
using Flow.LocalServices;
using Npgsql;

namespace Flow.Benchmarks.Engine;

/// <summary>
/// pgbench's simple-update workload (<c>pgbench -N</c>: per transaction one UPDATE of pgbench_accounts, a SELECT and an
/// INSERT into pgbench_history) on a private cluster configured like the engine scenarios' (or the given server), at each
/// client count: the server's own rate of small write transactions on this machine, next to the engine's figures.
/// </summary>
internal static partial class Pgbench
{
    public static async Task<JsonObject> MeasureAsync(EngineBenchOptions options, string? connectionString)
    {
        LocalPostgres? fixture = null;
        if (connectionString is null)
        {
            fixture = new LocalPostgres();
            await fixture.StartAsync(CancellationToken.None).ConfigureAwait(false);
            connectionString = fixture.ConnectionString;
        }

        try
        {
            var server = new NpgsqlConnectionStringBuilder(connectionString);
            var pgbench = ToolLocator.RequirePostgresBinary("pgbench");
            string[] target = ["-h", server.Host!, "-p", server.Port.ToString(CultureInfo.InvariantCulture), "-U", server.Username ?? "postgres", server.Database ?? "postgres"];
            var environment = new Dictionary<string, string?> { ["PGPASSWORD"] = server.Password };
            await RunAsync(pgbench, ["-i", "-s", "1", "-q", .. target], environment, TimeSpan.FromMinutes(2)).ConfigureAwait(false);
            var results = new JsonArray();
            foreach (var clients in options.PgbenchClients)
            {
                var output = await RunAsync(
                    pgbench,
                    ["-N", "-c", clients.ToString(CultureInfo.InvariantCulture), "-j", Math.Min(clients, 2).ToString(CultureInfo.InvariantCulture), "-T", options.PgbenchSeconds.ToString(CultureInfo.InvariantCulture), .. target],
                    environment,
                    TimeSpan.FromSeconds(options.PgbenchSeconds + 60)).ConfigureAwait(false);
                var tps = Tps().Match(output) is { Success: true } m ? double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture) : double.NaN;
                Console.Error.WriteLine($"pgbench -N     c={clients,-3} {tps,9:F0} TPS ({options.PgbenchSeconds} s)");
                results.Add(new JsonObject { ["clients"] = clients, ["tps"] = Math.Round(tps, 1), ["seconds"] = options.PgbenchSeconds });
            }

            return new JsonObject
            {
                ["workload"] = "pgbench -i -s 1, then pgbench -N (simple-update: UPDATE pgbench_accounts + SELECT + INSERT pgbench_history per transaction) for each client count",
                ["server"] = fixture is not null ? "a fresh private cluster like the scenarios' (fsync, synchronous_commit and full_page_writes off)" : "the given server",
                ["results"] = results,
            };
        }
        finally
        {
            if (fixture is not null)
            {
                await fixture.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    /// <summary>The server binaries' version (from pg_ctl --version), e.g. "15.14".</summary>
    public static string ServerVersion()
    {
        try
        {
            var pgCtl = ToolLocator.RequirePostgresBinary("pg_ctl");
            using var process = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo(pgCtl, "--version") { RedirectStandardOutput = true })!;
            var text = process.StandardOutput.ReadToEnd();
            process.WaitForExit();
            return Version().Match(text) is { Success: true } m ? m.Value : "?";
        }
        catch (Exception e) when (e is InvalidOperationException or System.ComponentModel.Win32Exception)
        {
            return "?";
        }
    }

    private static async Task<string> RunAsync(string tool, IEnumerable<string> arguments, Dictionary<string, string?> environment, TimeSpan timeout)
    {
        using var cancellation = new CancellationTokenSource(timeout);
        var result = await ProcessRunner.RunAsync(tool, arguments, new ProcessRunnerOptions { Environment = environment }, cancellation.Token).ConfigureAwait(false);
        if (result.ExitCode != 0)
        {
            throw new InvalidOperationException($"{Path.GetFileName(tool)} failed with exit code {result.ExitCode}:\n{result.Output}");
        }

        return result.Output;
    }

    [GeneratedRegex(@"tps = ([0-9.]+) \(without initial connection time\)")]
    private static partial Regex Tps();

    [GeneratedRegex(@"\d+\.\d+")]
    private static partial Regex Version();
}
