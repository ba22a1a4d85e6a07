using System.Text.Json;

namespace Flow.Client;

/// <summary>An artifact a run created (<c>GET /api/runs/{id}/artifacts</c>).</summary>
public sealed record ArtifactView
{
    /// <summary>The artifact's key.</summary>
    public required string Key { get; init; }

    /// <summary><c>Table</c>, <c>Markdown</c> or <c>Link</c>.</summary>
    public required string Type { get; init; }

    /// <summary>A description, if any.</summary>
    public string? Description { get; init; }

    /// <summary>When it was created.</summary>
    public DateTimeOffset CreatedAt { get; init; }

    /// <summary>The content: a table's rows as JSON, a markdown text or a link as a string.</summary>
    public JsonElement? Data { get; init; }
}
