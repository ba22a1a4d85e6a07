using Flow.Engine.Scenarios;

namespace Flow.Engine.Tests;

/// <summary>The engine scenarios on the in-memory store.</summary>
public sealed class InMemoryEngineScenarioTests : EngineScenarioTests
{
}
