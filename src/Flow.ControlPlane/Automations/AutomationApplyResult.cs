namespace Flow.ControlPlane.Automations;

/// <summary>What applying an automation did.</summary>
/// <param name="Name">The automation's name.</param>
/// <param name="Outcome"><c>created</c>, <c>updated</c> or <c>unchanged</c>.</param>
/// <param name="Automation">The stored automation.</param>
public sealed record AutomationApplyResult(string Name, string Outcome, AutomationRecord Automation);
