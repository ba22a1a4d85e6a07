using System.Globalization;
using Flow.Engine.Events;
using Flow.Engine.Storage;

namespace Flow.ControlPlane;

/// <summary>
/// An <see cref="IControlStore"/> in process memory, for tests and the local test host. It behaves like the durable stores —
/// the same conformance suite proves it: input is checked (<see cref="ControlStoreContract"/>) before anything is written,
/// every write gets a new version and honours its write condition, times are normalized to UTC microseconds, and nothing a
/// caller holds shares state with the store (records are copied into immutable ones on the way in). Thread-safe. Its state
/// lives as long as the instance. Control-plane events (<see cref="ControlEvents"/>) are appended to <see cref="Events"/> under
/// the same lock as the change they describe.
/// </summary>
public sealed partial class InMemoryControlStore : IControlStore
{
    private readonly Lock _gate = new();
    private readonly InMemoryEventStore _events;
    private readonly TimeProvider _time;
    private readonly SortedDictionary<string, Versioned<DeploymentRecord>> _deployments = new(StringComparer.Ordinal);
    private readonly SortedDictionary<string, Versioned<WorkPoolRecord>> _pools = new(StringComparer.Ordinal);
    private readonly Dictionary<string, RejectedRunRequest> _rejected = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Versioned<string>> _state = new(StringComparer.Ordinal);
    private long _lastVersion;

    /// <summary>Creates the store.</summary>
    /// <param name="events">Where its events go (share the flow store's, <c>InMemoryFlowStore.Events</c>); null for a store of its own.</param>
    /// <param name="timeProvider">The time of deletions' events; null for the system clock.</param>
    public InMemoryControlStore(InMemoryEventStore? events = null, TimeProvider? timeProvider = null)
    {
        _events = events ?? new InMemoryEventStore();
        _time = timeProvider ?? TimeProvider.System;
    }

    /// <summary>The event store its events are appended to.</summary>
    public InMemoryEventStore Events => _events;

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
        return Write(_deployments, deployment.Name, ControlStoreContract.Normalize(deployment), expectedVersion, "Deployment", (b, a) => One(ControlEvents.ForDeployment(b, a, _time.GetUtcNow())), cancellationToken);
    }

    /// <inheritdoc />
    public Task<bool> DeleteDeploymentAsync(string name, CancellationToken cancellationToken)
    {
        ControlStoreContract.ValidateDeploymentName(name);
        return Delete(_deployments, name, b => ControlEvents.ForDeployment(b, null, _time.GetUtcNow()), cancellationToken);
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
        return Write(_pools, pool.Name, ControlStoreContract.Normalize(pool), expectedVersion, "Work pool", (b, a) => One(ControlEvents.ForWorkPool(b, a, _time.GetUtcNow())), cancellationToken);
    }

    /// <inheritdoc />
    public Task<bool> DeleteWorkPoolAsync(string name, CancellationToken cancellationToken)
    {
        ControlStoreContract.ValidatePoolName(name);
        return Delete(_pools, name, b => ControlEvents.ForWorkPool(b, null, _time.GetUtcNow()), cancellationToken);
    }

    /// <inheritdoc />
    public Task AddRejectedRequestAsync(RejectedRunRequest request, CancellationToken cancellationToken)
    {
        ControlStoreContract.ValidateRejectedRequest(request);
        var copy = ControlStoreContract.Normalize(request);
        return Locked(
            () =>
            {
                _rejected[copy.Id] = copy;
                Append([ControlEvents.ForRefusedRequest(copy)]);
                return copy;
            },
            cancellationToken);
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
        return Write(_state, key, value, expectedVersion, "State entry", null, cancellationToken);
    }

    /// <summary>Writes <paramref name="record"/> under <paramref name="key"/> if the write condition holds, with a new version.</summary>
    /// <remarks>The events of the change (<paramref name="events"/>, from the record before and after) are appended under the same lock.</remarks>
    private Task<Versioned<T>> Write<T>(
        IDictionary<string, Versioned<T>> records, string key, T record, string? expectedVersion, string what, Func<T?, T, IReadOnlyList<FlowEvent>>? events, CancellationToken cancellationToken)
        where T : class
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
            if (events is not null)
            {
                Append(events(current?.Record, record));
            }

            return Task.FromResult(stored);
        }
    }

    private Task<bool> Delete<T>(IDictionary<string, Versioned<T>> records, string key, Func<T, FlowEvent?> deleted, CancellationToken cancellationToken)
        where T : class =>
        Locked(
            () =>
            {
                if (!records.Remove(key, out var removed))
                {
                    return false;
                }

                Append(One(deleted(removed.Record)));
                return true;
            },
            cancellationToken);

    private static IReadOnlyList<FlowEvent> One(FlowEvent? flowEvent) => flowEvent is null ? [] : [flowEvent];

    /// <summary>Appends events made by <see cref="ControlEvents"/> (valid by construction); called under <see cref="_gate"/>.</summary>
    private void Append(IReadOnlyList<FlowEvent> events)
    {
        if (events.Count > 0)
        {
            _events.AppendAsync(events, CancellationToken.None).GetAwaiter().GetResult(); // synchronous in memory
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
