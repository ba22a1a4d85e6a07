using Azure;

namespace Flow.Storage.Azure;

/// <summary>What one operation of an entity group transaction does.</summary>
public enum TableTransactionActionType
{
    /// <summary>Insert a new entity (fails if it exists).</summary>
    Add = 0,

    /// <summary>Merge into an existing entity, honouring the action's ETag.</summary>
    UpdateMerge = 1,

    /// <summary>Replace an existing entity, honouring the action's ETag.</summary>
    UpdateReplace = 2,

    /// <summary>Delete an entity, honouring the action's ETag (any version when it has none).</summary>
    Delete = 3,

    /// <summary>Insert or merge, whatever the version.</summary>
    UpsertMerge = 4,

    /// <summary>Insert or replace, whatever the version.</summary>
    UpsertReplace = 5,
}

/// <summary>One operation of an entity group transaction.</summary>
/// <param name="ActionType">What to do.</param>
/// <param name="Entity">The entity (for a delete only its keys matter).</param>
/// <param name="ETag">For updates and deletes: the version the entity must still have; default means any version.</param>
public sealed record TableTransactionAction(TableTransactionActionType ActionType, TableEntity Entity, ETag ETag = default);

/// <summary>The outcome of one operation of a successful transaction.</summary>
/// <param name="Status">The HTTP status the service gave the operation (201 or 204).</param>
/// <param name="ETag">The entity's new ETag; default for deletes.</param>
public sealed record TableTransactionResult(int Status, ETag ETag);
