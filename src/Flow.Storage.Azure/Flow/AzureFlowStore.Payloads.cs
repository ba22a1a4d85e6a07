using Microsoft.Extensions.Logging;
using BlobServiceClient = Azure.Storage.Blobs.BlobServiceClient;
using SdkTableClient = Azure.Data.Tables.TableClient;
using SdkTableEntity = Azure.Data.Tables.TableEntity;
using SdkTableServiceClient = Azure.Data.Tables.TableServiceClient;

namespace Flow.Storage.Azure;

/// <content>Large values in payload blobs: writing them before the rows that reference them, and reading them back.</content>
public sealed partial class AzureFlowStore
{
    private readonly PayloadBlobs? _payloads;

    /// <summary>
    /// Creates the store with payload blobs: a value (parameters, result, journal payload or detail, log message,
    /// artifact data…) larger than <see cref="AzureFlowStorageOptions.PayloadBlobThresholdBytes"/> is kept as a blob in
    /// <see cref="AzureFlowStorageOptions.PayloadContainer"/> under <c>{runId}/</c>, with its name in the row. Values
    /// written earlier as chunk rows are still read.
    /// </summary>
    /// <param name="tables">The account's Table service.</param>
    /// <param name="blobs">The account's Blob service.</param>
    /// <param name="options">Table and container names and limits; null for the defaults.</param>
    /// <param name="logger">Where index and clean-up problems are logged; null for none.</param>
    /// <param name="events">The event store the outbox relays to; null for one on the same tables.</param>
    public AzureFlowStore(
        SdkTableServiceClient tables, BlobServiceClient blobs, AzureFlowStorageOptions? options = null, ILogger<AzureFlowStore>? logger = null, AzureEventStore? events = null)
        : this(tables, options, logger, events)
    {
        ArgumentNullException.ThrowIfNull(blobs);
        _payloads = new PayloadBlobs(blobs.GetBlobContainerClient(_options.PayloadContainer), _options.PayloadBlobThresholdBytes);
    }

    /// <summary>The container holding large values, or null when this store keeps them in chunk rows (created without a Blob service).</summary>
    public global::Azure.Storage.Blobs.BlobContainerClient? PayloadContainer => _payloads?.Container;

    private Task CreatePayloadContainerAsync(CancellationToken cancellationToken) =>
        _payloads is null ? Task.CompletedTask : _payloads.Container.CreateIfNotExistsAsync(cancellationToken: cancellationToken);

    /// <summary>Uploads the blobs a plan moved values to; no request when there are none (small commits cost nothing extra).</summary>
    private Task WritePayloadBlobsAsync(TextPlan plan, CancellationToken cancellationToken) =>
        _payloads is null || plan.Blobs.Count == 0 ? Task.CompletedTask : _payloads.WriteAsync(plan.Blobs, _known, cancellationToken);

    /// <summary>Puts every moved value of <paramref name="rows"/> back: from chunk rows (the older layout) and from payload blobs.</summary>
    private async Task ResolveTextAsync(SdkTableClient table, IEnumerable<SdkTableEntity> rows, IReadOnlyDictionary<string, SdkTableEntity>? chunks, CancellationToken cancellationToken)
    {
        var list = rows as IReadOnlyCollection<SdkTableEntity> ?? [.. rows];
        await LargeText.ResolveAsync(table, list, chunks, _known, cancellationToken).ConfigureAwait(false);
        if (_payloads is not null)
        {
            await _payloads.ResolveAsync(list, _known, cancellationToken).ConfigureAwait(false);
        }
    }
}
