using Flow.Engine.Storage;

namespace Flow.ControlPlane;

/// <summary>The result of a trigger.</summary>
/// <param name="Run">The run (the existing one when the idempotency key was used before).</param>
/// <param name="Created">False when the idempotency key named an existing run.</param>
public sealed record TriggerResult(FlowRunRecord Run, bool Created);
