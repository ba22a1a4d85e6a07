using Flow.Engine.Events;

namespace Flow.ControlPlane.Tests.Automations;

/// <summary>Run state events as the event outbox writes them: kind <c>flow-run.{State}</c>, resource <c>flow-run/{id}</c>
/// with labels flow, deployment, pool and state, related deployment and tags.</summary>
internal static class RunEvents
{
    public static FlowEvent State(string runId, int transition, string state, DateTimeOffset at, string deployment = "etl/daily", params string[] tags)
    {
        var flow = deployment[..deployment.IndexOf('/', StringComparison.Ordinal)];
        return new FlowEvent
        {
            Id = $"{runId}.t{transition}",
            Kind = "flow-run." + state,
            OccurredAt = at.ToUniversalTime(),
            Resource = new EventResource("flow-run/" + runId, null, new Dictionary<string, string>
            {
                ["flow"] = flow,
                ["deployment"] = deployment,
                ["pool"] = "default",
                ["state"] = state,
            }),
            Related =
            [
                new EventResource("deployment/" + deployment, "deployment"),
                .. tags.Select(t => new EventResource("tag/" + t, "tag")),
            ],
        };
    }
}
