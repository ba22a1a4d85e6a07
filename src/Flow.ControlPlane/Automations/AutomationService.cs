using System.Text.Json;
using Flow.Engine.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Flow.ControlPlane.Automations;

/// <summary>Creates, reads, enables, disables and deletes automations, and lists their firings (docs/automations.md).</summary>
public sealed partial class AutomationService
{
    private readonly IControlStore _store;
    private readonly TimeProvider _time;
    private readonly bool _queuesAvailable;
    private readonly ILogger _logger;

    /// <summary>Creates the service.</summary>
    /// <param name="store">The control store.</param>
    /// <param name="timeProvider">The clock; null for the system clock.</param>
    /// <param name="queue">The queue for queue-message actions, registered by the Azure backend; null where there is none (queue-message is then refused).</param>
    /// <param name="logger">The logger; null for none.</param>
    public AutomationService(IControlStore store, TimeProvider? timeProvider = null, IAutomationQueue? queue = null, ILogger<AutomationService>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(store);
        _store = store;
        _time = timeProvider ?? TimeProvider.System;
        _queuesAvailable = queue is not null;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
    }

    /// <summary>Validates an automation and creates or updates it. Applying the same definition again changes nothing.</summary>
    /// <param name="name">The name.</param>
    /// <param name="spec">The automation as written.</param>
    /// <param name="source">Where it came from (<c>api</c>, <c>file:flow.yaml</c>).</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>What happened.</returns>
    /// <exception cref="InvalidRequestException">The spec is invalid (every offending field is named).</exception>
    public async Task<AutomationApplyResult> ApplyAsync(string name, AutomationSpec spec, string source, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var (trigger, actions) = AutomationValidator.Validate(name, spec, _queuesAvailable);
        for (var attempt = 0; ; attempt++)
        {
            var existing = await _store.GetAutomationAsync(name, cancellationToken).ConfigureAwait(false);
            var now = StorageContract.NormalizeTime(_time.GetUtcNow());
            var enabled = spec.Enabled ?? true;
            var record = new AutomationRecord
            {
                Name = name,
                Description = spec.Description,
                Enabled = enabled,
                Trigger = trigger,
                Actions = actions,
                Source = source,
                CreatedAt = existing?.Record.CreatedAt ?? now,
                UpdatedAt = now,
                EnabledAt = !enabled ? null : existing?.Record is { Enabled: true, EnabledAt: { } since } ? since : now,
            };
            if (existing is not null && SameDefinition(existing.Record, record))
            {
                return new AutomationApplyResult(name, "unchanged", existing.Record);
            }

            try
            {
                var stored = await _store.PutAutomationAsync(record, existing?.Version ?? IControlStore.MustNotExist, cancellationToken).ConfigureAwait(false);
                var outcome = existing is null ? "created" : "updated";
                LogAutomationSaved(_logger, name, outcome, source);
                return new AutomationApplyResult(name, outcome, stored.Record);
            }
            catch (ConcurrencyException) when (attempt < 5)
            {
                // changed meanwhile: compare with the fresh record and try again
            }
            catch (ArgumentException e)
            {
                throw new InvalidRequestException("automation", e.Message);
            }
        }
    }

    /// <summary>Validates several automations (a deployments file's) without writing: names present and unique, each valid.</summary>
    /// <param name="specs">The automations, each with its name.</param>
    /// <exception cref="InvalidRequestException">Something is wrong; fields are named <c>automations[i].…</c>.</exception>
    public void ValidateAll(IReadOnlyList<AutomationSpec?> specs)
    {
        ArgumentNullException.ThrowIfNull(specs);
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        var names = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < specs.Count; i++)
        {
            if (specs[i] is not { } spec)
            {
                errors[$"automations[{i}]"] = ["is null"];
                continue;
            }

            if (spec.Name is { } name && !names.Add(name))
            {
                errors[$"automations[{i}].name"] = [$"'{name}' appears twice in the file"];
            }

            try
            {
                AutomationValidator.Validate(spec.Name, spec, _queuesAvailable);
            }
            catch (InvalidRequestException e)
            {
                foreach (var (field, messages) in e.Errors)
                {
                    errors[$"automations[{i}].{field}"] = messages;
                }
            }
        }

        if (errors.Count > 0)
        {
            throw new InvalidRequestException(errors);
        }
    }

    /// <summary>Reads an automation.</summary>
    /// <param name="name">The name.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The automation.</returns>
    /// <exception cref="ResourceNotFoundException">There is none.</exception>
    public async Task<AutomationRecord> GetAsync(string name, CancellationToken cancellationToken) =>
        (await GetVersionedAsync(name, cancellationToken).ConfigureAwait(false)).Record;

    /// <summary>Lists automations, by name.</summary>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The automations.</returns>
    public async Task<IReadOnlyList<AutomationRecord>> ListAsync(CancellationToken cancellationToken) =>
        [.. (await _store.ListAutomationsAsync(cancellationToken).ConfigureAwait(false)).Select(a => a.Record)];

    /// <summary>Deletes an automation; its firings stay readable.</summary>
    /// <param name="name">The name.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>A task.</returns>
    /// <exception cref="ResourceNotFoundException">There is none.</exception>
    public async Task DeleteAsync(string name, CancellationToken cancellationToken)
    {
        ValidateName(name);
        if (!await _store.DeleteAutomationAsync(name, cancellationToken).ConfigureAwait(false))
        {
            throw new ResourceNotFoundException($"Automation '{name}' does not exist.");
        }

        LogAutomationSaved(_logger, name, "deleted", "api");
    }

    /// <summary>Enables or disables an automation. Enabling starts its evaluation afresh from now (a proactive wait without
    /// <c>after</c> starts at the enabling).</summary>
    /// <param name="name">The name.</param>
    /// <param name="enabled">True to enable.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The automation.</returns>
    /// <exception cref="ResourceNotFoundException">There is none.</exception>
    public async Task<AutomationRecord> SetEnabledAsync(string name, bool enabled, CancellationToken cancellationToken)
    {
        for (var attempt = 0; ; attempt++)
        {
            var current = await GetVersionedAsync(name, cancellationToken).ConfigureAwait(false);
            if (current.Record.Enabled == enabled)
            {
                return current.Record;
            }

            var now = StorageContract.NormalizeTime(_time.GetUtcNow());
            try
            {
                var next = current.Record with { Enabled = enabled, EnabledAt = enabled ? now : null, UpdatedAt = now };
                var stored = await _store.PutAutomationAsync(next, current.Version, cancellationToken).ConfigureAwait(false);
                LogAutomationSaved(_logger, name, enabled ? "enabled" : "disabled", "api");
                return stored.Record;
            }
            catch (ConcurrencyException) when (attempt < 5)
            {
            }
        }
    }

    /// <summary>Lists an automation's firings, newest first.</summary>
    /// <param name="name">The automation's name (it may have been deleted since).</param>
    /// <param name="count">The most to return, 1-1000.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The firings.</returns>
    public async Task<IReadOnlyList<AutomationFiring>> ListFiringsAsync(string name, int count, CancellationToken cancellationToken)
    {
        ValidateName(name);
        if (count is < 1 or > ControlStoreContract.MaxRejectedListCount)
        {
            throw new InvalidRequestException("count", "must be 1-1000");
        }

        return [.. (await _store.ListFiringsAsync(name, count, cancellationToken).ConfigureAwait(false)).Select(f => f.Record)];
    }

    private static void ValidateName(string name)
    {
        try
        {
            ControlStoreContract.ValidateAutomationName(name);
        }
        catch (ArgumentException)
        {
            throw new InvalidRequestException("name", $"must be 1-{ControlStoreContract.MaxAutomationNameLength} ASCII letters, digits, '-', '_' and '.'");
        }
    }

    private static bool SameDefinition(AutomationRecord a, AutomationRecord b) =>
        JsonSerializer.Serialize(a with { CreatedAt = default, UpdatedAt = default, EnabledAt = default, Source = null })
        == JsonSerializer.Serialize(b with { CreatedAt = default, UpdatedAt = default, EnabledAt = default, Source = null });

    private async Task<Versioned<AutomationRecord>> GetVersionedAsync(string name, CancellationToken cancellationToken)
    {
        ValidateName(name);
        return await _store.GetAutomationAsync(name, cancellationToken).ConfigureAwait(false)
            ?? throw new ResourceNotFoundException($"Automation '{name}' does not exist.");
    }

    [LoggerMessage(1301, LogLevel.Information, "Automation {Name} {Outcome} (from {Source})")]
    private static partial void LogAutomationSaved(ILogger logger, string name, string outcome, string source);
}
