namespace Flow.ControlPlane;

/// <summary>What happens to a new run when the deployment's concurrency limit is reached.</summary>
public enum CollisionStrategy
{
    /// <summary>The run waits (Pending) until a slot frees.</summary>
    Enqueue,

    /// <summary>The run is cancelled.</summary>
    CancelNew,
}
