using System.Text;
using Flow.Engine.Storage;
using BlobContainerClient = Azure.Storage.Blobs.BlobContainerClient;
using RequestFailedException = Azure.RequestFailedException;
using SdkTableEntity = Azure.Data.Tables.TableEntity;

namespace Flow.Storage.Azure;

/// <summary>One large value moved out of its row into a blob: the blob's name and the UTF-8 bytes to upload.</summary>
/// <param name="Name">The blob name (<c>{runId}/{rowKey}/{property}-{contentId}.json</c>).</param>
/// <param name="Content">The value as UTF-8.</param>
internal sealed record PayloadBlob(string Name, byte[] Content);

/// <summary>
/// Large values of a run's rows kept as blobs in the payload container (docs/azure-storage-sdk.md, "Large payloads in
/// blobs"). The owner row keeps <c>{Property}Blob</c> (the blob name) and <c>{Property}Bytes</c> instead of the value.
/// Names are content-addressed and the blob is uploaded before the row that references it is committed, so a retried
/// or failed commit rewrites the same bytes under the same name and never leaves a row pointing at nothing; an orphan
/// blob (from a commit that lost its race) is deleted with the run.
/// </summary>
internal sealed class PayloadBlobs
{
    /// <summary>The suffix of the property that holds the blob name of a moved value.</summary>
    public const string BlobSuffix = "Blob";

    // KnownChunks remembers uploaded or read blobs under this pseudo-partition (run ids never contain '~').
    private const string KnownPartition = "~blob";
    private const int DeleteParallelism = 16;

    /// <summary>Creates the helper.</summary>
    /// <param name="container">The payload container.</param>
    /// <param name="thresholdBytes">Values above this many UTF-8 bytes move to a blob.</param>
    public PayloadBlobs(BlobContainerClient container, int thresholdBytes)
    {
        Container = container;
        ThresholdBytes = thresholdBytes;
    }

    /// <summary>The payload container.</summary>
    public BlobContainerClient Container { get; }

    /// <summary>Values above this many UTF-8 bytes move to a blob.</summary>
    public int ThresholdBytes { get; }

    /// <summary>
    /// The folder of a run's blobs: the run id, except that an id of dots only (which a URL would collapse as a path
    /// segment) gets a leading '~', which no run id contains.
    /// </summary>
    public static string Folder(string runId) => runId.All(c => c == '.') ? "~" + runId : runId;

    /// <summary>The blob name of a value: <c>{folder}/{rowKey}/{property}-{contentId}.json</c>.</summary>
    public static string Name(string runId, string rowKey, string property, string contentId) =>
        Folder(runId) + "/" + rowKey + "/" + property.ToLowerInvariant() + "-" + contentId + ".json";

    /// <summary>Whether a value of this many UTF-8 bytes stays in its row.</summary>
    public bool StaysInline(string value) => value.Length <= ThresholdBytes && Encoding.UTF8.GetByteCount(value) <= ThresholdBytes;

    /// <summary>Moves a value out of its row: sets the reference properties and returns the blob to upload.</summary>
    public static PayloadBlob Offload(SdkTableEntity owner, string property, string value, KnownChunks known)
    {
        var bytes = Encoding.UTF8.GetBytes(value);
        var name = Name(owner.PartitionKey, owner.RowKey, property, known.ContentId(value, bytes));
        owner.Remove(property);
        owner[property + BlobSuffix] = name;
        owner[property + LargeText.BytesSuffix] = bytes.Length;
        return new PayloadBlob(name, bytes);
    }

    /// <summary>Uploads the blobs (concurrently, replacing same-named ones: the name fixes the content), skipping those known to exist.</summary>
    public async Task WriteAsync(IReadOnlyList<PayloadBlob> blobs, KnownChunks known, CancellationToken cancellationToken)
    {
        var pending = blobs.Where(b => !known.Exists(KnownPartition, b.Name)).DistinctBy(b => b.Name, StringComparer.Ordinal).ToList();
        if (pending.Count == 0)
        {
            return;
        }

        await Task.WhenAll(pending.Select(b => Container.GetBlobClient(b.Name).UploadAsync(new BinaryData(b.Content), overwrite: true, cancellationToken))).ConfigureAwait(false);
        foreach (var blob in pending)
        {
            known.MarkExisting(KnownPartition, blob.Name);
        }
    }

    /// <summary>Puts the value of every blob-referenced property of <paramref name="owners"/> back in place (downloads concurrently).</summary>
    public async Task ResolveAsync(IEnumerable<SdkTableEntity> owners, KnownChunks known, CancellationToken cancellationToken)
    {
        List<(SdkTableEntity Owner, string Property, string Name, int Bytes)>? refs = null;
        foreach (var owner in owners)
        {
            foreach (var (key, value) in owner)
            {
                if (value is string name && key.EndsWith(BlobSuffix, StringComparison.Ordinal) && owner.GetInt32(key[..^BlobSuffix.Length] + LargeText.BytesSuffix) is { } bytes)
                {
                    (refs ??= []).Add((owner, key[..^BlobSuffix.Length], name, bytes));
                }
            }
        }

        if (refs is null)
        {
            return;
        }

        var texts = await Task.WhenAll(refs.Select(r => DownloadAsync(r.Owner, r.Property, r.Name, r.Bytes, cancellationToken))).ConfigureAwait(false);
        for (var i = 0; i < refs.Count; i++)
        {
            var (owner, property, name, _) = refs[i];
            owner[property] = texts[i];
            var id = name[(name.LastIndexOf('-') + 1)..^".json".Length];
            known.Remember(texts[i], id);
            known.MarkExisting(KnownPartition, name);
        }
    }

    /// <summary>Deletes every blob of a run, page by page (a page's blobs concurrently, at most 16 at a time).</summary>
    /// <returns>How many blobs were deleted.</returns>
    public async Task<int> DeleteRunAsync(string runId, CancellationToken cancellationToken)
    {
        var deleted = 0;
        await foreach (var page in Container.GetBlobsAsync(global::Azure.Storage.Blobs.Models.BlobTraits.None, global::Azure.Storage.Blobs.Models.BlobStates.None, Folder(runId) + "/", cancellationToken).AsPages(pageSizeHint: 100).ConfigureAwait(false))
        {
            await Parallel.ForEachAsync(
                page.Values,
                new ParallelOptions { MaxDegreeOfParallelism = DeleteParallelism, CancellationToken = cancellationToken },
                async (blob, ct) => await Container.DeleteBlobIfExistsAsync(blob.Name, cancellationToken: ct).ConfigureAwait(false)).ConfigureAwait(false);
            deleted += page.Values.Count;
        }

        return deleted;
    }

    private async Task<string> DownloadAsync(SdkTableEntity owner, string property, string name, int bytes, CancellationToken cancellationToken)
    {
        try
        {
            var content = (await Container.GetBlobClient(name).DownloadContentAsync(cancellationToken).ConfigureAwait(false)).Value.Content.ToMemory();
            if (content.Length != bytes)
            {
                throw new FlowStoreException($"The blob '{Container.Name}/{name}' holding '{property}' of row '{owner.PartitionKey}'/'{owner.RowKey}' has {content.Length:N0} bytes, not the {bytes:N0} recorded.");
            }

            return Encoding.UTF8.GetString(content.Span);
        }
        catch (RequestFailedException e) when (e.Status == 404)
        {
            throw new FlowStoreException($"The blob '{Container.Name}/{name}' holding '{property}' of row '{owner.PartitionKey}'/'{owner.RowKey}' is missing; the stored data is incomplete.", e);
        }
    }
}
