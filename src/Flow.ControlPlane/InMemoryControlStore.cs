using System.Globalization;
using Flow.Engine.Storage;

namespace Flow.ControlPlane;

/// <summary>
/// An <see cref="IControlStore"/> in process memory, for tests and the local test host. It behaves like the durable stores —
/// the same conformance suite proves it: input is checked (<see cref="ControlStoreContract"/>) before anything is written,
/// every write gets a new version and honours its write condition, times are normalized to UTC microseconds, and nothing a
/// caller holds shares state with the store (records are copied into immutable ones on the way in). Thread-safe. Its state
/// lives as long as the instance.
/// </summary>
public sealed partial class InMemoryControlStore : IControlStore
{
    private readonly Lock _gate = new();
    private readonly SortedDictionary<string, Versioned<DeploymentRecord>> _deployments = new(StringComparer.Ordinal);
    private readonly SortedDictionary<string, Versioned<WorkPoolRecord>> _pools = new(StringComparer.Ordinal);
    private readonly Dictionary<string, RejectedRunRequest> _rejected = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Versioned<string>> _state = new(StringComparer.Ordinal);
    private long _lastVersion;

    /// <inheritdoc />
    public Task InitializeAsync(CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public Task<Versioned<DeploymentRecord>?> GetDeploymentAsync(string name, CancellationToken cancellationToken)
    {
        ControlStoreContract.ValidateDeploymentName(name);
        return Locked(() => _deployments.GetValueOrDefault(name), cancellationToken);
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<Versioned<DeploymentRecord>>> ListDeploymentsAsync(CancellationToken cancellationToken) =>
        Locked<IReadOnlyList<Versioned<DeploymentRecord>>>(() => [.. _deployments.Values], cancellationToken);

    /// <inheritdoc />
    public Task<Versioned<DeploymentRecord>> PutDeploymentAsync(DeploymentRecord deployment, string? expectedVersion, CancellationToken cancellationToken)
    {
        ControlStoreContract.ValidateDeployment(deployment);
        return Write(_deployments, deployment.Name, ControlStoreContract.Normalize(deployment), expectedVersion, "Deployment", cancellationToken);
    }

    /// <inheritdoc />
    public Task<bool> DeleteDeploymentAsync(string name, CancellationToken cancellationToken)
    {
        ControlStoreContract.ValidateDeploymentName(name);
        return Locked(() => _deployments.Remove(name), cancellationToken);
    }

    /// <inheritdoc />
    public Task<Versioned<WorkPoolRecord>?> GetWorkPoolAsync(string name, CancellationToken cancellationToken)
    {
        ControlStoreContract.ValidatePoolName(name);
        return Locked(() => _pools.GetValueOrDefault(name), cancellationToken);
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<Versioned<WorkPoolRecord>>> ListWorkPoolsAsync(CancellationToken cancellationToken) =>
        Locked<IReadOnlyList<Versioned<WorkPoolRecord>>>(() => [.. _pools.Values], cancellationToken);

    /// <inheritdoc />
    public Task<Versioned<WorkPoolRecord>> PutWorkPoolAsync(WorkPoolRecord pool, string? expectedVersion, CancellationToken cancellationToken)
    {
        ControlStoreContract.ValidateWorkPool(pool);
        return Write(_pools, pool.Name, ControlStoreContract.Normalize(pool), expectedVersion, "Work pool", cancellationToken);
    }

    /// <inheritdoc />
    public Task<bool> DeleteWorkPoolAsync(string name, CancellationToken cancellationToken)
    {
        ControlStoreContract.ValidatePoolName(name);
        return Locked(() => _pools.Remove(name), cancellationToken);
    }

    /// <inheritdoc />
    public Task AddRejectedRequestAsync(RejectedRunRequest request, CancellationToken cancellationToken)
    {
        ControlStoreContract.ValidateRejectedRequest(request);
        var copy = ControlStoreContract.Normalize(request);
        return Locked(() => _rejected[copy.Id] = copy, cancellationToken);
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<RejectedRunRequest>> ListRejectedRequestsAsync(int maxCount, CancellationToken cancellationToken)
    {
        ControlStoreContract.ValidateMaxCount(maxCount);
        return Locked<IReadOnlyList<RejectedRunRequest>>(
            () => [.. _rejected.Values.OrderByDescending(r => r.RejectedAt).ThenBy(r => r.Id, StringComparer.Ordinal).Take(maxCount)],
            cancellationToken);
    }

    /// <inheritdoc />
    public Task<Versioned<string>?> GetStateAsync(string key, CancellationToken cancellationToken)
    {
        ControlStoreContract.ValidateStateKey(key);
        return Locked(() => _state.GetValueOrDefault(key), cancellationToken);
    }

    /// <inheritdoc />
    public Task<Versioned<string>> PutStateAsync(string key, string value, string? expectedVersion, CancellationToken cancellationToken)
    {
        ControlStoreContract.ValidateState(key, value);
        return Write(_state, key, value, expectedVersion, "State entry", cancellationToken);
    }

    /// <summary>Writes <paramref name="record"/> under <paramref name="key"/> if the write condition holds, with a new version.</summary>
    private Task<Versioned<T>> Write<T>(IDictionary<string, Versioned<T>> records, string key, T record, string? expectedVersion, string what, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            var current = records.TryGetValue(key, out var found) ? found : null;
            if (expectedVersion is not null && current?.Version != (expectedVersion.Length == 0 ? null : expectedVersion))
            {
                throw new ConcurrencyException(
                    current is null ? $"{what} '{key}' does not exist (expected version {expectedVersion})."
                    : expectedVersion.Length == 0 ? $"{what} '{key}' already exists."
                    : $"{what} '{key}' is at version {current.Version}, not the expected {expectedVersion}.");
            }

            var stored = new Versioned<T>(record, (++_lastVersion).ToString("x16", CultureInfo.InvariantCulture));
            records[key] = stored;
            return Task.FromResult(stored);
        }
    }

    private Task<T> Locked<T>(Func<T> read, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        lock (_gate)
        {
            return Task.FromResult(read());
        }
    }
}
