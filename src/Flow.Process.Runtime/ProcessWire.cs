using System.Text.Json;
using System.Text.Json.Serialization;
using Flow.Engine.Storage;

namespace Flow.Process;

/// <summary>
/// The process API's wire format, shared by the API (Flow.Functions) and its clients here: JSON with web (camelCase) names
/// and enums as strings. Paths are under <c>/api/process/runs/{runId}</c> and need <c>Authorization: Bearer FLOW_RUN_TOKEN</c>.
/// </summary>
public static class ProcessWire
{
    /// <summary>The path prefix of the process API (followed by <c>/{runId}/...</c>).</summary>
    public const string RunsPath = "/api/process/runs";

    /// <summary>The JSON options.</summary>
    public static JsonSerializerOptions Json { get; } = new(JsonSerializerDefaults.Web)
    {
        Converters = { new JsonStringEnumConverter() },
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };
}

/// <summary>The answer of <c>POST .../attach</c>: the store's limits the subprocess's engine must respect.</summary>
/// <param name="RunId">The run.</param>
/// <param name="MaxItemsPerCommit">The store's <see cref="IFlowStore.MaxItemsPerCommit"/>.</param>
/// <param name="MaxPayloadBytes">The store's <see cref="IFlowStore.MaxPayloadBytes"/>.</param>
public sealed record AttachResponse(string RunId, int MaxItemsPerCommit, int MaxPayloadBytes);

/// <summary>The body of <c>POST .../enqueue</c>: a run work item for the token's run, visible after a delay.</summary>
/// <param name="Item">The item (kind <c>run</c>, the token's run id).</param>
/// <param name="DelayMilliseconds">The visibility delay.</param>
public sealed record EnqueueRequest(WorkItem Item, long DelayMilliseconds);

/// <summary>One log line sent by a process (<c>POST .../logs</c>).</summary>
/// <param name="Message">The text.</param>
/// <param name="Level">Information (default), Debug, Warning, Error, Critical.</param>
/// <param name="Timestamp">When; now when null.</param>
public sealed record ProcessLogLine(string Message, string? Level = null, DateTimeOffset? Timestamp = null);

/// <summary>The body of <c>POST .../logs</c>.</summary>
/// <param name="Lines">Up to 1,000 lines.</param>
public sealed record ProcessLogsRequest(IReadOnlyList<ProcessLogLine> Lines);

/// <summary>The body of <c>POST .../tasks</c>: a task run a script reports when it has finished it.</summary>
/// <param name="Name">The task name.</param>
/// <param name="State"><c>Completed</c> or <c>Failed</c>.</param>
/// <param name="Result">The result (any JSON value) of a completed task.</param>
/// <param name="Error">What went wrong, for a failed task.</param>
/// <param name="StartedAt">When it started (for its duration), or null.</param>
public sealed record ProcessTaskReport(string Name, string State, JsonElement? Result = null, string? Error = null, DateTimeOffset? StartedAt = null);

/// <summary>The body of <c>POST .../artifacts</c>.</summary>
/// <param name="Key">The key (letters, digits, '-', '_').</param>
/// <param name="Type"><c>Markdown</c>, <c>Table</c> or <c>Link</c>.</param>
/// <param name="Data">The content: markdown text, a JSON array of rows, or a URL.</param>
/// <param name="Description">A description, or null.</param>
public sealed record ProcessArtifactRequest(string Key, string Type, string Data, string? Description = null);
