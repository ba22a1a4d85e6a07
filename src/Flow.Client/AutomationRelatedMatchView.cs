namespace Flow.Client;

/// <summary>A related resource a triggering event must (or, with a <c>!</c> id, must not) have.</summary>
public sealed record AutomationRelatedMatchView
{
    /// <summary>The role pattern (<c>deployment</c>, <c>tag</c>, ...).</summary>
    public string? Role { get; init; }

    /// <summary>The id pattern (<c>tag/prod</c>).</summary>
    public string? Id { get; init; }
}
