namespace Flow.Client;

/// <summary>A flow registered in the app (<c>GET /api/flows</c>).</summary>
public sealed record FlowInfoView
{
    /// <summary>The flow's name.</summary>
    public required string Name { get; init; }

    /// <summary>The input type's name.</summary>
    public required string Input { get; init; }

    /// <summary>The output type's name.</summary>
    public required string Output { get; init; }
}
