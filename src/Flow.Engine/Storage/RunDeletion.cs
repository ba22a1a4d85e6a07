namespace Flow.Engine.Storage;

/// <summary>The outcome of <see cref="IRunRetention.DeleteRunAsync"/>.</summary>
public enum RunDeletion
{
    /// <summary>The run and everything stored for it were deleted.</summary>
    Deleted,

    /// <summary>There is no such run.</summary>
    NotFound,

    /// <summary>The run is not in a final state; nothing was deleted.</summary>
    NotFinal,
}
