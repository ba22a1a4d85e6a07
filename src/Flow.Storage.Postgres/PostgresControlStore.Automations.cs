using System.Globalization;
using System.Text.Json;
using Flow.ControlPlane;
using Flow.ControlPlane.Automations;
using Flow.Engine.Events;
using Flow.Engine.Storage;
using static Flow.Storage.Postgres.PgValues;

namespace Flow.Storage.Postgres;

/// <summary>Automations (<c>automations</c>: one row per name) and firings (<c>automation_firings</c>: one row per
/// <c>{automation}|{id}</c>, with the automation and the firing time in columns for the newest-first listing).</summary>
public sealed partial class PostgresControlStore
{
    /// <inheritdoc />
    public Task<Versioned<AutomationRecord>?> GetAutomationAsync(string name, CancellationToken cancellationToken)
    {
        ControlStoreContract.ValidateAutomationName(name);
        return GetAsync<AutomationRecord>("automations", "name", name, cancellationToken);
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<Versioned<AutomationRecord>>> ListAutomationsAsync(CancellationToken cancellationToken) =>
        ListAsync<AutomationRecord>("automations", cancellationToken);

    /// <inheritdoc />
    public Task<Versioned<AutomationRecord>> PutAutomationAsync(AutomationRecord automation, string? expectedVersion, CancellationToken cancellationToken)
    {
        ControlStoreContract.ValidateAutomation(automation);
        return PutAsync("automations", automation.Name, ControlStoreContract.Normalize(automation), expectedVersion, "Automation", (b, a) => One(ControlEvents.ForAutomation(b, a, Now)), cancellationToken);
    }

    /// <inheritdoc />
    public Task<bool> DeleteAutomationAsync(string name, CancellationToken cancellationToken)
    {
        ControlStoreContract.ValidateAutomationName(name);
        return DeleteAsync<AutomationRecord>("automations", name, b => ControlEvents.ForAutomation(b, null, Now), cancellationToken);
    }

    /// <inheritdoc />
    public async Task<Versioned<AutomationFiring>?> GetFiringAsync(string automation, string id, CancellationToken cancellationToken)
    {
        ControlStoreContract.ValidateAutomationName(automation);
        ControlStoreContract.ValidateFiringId(id);
        return await GetAsync<AutomationFiring>("automation_firings", "key", ControlStoreContract.FiringKey(automation, id), cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<Versioned<AutomationFiring>>> ListFiringsAsync(string automation, int maxCount, CancellationToken cancellationToken)
    {
        ControlStoreContract.ValidateAutomationName(automation);
        ControlStoreContract.ValidateMaxCount(maxCount);
        var rows = await QueryAsync(
            $"SELECT record, version::text FROM {_s}.automation_firings WHERE automation = $1 ORDER BY fired_at DESC, key LIMIT $2",
            [Str(automation), P(maxCount)],
            cancellationToken).ConfigureAwait(false);
        return [.. rows.Select(r => new Versioned<AutomationFiring>(JsonSerializer.Deserialize<AutomationFiring>(r.Record, Json)!, r.Version))];
    }

    /// <inheritdoc />
    public Task<Versioned<AutomationFiring>> PutFiringAsync(AutomationFiring firing, string? expectedVersion, CancellationToken cancellationToken)
    {
        ControlStoreContract.ValidateFiring(firing);
        var record = ControlStoreContract.Normalize(firing);
        return ControlStoreContract.WriteChangeAsync(
            ct => GetFiringAsync(record.Automation, record.Id, ct),
            expectedVersion,
            (current, condition, ct) => WriteFiringAsync(record, condition, ControlEvents.ForFiring(current?.Record, record), ct),
            cancellationToken);
    }

    /// <summary>Writes a firing under a condition, with the events of its change in the same statement.</summary>
    private async Task<Versioned<AutomationFiring>> WriteFiringAsync(AutomationFiring record, string? expectedVersion, IReadOnlyList<FlowEvent> events, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var key = ControlStoreContract.FiringKey(record.Automation, record.Id);
        var next = $"nextval('{_s}.control_versions')";
        var insert = $"INSERT INTO {_s}.automation_firings (key, automation, fired_at, version, record) VALUES ($1, $2, $3, {next}, $4)";
        var values = new[] { Str(key), Str(record.Automation), Time(record.FiredAt), Str(JsonSerializer.Serialize(record, Json)) };
        string sql;
        var parameters = values;
        if (expectedVersion is null)
        {
            sql = insert + " ON CONFLICT (key) DO UPDATE SET fired_at = excluded.fired_at, version = excluded.version, record = excluded.record, updated_at = now() RETURNING version";
        }
        else if (expectedVersion.Length == 0)
        {
            sql = insert + " ON CONFLICT (key) DO NOTHING RETURNING version";
        }
        else if (long.TryParse(expectedVersion, NumberStyles.None, CultureInfo.InvariantCulture, out var expected))
        {
            sql = $"UPDATE {_s}.automation_firings SET fired_at = $3, version = {next}, record = $4, updated_at = now() WHERE key = $1 AND automation = $2 AND version = $5 RETURNING version";
            parameters = [.. values, P(expected)];
        }
        else
        {
            throw new ConcurrencyException($"Firing '{key}' has no version '{expectedVersion}' (not a version of this store); nothing was written.");
        }

        (sql, parameters) = WithEvents(sql, parameters, events);
        return await _resilience.ScalarAsync(sql, parameters, cancellationToken).ConfigureAwait(false) is long version
            ? new Versioned<AutomationFiring>(record, version.ToString(CultureInfo.InvariantCulture))
            : throw new ConcurrencyException(
                expectedVersion is { Length: 0 } ? $"Firing '{key}' already exists; nothing was written." : $"Firing '{key}' is not at version {expectedVersion} (or does not exist); nothing was written.");
    }
}
