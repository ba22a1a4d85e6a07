using Microsoft.Extensions.Logging;

namespace Flow.Samples;

/// <summary>The samples' log messages.</summary>
internal static partial class Logs
{
    [LoggerMessage(1, LogLevel.Information, "Loaded totals of {Regions} regions")]
    public static partial void LogLoaded(this ILogger logger, int regions);

    [LoggerMessage(2, LogLevel.Information, "Processed {Records} records")]
    public static partial void LogProcessed(this ILogger logger, int records);

    [LoggerMessage(3, LogLevel.Information, "Processing item {Item}")]
    public static partial void LogItem(this ILogger logger, int item);
}
