using Microsoft.Extensions.Logging;

namespace Flow.LocalServices;

/// <summary>One captured log entry.</summary>
/// <param name="Level">The level.</param>
/// <param name="EventId">The event id (<c>LoggerMessage</c> ids identify what happened).</param>
/// <param name="Message">The formatted message.</param>
/// <param name="Exception">The exception, if any.</param>
public sealed record LogEntry(LogLevel Level, EventId EventId, string Message, Exception? Exception);

/// <summary>
/// A logger factory for tests and benchmarks: keeps every entry at or above <paramref name="minimum"/> (all
/// categories), and writes each to <paramref name="echo"/> too when one is given. Thread-safe.
/// </summary>
/// <param name="minimum">The lowest level kept.</param>
/// <param name="echo">Where to write entries as they come, or null.</param>
/// <param name="source">A name put in front of echoed lines, or null.</param>
public sealed class CapturingLoggerFactory(LogLevel minimum = LogLevel.Trace, TextWriter? echo = null, string? source = null) : ILoggerFactory, ILogger
{
    private readonly List<LogEntry> _entries = [];

    /// <summary>A snapshot of the entries so far.</summary>
    public IReadOnlyList<LogEntry> Entries
    {
        get
        {
            lock (_entries)
            {
                return [.. _entries];
            }
        }
    }

    /// <inheritdoc />
    public ILogger CreateLogger(string categoryName) => this;

    /// <inheritdoc />
    public void AddProvider(ILoggerProvider provider) => throw new NotSupportedException("Entries are only captured.");

    /// <inheritdoc />
    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    /// <inheritdoc />
    public bool IsEnabled(LogLevel logLevel) => logLevel >= minimum && logLevel != LogLevel.None;

    /// <inheritdoc />
    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        ArgumentNullException.ThrowIfNull(formatter);
        if (!IsEnabled(logLevel))
        {
            return;
        }

        var entry = new LogEntry(logLevel, eventId, formatter(state, exception), exception);
        lock (_entries)
        {
            _entries.Add(entry);
        }

        echo?.WriteLine($"[{source}{(source is null ? string.Empty : " ")}{logLevel}] {entry.Message}{(exception is null ? string.Empty : " " + exception.Message)}");
    }

    /// <inheritdoc />
    public void Dispose()
    {
    }
}
