using System.Text.Json;

namespace Flow.Client;

/// <summary>Automations: <c>/api/automations</c>.</summary>
public sealed partial class FlowClient
{
    /// <summary>Lists automations.</summary>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The automations, by name.</returns>
    public Task<IReadOnlyList<AutomationView>> ListAutomationsAsync(CancellationToken cancellationToken) =>
        SendAsync<IReadOnlyList<AutomationView>>(HttpMethod.Get, "automations", null, cancellationToken);

    /// <summary>Reads an automation.</summary>
    /// <param name="name">The name.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The automation.</returns>
    public Task<AutomationView> GetAutomationAsync(string name, CancellationToken cancellationToken) =>
        SendAsync<AutomationView>(HttpMethod.Get, AutomationPath(name), null, cancellationToken);

    /// <summary>Creates or updates an automation (idempotent).</summary>
    /// <param name="name">The name.</param>
    /// <param name="automation">The automation.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The stored automation.</returns>
    public Task<AutomationView> PutAutomationAsync(string name, AutomationRequest automation, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(automation);
        return SendAsync<AutomationView>(HttpMethod.Put, AutomationPath(name), Json(automation), cancellationToken);
    }

    /// <summary>Deletes an automation; its firings stay readable.</summary>
    /// <param name="name">The name.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>A task.</returns>
    public Task DeleteAutomationAsync(string name, CancellationToken cancellationToken) =>
        SendAsync<JsonElement>(HttpMethod.Delete, AutomationPath(name), null, cancellationToken);

    /// <summary>Enables or disables an automation.</summary>
    /// <param name="name">The name.</param>
    /// <param name="enabled">True to enable.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The automation.</returns>
    public Task<AutomationView> SetAutomationEnabledAsync(string name, bool enabled, CancellationToken cancellationToken) =>
        SendAsync<AutomationView>(HttpMethod.Post, AutomationPath(name) + (enabled ? "/enable" : "/disable"), null, cancellationToken);

    /// <summary>Lists an automation's firings, newest first.</summary>
    /// <param name="name">The name.</param>
    /// <param name="count">How many, 1-1000; null for the API's default (50).</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The firings.</returns>
    public Task<IReadOnlyList<AutomationFiringView>> ListAutomationFiringsAsync(string name, int? count, CancellationToken cancellationToken) =>
        SendAsync<IReadOnlyList<AutomationFiringView>>(HttpMethod.Get, AutomationPath(name) + "/firings" + Query(("count", Number(count))), null, cancellationToken);

    private static string AutomationPath(string name) => "automations/" + Segment(name, nameof(name));
}
