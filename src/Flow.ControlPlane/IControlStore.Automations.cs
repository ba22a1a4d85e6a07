using Flow.ControlPlane.Automations;

namespace Flow.ControlPlane;

/// <summary>Automations and their firings (docs/automations.md).</summary>
public partial interface IControlStore
{
    /// <summary>Reads an automation.</summary>
    /// <param name="name">The name (<see cref="ControlStoreContract.ValidateAutomationName"/>).</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The automation, or null.</returns>
    Task<Versioned<AutomationRecord>?> GetAutomationAsync(string name, CancellationToken cancellationToken);

    /// <summary>Lists all automations, ordered by name (ordinal).</summary>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The automations.</returns>
    Task<IReadOnlyList<Versioned<AutomationRecord>>> ListAutomationsAsync(CancellationToken cancellationToken);

    /// <summary>Creates or replaces an automation.</summary>
    /// <param name="automation">The automation.</param>
    /// <param name="expectedVersion">The write condition (see the interface remarks).</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The stored automation with its new version.</returns>
    Task<Versioned<AutomationRecord>> PutAutomationAsync(AutomationRecord automation, string? expectedVersion, CancellationToken cancellationToken);

    /// <summary>Deletes an automation (its firings stay).</summary>
    /// <param name="name">The name.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>True when it existed.</returns>
    Task<bool> DeleteAutomationAsync(string name, CancellationToken cancellationToken);

    /// <summary>Reads a firing.</summary>
    /// <param name="automation">The automation's name.</param>
    /// <param name="id">The firing id.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The firing, or null.</returns>
    Task<Versioned<AutomationFiring>?> GetFiringAsync(string automation, string id, CancellationToken cancellationToken);

    /// <summary>Lists an automation's firings, newest first (by <see cref="AutomationFiring.FiredAt"/>, ties by id, ordinal).</summary>
    /// <param name="automation">The automation's name.</param>
    /// <param name="maxCount">The most to return, 1-1000.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The firings.</returns>
    Task<IReadOnlyList<Versioned<AutomationFiring>>> ListFiringsAsync(string automation, int maxCount, CancellationToken cancellationToken);

    /// <summary>Creates or replaces a firing; <see cref="MustNotExist"/> creates it once however many evaluators try.</summary>
    /// <param name="firing">The firing.</param>
    /// <param name="expectedVersion">The write condition (see the interface remarks).</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The stored firing with its new version.</returns>
    Task<Versioned<AutomationFiring>> PutFiringAsync(AutomationFiring firing, string? expectedVersion, CancellationToken cancellationToken);
}
