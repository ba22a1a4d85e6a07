using Flow.ControlPlane.Automations;
using Flow.Engine.Storage;

namespace Flow.ControlPlane;

/// <summary>The storage rules of automations and firings.</summary>
public static partial class ControlStoreContract
{
    /// <summary>The longest automation name.</summary>
    public const int MaxAutomationNameLength = 100;

    /// <summary>The longest firing id.</summary>
    public const int MaxFiringIdLength = 64;

    /// <summary>Checks an automation name: 1-100 ASCII letters, digits, '-', '_' and '.'.</summary>
    /// <param name="name">The name.</param>
    /// <exception cref="ArgumentException">The name is malformed.</exception>
    public static void ValidateAutomationName(string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        if (!IsName(name, MaxAutomationNameLength, "."))
        {
            throw new ArgumentException($"'{Shorten(name)}' is not an automation name: 1-{MaxAutomationNameLength} ASCII letters, digits, '-', '_' and '.'.", nameof(name));
        }
    }

    /// <summary>Checks a firing id: 1-64 ASCII letters, digits, '-', '_' and '.'.</summary>
    /// <param name="id">The id.</param>
    /// <exception cref="ArgumentException">The id is malformed.</exception>
    public static void ValidateFiringId(string id)
    {
        ArgumentException.ThrowIfNullOrEmpty(id);
        if (!IsName(id, MaxFiringIdLength, "."))
        {
            throw new ArgumentException($"'{Shorten(id)}' is not a firing id: 1-{MaxFiringIdLength} ASCII letters, digits, '-', '_' and '.'.", nameof(id));
        }
    }

    /// <summary>Checks an automation as stored: its name, a trigger, a list of actions without nulls, at most 32 KiB as JSON.
    /// (What the trigger and actions mean is checked before by <see cref="AutomationValidator"/>.)</summary>
    /// <param name="automation">The automation.</param>
    /// <exception cref="ArgumentException">The automation breaks a rule.</exception>
    public static void ValidateAutomation(AutomationRecord automation)
    {
        ArgumentNullException.ThrowIfNull(automation);
        ValidateAutomationName(automation.Name);
        if (automation.Trigger is null || automation.Actions is null || automation.Actions.Any(a => a is null))
        {
            throw new ArgumentException($"Automation '{automation.Name}' needs a trigger and a list of actions without nulls.", nameof(automation));
        }

        ValidateSize(automation, automation.Name);
    }

    /// <summary>Checks a firing as stored: its automation name and id, a known status, no null list or entry, at most 32 KiB as JSON.</summary>
    /// <param name="firing">The firing.</param>
    /// <exception cref="ArgumentException">The firing breaks a rule.</exception>
    public static void ValidateFiring(AutomationFiring firing)
    {
        ArgumentNullException.ThrowIfNull(firing);
        ValidateAutomationName(firing.Automation);
        ValidateFiringId(firing.Id);
        if (firing.Status is not (AutomationFiring.Pending or AutomationFiring.Succeeded or AutomationFiring.Failed)
            || firing.Reason is null || firing.EventIds is null || firing.EventIds.Any(e => e is null)
            || firing.Actions is null || firing.Actions.Any(a => a is null || a.Attempts is null))
        {
            throw new ArgumentException($"Firing '{firing.Id}' of automation '{firing.Automation}' has an unknown status, no reason or a null list or entry.", nameof(firing));
        }

        ValidateSize(firing, firing.Id);
    }

    /// <summary>An automation as stored: times in UTC to the microsecond.</summary>
    /// <param name="automation">The automation.</param>
    /// <returns>The normalized copy.</returns>
    public static AutomationRecord Normalize(AutomationRecord automation)
    {
        ArgumentNullException.ThrowIfNull(automation);
        return automation with
        {
            CreatedAt = StorageContract.NormalizeTime(automation.CreatedAt),
            UpdatedAt = StorageContract.NormalizeTime(automation.UpdatedAt),
            EnabledAt = automation.EnabledAt is { } at ? StorageContract.NormalizeTime(at) : null,
            Actions = [.. automation.Actions],
        };
    }

    /// <summary>A firing as stored: times in UTC to the microsecond, lists copied.</summary>
    /// <param name="firing">The firing.</param>
    /// <returns>The normalized copy.</returns>
    public static AutomationFiring Normalize(AutomationFiring firing)
    {
        ArgumentNullException.ThrowIfNull(firing);
        return firing with
        {
            FiredAt = StorageContract.NormalizeTime(firing.FiredAt),
            EventIds = [.. firing.EventIds],
            Event = firing.Event is { } e ? e with { OccurredAt = StorageContract.NormalizeTime(e.OccurredAt) } : null,
            Actions = [.. firing.Actions.Select(a => a with
            {
                NextAttemptAt = a.NextAttemptAt is { } next ? StorageContract.NormalizeTime(next) : null,
                Attempts = [.. a.Attempts.Select(t => t with { At = StorageContract.NormalizeTime(t.At) })],
            })],
        };
    }

    /// <summary>The key of a firing in stores that keep one key per row: <c>{automation}|{id}</c>.</summary>
    /// <param name="automation">The automation's name.</param>
    /// <param name="id">The firing id.</param>
    /// <returns>The key.</returns>
    public static string FiringKey(string automation, string id) => automation + "|" + id;
}
