using System.Globalization;
using System.Net.Sockets;
using Flow.Engine.Storage;
using Microsoft.Extensions.Configuration;
using Npgsql;

namespace Flow.Storage.Postgres;

/// <summary>
/// A PostgreSQL setting is missing or unusable, or the server cannot be reached at start. The message names the setting
/// and the server (host, port, database, user); it never contains the password.
/// </summary>
public sealed class PostgresStorageException : FlowStoreException
{
    /// <summary>Creates the exception.</summary>
    public PostgresStorageException()
    {
    }

    /// <summary>Creates the exception.</summary>
    /// <param name="message">What went wrong.</param>
    public PostgresStorageException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception.</summary>
    /// <param name="message">What went wrong.</param>
    /// <param name="innerException">The cause.</param>
    public PostgresStorageException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    /// <summary>The configuration setting the connection came from, when known.</summary>
    public string? SettingName { get; init; }
}

/// <summary>Finds the connection string in configuration and builds the <see cref="NpgsqlDataSource"/> the store and queue share.</summary>
public static class PostgresConnection
{
    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<NpgsqlDataSource, string> Descriptions = [];

    /// <summary>
    /// Reads the connection string: <c>Flow:Storage:Postgres:ConnectionString</c>, else <c>ConnectionStrings:{ConnectionStringName}</c>,
    /// else the setting <c>{ConnectionStringName}</c>.
    /// </summary>
    /// <param name="configuration">The configuration.</param>
    /// <param name="options">The options (for <see cref="PostgresFlowStorageOptions.ConnectionString"/> and <see cref="PostgresFlowStorageOptions.ConnectionStringName"/>).</param>
    /// <returns>The connection string and the name of the setting it came from.</returns>
    /// <exception cref="PostgresStorageException">None is set.</exception>
    public static (string ConnectionString, string SettingName) Resolve(IConfiguration configuration, PostgresFlowStorageOptions options)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        ArgumentNullException.ThrowIfNull(options);
        if (!string.IsNullOrWhiteSpace(options.ConnectionString))
        {
            return (options.ConnectionString, PostgresFlowStorageOptions.SectionName + ":" + nameof(PostgresFlowStorageOptions.ConnectionString));
        }

        var name = options.ConnectionStringName;
        if (!string.IsNullOrWhiteSpace(name))
        {
            if (configuration.GetConnectionString(name) is { Length: > 0 } named && !string.IsNullOrWhiteSpace(named))
            {
                return (named, "ConnectionStrings:" + name);
            }

            if (configuration[name] is { Length: > 0 } plain && !string.IsNullOrWhiteSpace(plain))
            {
                return (plain, name);
            }
        }

        throw new PostgresStorageException(
            $"No PostgreSQL connection string is configured: set {PostgresFlowStorageOptions.SectionName}:{nameof(PostgresFlowStorageOptions.ConnectionString)} " +
            $"or ConnectionStrings:{name} (environment: ConnectionStrings__{name}), e.g. \"Host=127.0.0.1;Port=5432;Database=flow;Username=flow;Password=…\".")
        {
            SettingName = "ConnectionStrings:" + name,
        };
    }

    /// <summary>
    /// Builds the data source: the connection string checked (a malformed one throws naming <paramref name="settingName"/>),
    /// statements auto-prepared (so a commit is one round trip with no parsing), application name <c>Flow</c> unless set.
    /// </summary>
    /// <param name="connectionString">The connection string.</param>
    /// <param name="settingName">Where it came from, for messages.</param>
    /// <returns>The data source (dispose it with the app).</returns>
    /// <exception cref="PostgresStorageException">The connection string is malformed.</exception>
    public static NpgsqlDataSource CreateDataSource(string connectionString, string settingName = PostgresFlowStorageOptions.SectionName + ":" + nameof(PostgresFlowStorageOptions.ConnectionString))
    {
        ArgumentNullException.ThrowIfNull(connectionString);
        NpgsqlDataSourceBuilder builder;
        try
        {
            builder = new NpgsqlDataSourceBuilder(connectionString);
            _ = builder.ConnectionStringBuilder.Host; // parsed: a bad keyword or value has thrown by now
        }
        catch (Exception e) when (e is ArgumentException or FormatException or InvalidOperationException)
        {
            // The parser's message names the keyword (never the password's value); the connection string itself is not repeated.
            throw new PostgresStorageException($"The setting {settingName} is not a valid PostgreSQL connection string: {e.Message}", e) { SettingName = settingName };
        }

        var csb = builder.ConnectionStringBuilder;
        if (string.IsNullOrWhiteSpace(csb.Host))
        {
            throw new PostgresStorageException($"The setting {settingName} has no Host: add Host=… (and Port, Database, Username, Password as needed).") { SettingName = settingName };
        }

        if (csb.MaxAutoPrepare == 0)
        {
            csb.MaxAutoPrepare = 64;
            csb.AutoPrepareMinUsages = 2;
        }

        // Flow keeps no session state (every name is schema-qualified): skip the reset when a connection goes back to the pool.
        csb.NoResetOnClose = true;
        csb.ApplicationName ??= "Flow";
        var dataSource = builder.Build();
        Descriptions.AddOrUpdate(dataSource, Describe(csb, settingName));
        return dataSource;
    }

    /// <summary>Where a data source points, for messages (never the password): as described when <see cref="CreateDataSource"/> built it, else from its connection string.</summary>
    /// <param name="dataSource">The data source.</param>
    /// <returns>A short description.</returns>
    public static string Describe(NpgsqlDataSource dataSource)
    {
        ArgumentNullException.ThrowIfNull(dataSource);
        return Descriptions.TryGetValue(dataSource, out var description)
            ? description
            : Describe(new NpgsqlConnectionStringBuilder(dataSource.ConnectionString), "the connection string");
    }

    /// <summary>The setting a data source's connection string came from, or "the connection string".</summary>
    /// <param name="dataSource">The data source.</param>
    /// <returns>The setting name.</returns>
    internal static string SettingOf(NpgsqlDataSource dataSource) =>
        Describe(dataSource) is var d && d.LastIndexOf("(setting ", StringComparison.Ordinal) is var at and >= 0 ? d[(at + 9)..^1] : "the connection string";

    /// <summary>Where a connection string points, for messages: host, port, database and user (never the password), and the setting.</summary>
    /// <param name="builder">The parsed connection string.</param>
    /// <param name="settingName">The setting it came from.</param>
    /// <returns>A short description.</returns>
    public static string Describe(NpgsqlConnectionStringBuilder builder, string settingName)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return string.Create(CultureInfo.InvariantCulture, $"PostgreSQL at {builder.Host}:{builder.Port}, database '{builder.Database ?? builder.Username}', user '{builder.Username}' (setting {settingName})");
    }

    /// <summary>True when an exception means the server could not be reached or the connection broke: worth trying again on a fresh connection.</summary>
    /// <param name="exception">The exception.</param>
    /// <returns>Whether it is transient.</returns>
    public static bool IsTransient(Exception exception) => exception switch
    {
        PostgresException pg => pg.IsTransient || pg.SqlState.StartsWith("08", StringComparison.Ordinal) || pg.SqlState is PostgresErrorCodes.AdminShutdown or PostgresErrorCodes.CrashShutdown or PostgresErrorCodes.CannotConnectNow,
        NpgsqlException npgsql => npgsql.IsTransient || npgsql.InnerException is SocketException or IOException or TimeoutException,
        SocketException or IOException => true,
        _ => false,
    };
}
