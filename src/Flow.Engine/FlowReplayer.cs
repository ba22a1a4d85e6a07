using System.Text.Json;
using System.Text.Json.Serialization;
using Flow.Engine.Execution;
using Flow.Engine.Storage;
using Microsoft.Extensions.Logging.Abstractions;
using Flow.Sdk;

namespace Flow.Engine;

/// <summary>A run's journal as exported for replay: the run record and the events of its current attempt.</summary>
/// <param name="Run">The run record.</param>
/// <param name="Events">The events, in order.</param>
public sealed record JournalExport(FlowRunRecord Run, IReadOnlyList<JournalEvent> Events);

/// <summary>What a replay found.</summary>
/// <param name="FlowName">The flow replayed.</param>
/// <param name="EventsReplayed">How many events were applied before the replay stopped.</param>
/// <param name="EventCount">How many events the journal has.</param>
/// <param name="Error">The non-determinism found, or null when the code matches the journal.</param>
public sealed record ReplayResult(string FlowName, int EventsReplayed, int EventCount, string? Error)
{
    /// <summary>True when the current code reproduces the recorded journal.</summary>
    public bool IsDeterministic => Error is null;
}

/// <summary>
/// Replays a recorded journal against the current flow code and reports any non-determinism, so a code
/// change can be proved safe for runs in flight before it is deployed. Nothing executes: task bodies,
/// timers and subflows are not run; recorded results are fed back as the engine does on replay.
/// </summary>
public static class FlowReplayer
{
    private static readonly JsonSerializerOptions ExportJson = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = true,
        Converters = { new JsonStringEnumConverter() },
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping, // a file for people to read, never embedded in HTML
    };

    /// <summary>Exports a run's current journal as JSON.</summary>
    /// <param name="store">The store.</param>
    /// <param name="runId">The run.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The JSON.</returns>
    public static async Task<string> ExportAsync(IFlowStore store, string runId, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(store);
        var run = await store.GetRunAsync(runId, cancellationToken).ConfigureAwait(false) ?? throw new FlowException($"Run {runId} does not exist.");
        var journal = await store.LoadJournalAsync(run.Record, cancellationToken).ConfigureAwait(false);
        return JsonSerializer.Serialize(new JournalExport(run.Record, journal.Events), ExportJson);
    }

    /// <summary>Parses an exported journal.</summary>
    /// <param name="json">The JSON from <see cref="ExportAsync"/>.</param>
    /// <returns>The export.</returns>
    public static JournalExport Parse(string json) =>
        JsonSerializer.Deserialize<JournalExport>(json, ExportJson) ?? throw new FlowException("The journal export is empty.");

    /// <summary>Replays an exported journal against the flows in <paramref name="registry"/>.</summary>
    /// <param name="registry">The current code's registry.</param>
    /// <param name="exportJson">The export.</param>
    /// <param name="services">Services to create flow instances with; null for none.</param>
    /// <param name="cancellationToken">Cancels the replay.</param>
    /// <returns>The result.</returns>
    public static Task<ReplayResult> ReplayAsync(FlowRegistry registry, string exportJson, IServiceProvider? services = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(registry);
        var export = Parse(exportJson);
        if (!registry.TryGetFlow(export.Run.FlowName, out var flow))
        {
            return Task.FromResult(new ReplayResult(export.Run.FlowName, 0, export.Events.Count, $"No flow named '{export.Run.FlowName}' is registered."));
        }

        // The replay core alone: it does no I/O, so nothing is stored and nothing runs but the flow code itself.
        var provider = services ?? EmptyServices.Instance;
        var events = export.Events.Select((e, i) => e with { Index = i + 1 }).ToList();
        var run = export.Run with { State = RunState.Running, JournalLength = events.Count, CancelRequested = false, Result = null, Failure = null, EndedAt = null };
        object? input;
        try
        {
            input = ParameterBinder.Bind(run.Parameters, flow.InputType, registry.SerializerOptions);
        }
        catch (FlowParameterException e)
        {
            return Task.FromResult(new ReplayResult(run.FlowName, 0, events.Count, "The recorded parameters do not bind to the flow's input: " + e.Message));
        }

        var settings = new ReplaySettings(registry, provider, NullLogger.Instance, NullLogger.Instance, TimeProvider.System, TimeSpan.Zero, int.MaxValue);
        using var core = new ReplayCore(run, events, flow, flow.GetOptions(provider), settings, new EpisodeWrites(), () => { });
        core.Start(input, provider);
        core.ReplayAll(cancellationToken);
        return Task.FromResult(new ReplayResult(run.FlowName, core.Replayed, events.Count, core.Fatal?.Message));
    }

    private sealed class EmptyServices : IServiceProvider
    {
        public static readonly EmptyServices Instance = new();

        public object? GetService(Type serviceType) => null;
    }
}
