using Flow.ControlPlane.Automations;

namespace Flow.ControlPlane;

/// <summary>Automations and firings in memory.</summary>
public sealed partial class InMemoryControlStore
{
    private readonly SortedDictionary<string, Versioned<AutomationRecord>> _automations = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Versioned<AutomationFiring>> _firings = new(StringComparer.Ordinal);

    /// <inheritdoc />
    public Task<Versioned<AutomationRecord>?> GetAutomationAsync(string name, CancellationToken cancellationToken)
    {
        ControlStoreContract.ValidateAutomationName(name);
        return Locked(() => _automations.GetValueOrDefault(name), cancellationToken);
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<Versioned<AutomationRecord>>> ListAutomationsAsync(CancellationToken cancellationToken) =>
        Locked<IReadOnlyList<Versioned<AutomationRecord>>>(() => [.. _automations.Values], cancellationToken);

    /// <inheritdoc />
    public Task<Versioned<AutomationRecord>> PutAutomationAsync(AutomationRecord automation, string? expectedVersion, CancellationToken cancellationToken)
    {
        ControlStoreContract.ValidateAutomation(automation);
        return Write(_automations, automation.Name, ControlStoreContract.Normalize(automation), expectedVersion, "Automation", (b, a) => One(ControlEvents.ForAutomation(b, a, _time.GetUtcNow())), cancellationToken);
    }

    /// <inheritdoc />
    public Task<bool> DeleteAutomationAsync(string name, CancellationToken cancellationToken)
    {
        ControlStoreContract.ValidateAutomationName(name);
        return Delete(_automations, name, b => ControlEvents.ForAutomation(b, null, _time.GetUtcNow()), cancellationToken);
    }

    /// <inheritdoc />
    public Task<Versioned<AutomationFiring>?> GetFiringAsync(string automation, string id, CancellationToken cancellationToken)
    {
        ControlStoreContract.ValidateAutomationName(automation);
        ControlStoreContract.ValidateFiringId(id);
        return Locked(() => _firings.GetValueOrDefault(ControlStoreContract.FiringKey(automation, id)), cancellationToken);
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<Versioned<AutomationFiring>>> ListFiringsAsync(string automation, int maxCount, CancellationToken cancellationToken)
    {
        ControlStoreContract.ValidateAutomationName(automation);
        ControlStoreContract.ValidateMaxCount(maxCount);
        return Locked<IReadOnlyList<Versioned<AutomationFiring>>>(
            () => [.. _firings.Values.Where(f => f.Record.Automation == automation)
                .OrderByDescending(f => f.Record.FiredAt).ThenBy(f => f.Record.Id, StringComparer.Ordinal).Take(maxCount)],
            cancellationToken);
    }

    /// <inheritdoc />
    public Task<Versioned<AutomationFiring>> PutFiringAsync(AutomationFiring firing, string? expectedVersion, CancellationToken cancellationToken)
    {
        ControlStoreContract.ValidateFiring(firing);
        return Write(_firings, ControlStoreContract.FiringKey(firing.Automation, firing.Id), ControlStoreContract.Normalize(firing), expectedVersion, "Firing", ControlEvents.ForFiring, cancellationToken);
    }
}
