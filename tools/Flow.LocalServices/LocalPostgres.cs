using System.Diagnostics;
using System.Globalization;
using Npgsql;

namespace Flow.LocalServices;

/// <summary>
/// A private PostgreSQL cluster: initdb in a temporary folder, started with pg_ctl on a free loopback port, tuned for speed
/// (fsync, synchronous_commit and full_page_writes off), for a test assembly run (Flow.TestSupport's <c>PostgresFixture</c>)
/// or a benchmark: <see cref="StartAsync"/>, connect with <see cref="ConnectionString"/> or <see cref="ConnectionStringFor"/>,
/// dispose to stop it and delete its folder.
/// </summary>
/// <remarks>
/// PostgreSQL refuses to run as root, so as root the server binaries run as the <c>postgres</c> user
/// (<c>runuser -u postgres -- ...</c>) in a folder that user owns. Because pg_ctl daemonizes the server, each cluster
/// folder records the owning test process; starting a fixture stops and deletes clusters whose owner is dead.
/// </remarks>
public class LocalPostgres : IAsyncDisposable
{
    private const string OwnerFileName = "owner.pid";
    private const int StartAttempts = 3;
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(50);
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(30);

    private string? _clusterDir;
    private string? _pgCtl;
    private bool _started;

    /// <summary>The folder under the temporary folder that holds every test cluster.</summary>
    public static string ClustersRoot => Path.Combine(Path.GetTempPath(), "flow-test-pg");

    /// <summary>The server port on 127.0.0.1.</summary>
    public int Port { get; private set; }

    /// <summary>The cluster folder (data directory in its <c>data</c> subfolder, the log in <c>postgres.log</c>).</summary>
    public string ClusterDirectory => _clusterDir ?? throw new InvalidOperationException("The fixture is not initialized.");

    /// <summary>The superuser connection string (user postgres, database postgres, trust authentication).</summary>
    public string ConnectionString => ConnectionStringFor("postgres");

    /// <summary>The server log so far (for diagnosing a failing test).</summary>
    public string ReadServerLog()
    {
        var log = Path.Combine(ClusterDirectory, "postgres.log");
        return File.Exists(log) ? File.ReadAllText(log) : string.Empty;
    }

    /// <summary>Cleans up dead runs' clusters, then creates and starts this run's cluster and waits until it accepts connections.</summary>
    /// <param name="cancellation">Cancels the start.</param>
    /// <returns>A task.</returns>
    /// <exception cref="InvalidOperationException">initdb or pg_ctl is missing, or the server did not start.</exception>
    public async Task StartAsync(CancellationToken cancellation)
    {
        var initdb = ToolLocator.RequirePostgresBinary("initdb");
        _pgCtl = ToolLocator.RequirePostgresBinary("pg_ctl");
        using var deadline = Deadline(StartTimeout, cancellation);

        await CleanUpAbandonedClustersAsync(_pgCtl, deadline.Token);

        Directory.CreateDirectory(ClustersRoot);
        _clusterDir = Path.Combine(ClustersRoot, string.Create(CultureInfo.InvariantCulture, $"{Environment.ProcessId}-{Guid.NewGuid().ToString("N")[..12]}"));
        Directory.CreateDirectory(_clusterDir);
        await File.WriteAllTextAsync(Path.Combine(_clusterDir, OwnerFileName), OwnerStamp(Process.GetCurrentProcess()), deadline.Token);
        if (RunAsPostgresUser)
        {
            await RunCheckedAsync("chown", ["-R", "postgres:postgres", _clusterDir], deadline.Token);
        }

        var dataDir = Path.Combine(_clusterDir, "data");
        await RunPostgresToolAsync(initdb,
            ["-D", dataDir, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C", "--no-sync", "--no-instructions"],
            deadline.Token);

        for (var attempt = 1; ; attempt++)
        {
            Port = FreePorts.Next();
            await File.AppendAllTextAsync(Path.Combine(dataDir, "postgresql.conf"), ServerSettings(Port, _clusterDir), deadline.Token);
            var start = await RunAsync(RunAsPostgresUser ? "runuser" : _pgCtl,
                Wrap(_pgCtl, ["start", "-D", dataDir, "-l", Path.Combine(_clusterDir, "postgres.log"), "-w", "-t", "30"]),
                deadline.Token);
            if (start.ExitCode == 0)
            {
                _started = true;
                break;
            }

            var log = ReadServerLog();
            if (attempt < StartAttempts && log.Contains("could not bind", StringComparison.OrdinalIgnoreCase))
            {
                continue; // The port was taken between choosing and binding: choose again.
            }

            throw new InvalidOperationException($"pg_ctl start failed with exit code {start.ExitCode}: {start.Output}\nServer log:\n{log}");
        }

        await WaitUntilAcceptingAsync(deadline.Token);
    }

    private async Task WaitUntilAcceptingAsync(CancellationToken cancellationToken)
    {
        using var deadline = Deadline(StartTimeout, cancellationToken);
        Exception? last = null;
        while (true)
        {
            try
            {
                await using var connection = new NpgsqlConnection(ConnectionString);
                await connection.OpenAsync(deadline.Token);
                await using var command = new NpgsqlCommand("SELECT 1", connection);
                if (Equals(await command.ExecuteScalarAsync(deadline.Token), 1))
                {
                    return;
                }
            }
            catch (Exception e) when (e is NpgsqlException or System.Net.Sockets.SocketException)
            {
                last = e;
            }
            catch (OperationCanceledException e) when (!cancellationToken.IsCancellationRequested)
            {
                throw new TimeoutException($"PostgreSQL did not accept connections on port {Port} within {StartTimeout.TotalSeconds} s: {last?.Message}", e);
            }

            try
            {
                await Task.Delay(PollInterval, deadline.Token);
            }
            catch (OperationCanceledException e) when (!cancellationToken.IsCancellationRequested)
            {
                throw new TimeoutException($"PostgreSQL did not accept connections on port {Port} within {StartTimeout.TotalSeconds} s: {last?.Message}", e);
            }
        }
    }

    private static CancellationTokenSource Deadline(TimeSpan timeout, CancellationToken cancellationToken)
    {
        var source = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        source.CancelAfter(timeout);
        return source;
    }

    /// <summary>Creates a database and returns a connection string to it.</summary>
    /// <param name="name">The database name (a plain identifier).</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The connection string.</returns>
    public async Task<string> CreateNamedDatabaseAsync(string name, CancellationToken cancellationToken)
    {
        await ExecuteAsync(ConnectionString, $"CREATE DATABASE \"{name}\"", cancellationToken);
        return ConnectionStringFor(name);
    }

    /// <summary>Creates a schema in the postgres database and returns a connection string whose search path is that schema.</summary>
    /// <param name="name">The schema name (a plain identifier).</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The connection string.</returns>
    public async Task<string> CreateNamedSchemaAsync(string name, CancellationToken cancellationToken)
    {
        await ExecuteAsync(ConnectionString, $"CREATE SCHEMA \"{name}\"", cancellationToken);
        return ConnectionStringFor("postgres", name);
    }

    /// <summary>
    /// Stops the server (<c>pg_ctl stop -m fast</c>: every connection is closed, as in a server restart or failover); it keeps
    /// its data folder and port. <see cref="StartServerAsync"/> starts it again.
    /// </summary>
    /// <param name="cancellationToken">The test's deadline.</param>
    public async Task StopServerAsync(CancellationToken cancellationToken = default)
    {
        if (_pgCtl is null || !_started)
        {
            throw new InvalidOperationException("The server is not running.");
        }

        var result = await RunAsync(RunAsPostgresUser ? "runuser" : _pgCtl,
            Wrap(_pgCtl, ["stop", "-D", Path.Combine(ClusterDirectory, "data"), "-m", "fast", "-w", "-t", "30"]), cancellationToken);
        if (result.ExitCode != 0)
        {
            throw new InvalidOperationException($"pg_ctl stop failed with exit code {result.ExitCode}: {result.Output}");
        }

        _started = false;
    }

    /// <summary>Starts a server stopped by <see cref="StopServerAsync"/> on the same port and data folder, and waits until it accepts connections.</summary>
    /// <param name="cancellationToken">The test's deadline.</param>
    public async Task StartServerAsync(CancellationToken cancellationToken = default)
    {
        if (_pgCtl is null || _started)
        {
            throw new InvalidOperationException("The server is not stopped.");
        }

        var result = await RunAsync(RunAsPostgresUser ? "runuser" : _pgCtl,
            Wrap(_pgCtl, ["start", "-D", Path.Combine(ClusterDirectory, "data"), "-l", Path.Combine(ClusterDirectory, "postgres.log"), "-w", "-t", "30"]),
            cancellationToken);
        if (result.ExitCode != 0)
        {
            throw new InvalidOperationException($"pg_ctl start failed with exit code {result.ExitCode}: {result.Output}\nServer log:\n{ReadServerLog()}");
        }

        _started = true;
        await WaitUntilAcceptingAsync(cancellationToken);
    }

    /// <summary>Stops the server (fast, then immediate) and deletes the cluster folder.</summary>
    /// <returns>A task.</returns>
    public async ValueTask DisposeAsync()
    {
        GC.SuppressFinalize(this);
        if (_clusterDir is null || _pgCtl is null)
        {
            return;
        }

        NpgsqlConnection.ClearAllPools();
        if (_started)
        {
            await StopClusterAsync(_pgCtl, _clusterDir, "fast", CancellationToken.None);
            _started = false;
        }

        DeleteDirectory(_clusterDir);
        _clusterDir = null;
    }

    private static bool RunAsPostgresUser => Environment.IsPrivilegedProcess && !OperatingSystem.IsWindows();

    /// <summary>The superuser connection string to a database, optionally with a search path.</summary>
    /// <param name="database">The database.</param>
    /// <param name="searchPath">The schema to search first, or null.</param>
    /// <returns>The connection string.</returns>
    public string ConnectionStringFor(string database, string? searchPath = null)
    {
        var builder = new NpgsqlConnectionStringBuilder
        {
            Host = "127.0.0.1",
            Port = Port,
            Username = "postgres",
            Database = database,
            IncludeErrorDetail = true,
            Timeout = 15,
        };
        if (searchPath is not null)
        {
            builder.SearchPath = searchPath;
        }

        return builder.ConnectionString;
    }

    private static string ServerSettings(int port, string socketDir) =>
        string.Create(CultureInfo.InvariantCulture, $"""

            # Flow test cluster (PostgresFixture): loopback only, durability off for speed.
            port = {port}
            listen_addresses = '127.0.0.1'
            unix_socket_directories = '{socketDir.Replace("'", "''", StringComparison.Ordinal)}'
            fsync = off
            synchronous_commit = off
            full_page_writes = off
            max_connections = 200

            """);

    private static async Task ExecuteAsync(string connectionString, string sql, CancellationToken cancellationToken)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync(cancellationToken);
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private static string OwnerStamp(Process process) =>
        string.Create(CultureInfo.InvariantCulture, $"{process.Id} {process.StartTime.ToUniversalTime().Ticks}");

    private static bool OwnerIsAlive(string stamp)
    {
        var parts = stamp.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length != 2 || !int.TryParse(parts[0], CultureInfo.InvariantCulture, out var pid)
            || !long.TryParse(parts[1], CultureInfo.InvariantCulture, out var startTicks))
        {
            return false;
        }

        try
        {
            using var process = Process.GetProcessById(pid);
            // Guards against pid reuse. Not an exact match: .NET derives a process's start time from the boot time each
            // process computes for itself, so two processes reading it differ by a few milliseconds (an exact match made
            // one test assembly's janitor stop the live cluster of another assembly running at the same time).
            return !process.HasExited && Math.Abs(process.StartTime.ToUniversalTime().Ticks - startTicks) < TimeSpan.TicksPerSecond;
        }
        catch (ArgumentException)
        {
            return false;
        }
        catch (InvalidOperationException)
        {
            return false;
        }
    }

    /// <summary>The janitor: clusters whose owning test process is dead are stopped and deleted.</summary>
    private static async Task CleanUpAbandonedClustersAsync(string pgCtl, CancellationToken cancellationToken)
    {
        if (!Directory.Exists(ClustersRoot))
        {
            return;
        }

        foreach (var dir in Directory.EnumerateDirectories(ClustersRoot))
        {
            var ownerFile = Path.Combine(dir, OwnerFileName);
            if (File.Exists(ownerFile))
            {
                if (OwnerIsAlive(await File.ReadAllTextAsync(ownerFile, cancellationToken)))
                {
                    continue;
                }
            }
            else if (Directory.GetCreationTimeUtc(dir) > DateTime.UtcNow.AddMinutes(-10))
            {
                continue; // Probably being created right now by another test process.
            }

            if (File.Exists(Path.Combine(dir, "data", "postmaster.pid")))
            {
                await StopClusterAsync(pgCtl, dir, "immediate", cancellationToken);
            }

            DeleteDirectory(dir);
        }
    }

    private static async Task StopClusterAsync(string pgCtl, string clusterDir, string mode, CancellationToken cancellationToken)
    {
        var dataDir = Path.Combine(clusterDir, "data");
        foreach (var stopMode in mode == "fast" ? new[] { "fast", "immediate" } : [mode])
        {
            using var stopDeadline = Deadline(StopTimeout, cancellationToken);
            try
            {
                var result = await RunAsync(RunAsPostgresUser ? "runuser" : pgCtl,
                    Wrap(pgCtl, ["stop", "-D", dataDir, "-m", stopMode, "-w", "-t", "20"]), stopDeadline.Token);
                if (result.ExitCode == 0 || !File.Exists(Path.Combine(dataDir, "postmaster.pid")))
                {
                    return;
                }
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                // Try the next, harsher mode.
            }
        }
    }

    private static void DeleteDirectory(string dir)
    {
        try
        {
            Directory.Delete(dir, recursive: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Left for the next run's janitor.
        }
    }

    private static List<string> Wrap(string binary, IEnumerable<string> arguments) =>
        RunAsPostgresUser ? ["-u", "postgres", "--", binary, .. arguments] : [.. arguments];

    private static async Task RunPostgresToolAsync(string binary, IEnumerable<string> arguments, CancellationToken cancellationToken) =>
        await RunCheckedAsync(RunAsPostgresUser ? "runuser" : binary, Wrap(binary, arguments), cancellationToken);

    private static async Task RunCheckedAsync(string fileName, IEnumerable<string> arguments, CancellationToken cancellationToken)
    {
        var args = arguments.ToList();
        var result = await RunAsync(fileName, args, cancellationToken);
        if (result.ExitCode != 0)
        {
            throw new InvalidOperationException(
                $"'{fileName} {string.Join(' ', args)}' failed with exit code {result.ExitCode}:\n{result.Output}");
        }
    }

    private static Task<ProcessResult> RunAsync(string fileName, IEnumerable<string> arguments, CancellationToken cancellationToken) =>
        ProcessRunner.RunAsync(fileName, arguments, new ProcessRunnerOptions { WorkingDirectory = Path.GetTempPath() }, cancellationToken);
}
