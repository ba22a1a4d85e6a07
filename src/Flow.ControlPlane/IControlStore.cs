namespace Flow.ControlPlane;

/// <summary>
/// The control-plane store: deployments, work pools, refused run requests and small versioned state entries
/// (scheduler cursors, concurrency slots). Every implementation passes the same conformance suite. Records are
/// few and small (thousands, not millions); runs live in <see cref="Engine.Storage.IFlowStore"/>.
/// </summary>
/// <remarks>
/// Writes take an expected version: null writes unconditionally (create or replace), <see cref="MustNotExist"/> creates
/// only, any other value replaces only that version. A failed condition throws <see cref="Engine.Storage.ConcurrencyException"/>
/// and writes nothing. Times are kept as UTC to the microsecond, as in <see cref="Engine.Storage.IFlowStore"/>.
/// </remarks>
public partial interface IControlStore
{
    /// <summary>The expected version that means "create; fail if it exists".</summary>
    public const string MustNotExist = "";

    /// <summary>Creates the tables/schema if missing. Idempotent and safe to run concurrently.</summary>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>A task.</returns>
    Task InitializeAsync(CancellationToken cancellationToken);

    /// <summary>Reads a deployment.</summary>
    /// <param name="name">The full name (<c>flow/deployment</c>).</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The deployment, or null.</returns>
    Task<Versioned<DeploymentRecord>?> GetDeploymentAsync(string name, CancellationToken cancellationToken);

    /// <summary>Lists all deployments, ordered by name (ordinal).</summary>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The deployments.</returns>
    Task<IReadOnlyList<Versioned<DeploymentRecord>>> ListDeploymentsAsync(CancellationToken cancellationToken);

    /// <summary>Creates or replaces a deployment.</summary>
    /// <param name="deployment">The deployment.</param>
    /// <param name="expectedVersion">The write condition (see the interface remarks).</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The stored deployment with its new version.</returns>
    Task<Versioned<DeploymentRecord>> PutDeploymentAsync(DeploymentRecord deployment, string? expectedVersion, CancellationToken cancellationToken);

    /// <summary>Deletes a deployment.</summary>
    /// <param name="name">The full name.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>True when it existed.</returns>
    Task<bool> DeleteDeploymentAsync(string name, CancellationToken cancellationToken);

    /// <summary>Reads a work pool.</summary>
    /// <param name="name">The pool name.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The pool, or null.</returns>
    Task<Versioned<WorkPoolRecord>?> GetWorkPoolAsync(string name, CancellationToken cancellationToken);

    /// <summary>Lists all work pools, ordered by name (ordinal).</summary>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The pools.</returns>
    Task<IReadOnlyList<Versioned<WorkPoolRecord>>> ListWorkPoolsAsync(CancellationToken cancellationToken);

    /// <summary>Creates or replaces a work pool.</summary>
    /// <param name="pool">The pool.</param>
    /// <param name="expectedVersion">The write condition (see the interface remarks).</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The stored pool with its new version.</returns>
    Task<Versioned<WorkPoolRecord>> PutWorkPoolAsync(WorkPoolRecord pool, string? expectedVersion, CancellationToken cancellationToken);

    /// <summary>Deletes a work pool.</summary>
    /// <param name="name">The pool name.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>True when it existed.</returns>
    Task<bool> DeleteWorkPoolAsync(string name, CancellationToken cancellationToken);

    /// <summary>Records a refused run request (an existing id is replaced).</summary>
    /// <param name="request">The request.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>A task.</returns>
    Task AddRejectedRequestAsync(RejectedRunRequest request, CancellationToken cancellationToken);

    /// <summary>Lists refused run requests, newest first (by <see cref="RejectedRunRequest.RejectedAt"/>, ties by id, ordinal).</summary>
    /// <param name="maxCount">The most to return, 1-1000.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The requests.</returns>
    Task<IReadOnlyList<RejectedRunRequest>> ListRejectedRequestsAsync(int maxCount, CancellationToken cancellationToken);

    /// <summary>Reads a state entry.</summary>
    /// <param name="key">The key: 1-200 characters of letters, digits, '-', '_', '.' and ':'.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The value, or null.</returns>
    Task<Versioned<string>?> GetStateAsync(string key, CancellationToken cancellationToken);

    /// <summary>Creates or replaces a state entry.</summary>
    /// <param name="key">The key (as for <see cref="GetStateAsync"/>).</param>
    /// <param name="value">The value (at most 32 KiB of UTF-8).</param>
    /// <param name="expectedVersion">The write condition (see the interface remarks).</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The stored value with its new version.</returns>
    Task<Versioned<string>> PutStateAsync(string key, string value, string? expectedVersion, CancellationToken cancellationToken);
}
