namespace Flow.Cli;

/// <summary>An error to show as <c>flow: error: …</c> with exit code 1.</summary>
internal sealed class CliException(string message) : Exception(message);
