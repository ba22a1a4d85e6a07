using System.Text.Json;
using Flow.ControlPlane;
using Flow.ControlPlane.Automations;
using SdkTableClient = Azure.Data.Tables.TableClient;
using SdkTableEntity = Azure.Data.Tables.TableEntity;

namespace Flow.Storage.Azure;

/// <summary>
/// Automations in <c>{prefix}Automations</c> (PartitionKey <c>automation</c>, RowKey = name, the record as JSON in
/// <c>Record</c>) and firings in <c>{prefix}AutomationFirings</c> (PartitionKey = automation name, RowKey = firing id, the
/// record as JSON in <c>Record</c>, <c>FiredAt</c> beside it). Listing an automation's firings reads its partition and sorts it.
/// </summary>
public sealed partial class AzureControlStore
{
    private const string AutomationPartition = "automation";

    /// <inheritdoc />
    public async Task<Versioned<AutomationRecord>?> GetAutomationAsync(string name, CancellationToken cancellationToken)
    {
        ControlStoreContract.ValidateAutomationName(name);
        cancellationToken.ThrowIfCancellationRequested();
        var row = await GetIfExistsAsync(_automations, AutomationPartition, name, cancellationToken).ConfigureAwait(false);
        return row is null ? null : new(ReadRecord<AutomationRecord>(row), row.ETag.ToString());
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<Versioned<AutomationRecord>>> ListAutomationsAsync(CancellationToken cancellationToken)
    {
        var rows = await QueryAsync(_automations, SdkTableClient.CreateQueryFilter($"PartitionKey eq {AutomationPartition} and RowKey lt {OutboxStart}"), int.MaxValue, cancellationToken).ConfigureAwait(false);
        return [.. rows.Select(r => new Versioned<AutomationRecord>(ReadRecord<AutomationRecord>(r), r.ETag.ToString())).OrderBy(a => a.Record.Name, StringComparer.Ordinal)];
    }

    /// <inheritdoc />
    public async Task<Versioned<AutomationRecord>> PutAutomationAsync(AutomationRecord automation, string? expectedVersion, CancellationToken cancellationToken)
    {
        ControlStoreContract.ValidateAutomation(automation);
        var record = ControlStoreContract.Normalize(automation);
        var row = new SdkTableEntity(AutomationPartition, record.Name) { ["Record"] = JsonSerializer.Serialize(record, Json), ["Enabled"] = record.Enabled };
        return await ControlStoreContract.WriteChangeAsync(
            ct => GetAutomationAsync(record.Name, ct),
            expectedVersion,
            async (current, condition, ct) => new Versioned<AutomationRecord>(
                record,
                await WriteWithEventsAsync(_automations, row, condition, $"Automation '{record.Name}'", One(ControlEvents.ForAutomation(current?.Record, record, Now)), ct).ConfigureAwait(false)),
            cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public Task<bool> DeleteAutomationAsync(string name, CancellationToken cancellationToken)
    {
        ControlStoreContract.ValidateAutomationName(name);
        return ControlStoreContract.DeleteChangeAsync(
            ct => GetAutomationAsync(name, ct),
            (current, ct) => DeleteWithEventAsync(_automations, AutomationPartition, name, current.Version, ControlEvents.ForAutomation(current.Record, null, Now), ct),
            cancellationToken);
    }

    /// <inheritdoc />
    public async Task<Versioned<AutomationFiring>?> GetFiringAsync(string automation, string id, CancellationToken cancellationToken)
    {
        ControlStoreContract.ValidateAutomationName(automation);
        ControlStoreContract.ValidateFiringId(id);
        cancellationToken.ThrowIfCancellationRequested();
        var row = await GetIfExistsAsync(_firings, automation, id, cancellationToken).ConfigureAwait(false);
        return row is null ? null : new(ReadRecord<AutomationFiring>(row), row.ETag.ToString());
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<Versioned<AutomationFiring>>> ListFiringsAsync(string automation, int maxCount, CancellationToken cancellationToken)
    {
        ControlStoreContract.ValidateAutomationName(automation);
        ControlStoreContract.ValidateMaxCount(maxCount);
        var rows = await QueryAsync(_firings, SdkTableClient.CreateQueryFilter($"PartitionKey eq {automation} and RowKey lt {OutboxStart}"), int.MaxValue, cancellationToken).ConfigureAwait(false);
        return [.. rows.Select(r => new Versioned<AutomationFiring>(ReadRecord<AutomationFiring>(r), r.ETag.ToString()))
            .OrderByDescending(f => f.Record.FiredAt).ThenBy(f => f.Record.Id, StringComparer.Ordinal).Take(maxCount)];
    }

    /// <inheritdoc />
    public async Task<Versioned<AutomationFiring>> PutFiringAsync(AutomationFiring firing, string? expectedVersion, CancellationToken cancellationToken)
    {
        ControlStoreContract.ValidateFiring(firing);
        var record = ControlStoreContract.Normalize(firing);
        var row = new SdkTableEntity(record.Automation, record.Id) { ["Record"] = JsonSerializer.Serialize(record, Json), ["Status"] = record.Status };
        FlowEntities.SetTime(row, "FiredAt", record.FiredAt);
        return await ControlStoreContract.WriteChangeAsync(
            ct => GetFiringAsync(record.Automation, record.Id, ct),
            expectedVersion,
            async (current, condition, ct) => new Versioned<AutomationFiring>(
                record,
                await WriteWithEventsAsync(_firings, row, condition, $"Firing '{record.Id}' of automation '{record.Automation}'", ControlEvents.ForFiring(current?.Record, record), ct).ConfigureAwait(false)),
            cancellationToken).ConfigureAwait(false);
    }

    private static T ReadRecord<T>(SdkTableEntity row) =>
        JsonSerializer.Deserialize<T>(row.GetString("Record") ?? "null", Json) ?? throw new InvalidDataException($"Row {row.PartitionKey}/{row.RowKey} has no record.");
}
