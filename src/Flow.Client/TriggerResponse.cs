using Flow.Sdk;

namespace Flow.Client;

/// <summary>The answer to a trigger (202).</summary>
/// <param name="Id">The run id.</param>
/// <param name="State">The run's state.</param>
/// <param name="Created">False when the idempotency key named an existing run.</param>
/// <param name="StatusUrl">Where to read the run.</param>
/// <param name="CancelUrl">Where to cancel it.</param>
public sealed record TriggerResponse(string Id, RunState State, bool Created, string StatusUrl, string CancelUrl);
