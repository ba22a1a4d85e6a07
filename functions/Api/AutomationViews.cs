using System.Text.Json;
using Flow.Client;
using Flow.ControlPlane.Automations;

namespace Flow.Functions.Api;

/// <summary>Automation records as the API's views (Flow.Client types).</summary>
internal static class AutomationViews
{
    public static AutomationView Automation(AutomationRecord a) => new()
    {
        Name = a.Name,
        Description = a.Description,
        Enabled = a.Enabled,
        Trigger = new AutomationTriggerView
        {
            Posture = a.Trigger.Posture,
            Expect = a.Trigger.Expect,
            After = a.Trigger.After,
            Match = a.Trigger.Match,
            MatchRelated = a.Trigger.MatchRelated?.Select(r => new AutomationRelatedMatchView { Role = r.Role, Id = r.Id }).ToList(),
            ForEach = a.Trigger.ForEach,
            Threshold = a.Trigger.Threshold,
            Within = a.Trigger.Within,
        },
        Actions = [.. a.Actions.Select(x => new AutomationActionView
        {
            Type = x.Type,
            Deployment = x.Deployment,
            Parameters = x.Parameters,
            Pool = x.Pool,
            RunId = x.RunId,
            State = x.State,
            Message = x.Message,
            Url = x.Url,
            Body = x.Body,
            Secret = x.Secret,
            MaxAttempts = x.MaxAttempts,
            Queue = x.Queue,
            Kind = x.Kind,
            Resource = x.Resource,
        })],
        Source = a.Source,
        CreatedAt = a.CreatedAt,
        UpdatedAt = a.UpdatedAt,
        EnabledAt = a.EnabledAt,
    };

    public static AutomationFiringView Firing(AutomationFiring f) => new()
    {
        Automation = f.Automation,
        Id = f.Id,
        FiredAt = f.FiredAt,
        Reason = f.Reason,
        Key = f.Key,
        EventIds = f.EventIds,
        Event = f.Event is { } e ? JsonSerializer.SerializeToElement(e, ApiJson.Options) : null,
        Status = f.Status,
        Actions = [.. f.Actions.Select(a => new FiringActionView
        {
            Index = a.Index,
            Type = a.Type,
            Status = a.Status,
            IdempotencyKey = a.IdempotencyKey,
            Result = a.Result,
            NextAttemptAt = a.NextAttemptAt,
            Attempts = [.. a.Attempts.Select(t => new FiringAttemptView { At = t.At, Succeeded = t.Succeeded, StatusCode = t.StatusCode, Detail = t.Detail })],
        })],
    };
}
