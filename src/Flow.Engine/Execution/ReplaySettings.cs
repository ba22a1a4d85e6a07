using Flow.Sdk;
using Microsoft.Extensions.Logging;

namespace Flow.Engine.Execution;

/// <summary>What the replay core needs besides a run and its journal: the code, its services, loggers and limits. No store, no queue.</summary>
/// <param name="Registry">The registered flows and tasks (and their JSON options).</param>
/// <param name="Services">Services the flow's task contexts see.</param>
/// <param name="EngineLogger">The engine's operational logger.</param>
/// <param name="RunLogger">Where run log lines are forwarded as well.</param>
/// <param name="Time">The clock inline task contexts see.</param>
/// <param name="InlineRetryThreshold">Inline task retries due within this run in the episode; later ones suspend it.</param>
/// <param name="MaxPayloadBytes">The largest JSON value the store keeps.</param>
internal sealed record ReplaySettings(FlowRegistry Registry, IServiceProvider Services, ILogger EngineLogger, ILogger RunLogger, TimeProvider Time, TimeSpan InlineRetryThreshold, int MaxPayloadBytes);
