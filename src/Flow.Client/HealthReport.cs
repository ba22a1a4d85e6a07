namespace Flow.Client;

/// <summary>The body of <c>GET /api/health</c>.</summary>
/// <param name="Status"><c>healthy</c> once start-up is done (storage reachable, deployments applied), <c>starting</c> before, <c>degraded</c> while a dependency fails after start-up.</param>
/// <param name="Version">The app's informational version.</param>
/// <param name="Mode"><c>functions</c> under the Functions host, else <c>standalone</c>.</param>
/// <param name="Roles">The roles standalone (<c>api,scheduler,worker</c>), or <c>functions-host</c>.</param>
/// <param name="Problem">What keeps start-up from finishing, or what fails while degraded, if anything.</param>
/// <param name="Failing">The failing dependencies (<c>storage</c>) while degraded.</param>
public sealed record HealthReport(string Status, string Version, string Mode, string Roles, string? Problem, IReadOnlyList<string>? Failing = null);
