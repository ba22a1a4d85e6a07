namespace Flow.ControlPlane.Automations;

/// <summary>What one evaluator tick did.</summary>
/// <param name="Events">Events read from the feed.</param>
/// <param name="Fired">Firings this tick created (firings another evaluator created first are not counted).</param>
/// <param name="ActionsDone">Actions that finished (succeeded or failed for good) this tick.</param>
public sealed record AutomationTickResult(int Events, int Fired, int ActionsDone);
