namespace Flow.Client;

/// <summary>Where to look at and act on a run.</summary>
public sealed record RunLinks
{
    /// <summary>The run: <c>/api/runs/{id}</c>.</summary>
    public required string Self { get; init; }

    /// <summary>Cancels the run (POST).</summary>
    public required string Cancel { get; init; }

    /// <summary>The run's log lines.</summary>
    public required string Logs { get; init; }

    /// <summary>The run's artifacts.</summary>
    public required string Artifacts { get; init; }

    /// <summary>The links of a run.</summary>
    /// <param name="runId">The run id.</param>
    /// <returns>The links.</returns>
    public static RunLinks For(string runId)
    {
        ArgumentNullException.ThrowIfNull(runId);
        var id = Uri.EscapeDataString(runId);
        return new RunLinks
        {
            Self = $"/api/runs/{id}",
            Cancel = $"/api/runs/{id}/cancel",
            Logs = $"/api/runs/{id}/logs",
            Artifacts = $"/api/runs/{id}/artifacts",
        };
    }
}
