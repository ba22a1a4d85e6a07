namespace Flow.ControlPlane.Automations;

/// <summary>A related resource an event must (or, with a <c>!</c> id pattern, must not) have.</summary>
public sealed record RelatedMatch
{
    /// <summary>The role: <c>deployment</c>, <c>flow</c>, <c>work-pool</c>, <c>tag</c>, ...</summary>
    public string? Role { get; init; }

    /// <summary>The id pattern, e.g. <c>deployment/daily-etl/*</c> or <c>tag/prod</c>; <c>*</c> wildcards, a leading <c>!</c> negates.</summary>
    public string? Id { get; init; }
}
