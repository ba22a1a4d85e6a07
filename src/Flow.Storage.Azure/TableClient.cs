using System.Text;
using System.Text.Json;
using Azure;
using Azure.Core;
using Azure.Core.Pipeline;
using Flow.Storage.Azure.Internal;

namespace Flow.Storage.Azure;

/// <summary>
/// A client for one Azure table (or the Azurite emulator's): entity reads, writes with optimistic
/// concurrency, paged queries and entity group transactions, over the Table REST API.
/// Thread-safe; create one per table and keep it.
/// </summary>
public sealed class TableClient
{
    private const string JsonAccept = "application/json;odata=minimalmetadata";
    private readonly HttpPipeline _pipeline;
    private readonly Uri _endpoint;

    /// <summary>Creates a client for a table.</summary>
    /// <param name="connection">The storage connection (its <see cref="StorageConnection.TableEndpoint"/> must be set).</param>
    /// <param name="tableName">The table name.</param>
    /// <param name="options">Pipeline options, or null for the defaults.</param>
    /// <exception cref="ArgumentException">The table name breaks Azure's naming rules.</exception>
    public TableClient(StorageConnection connection, string tableName, StorageClientOptions? options = null)
        : this(StoragePipeline.Build(connection ?? throw new ArgumentNullException(nameof(connection)), options ?? new StorageClientOptions(), StorageService.Table),
            RequireEndpoint(connection), tableName)
    {
    }

    internal TableClient(HttpPipeline pipeline, Uri endpoint, string tableName)
    {
        StorageNames.ValidateTableName(tableName);
        _pipeline = pipeline;
        _endpoint = endpoint;
        Name = tableName;
        Uri = new Uri(endpoint, tableName);
    }

    /// <summary>The table name.</summary>
    public string Name { get; }

    /// <summary>The table's URI.</summary>
    public Uri Uri { get; }

    /// <summary>Creates the table unless it exists.</summary>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>True when this call created it.</returns>
    public async Task<bool> CreateIfNotExistsAsync(CancellationToken cancellationToken = default)
    {
        using var message = CreateMessage(RequestMethod.Post, "Tables");
        var body = Encoding.UTF8.GetBytes("{\"TableName\":\"" + Name + "\"}");
        message.Request.Headers.SetValue("Content-Type", "application/json");
        message.Request.Headers.SetValue("Prefer", "return-no-content");
        message.Request.Content = RequestContent.Create(body);
        var response = await _pipeline.SendRequestAsync(message, "Create table " + Name, cancellationToken).ConfigureAwait(false);
        return response.Status switch
        {
            201 or 204 => true,
            409 => false,
            _ => throw StorageErrors.FromResponse(response, "Create table " + Name),
        };
    }

    /// <summary>Deletes the table and everything in it, if it exists. A deleted name cannot be reused for a while (about 40 s in Azure).</summary>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>True when the table existed.</returns>
    public async Task<bool> DeleteIfExistsAsync(CancellationToken cancellationToken = default)
    {
        using var message = CreateMessage(RequestMethod.Delete, "Tables('" + Name + "')");
        var response = await _pipeline.SendRequestAsync(message, "Delete table " + Name, cancellationToken).ConfigureAwait(false);
        return response.Status switch
        {
            204 => true,
            404 => false,
            _ => throw StorageErrors.FromResponse(response, "Delete table " + Name),
        };
    }

    /// <summary>Inserts a new entity; fails with a 409 <c>EntityAlreadyExists</c> error if one with the same keys exists.</summary>
    /// <param name="entity">The entity.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>The new entity's ETag.</returns>
    public async Task<ETag> AddEntityAsync(TableEntity entity, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(entity);
        EntityJson.Validate(entity);
        using var message = CreateMessage(RequestMethod.Post, Name);
        message.Request.Headers.SetValue("Prefer", "return-no-content");
        SetJsonBody(message.Request, entity);
        var response = await _pipeline.SendRequestAsync(message, Describe("Insert", entity), cancellationToken).ConfigureAwait(false);
        if (response.Status is not (201 or 204))
        {
            throw StorageErrors.FromResponse(response, Describe("Insert", entity));
        }

        return ReadETag(response);
    }

    /// <summary>Inserts the entity, or merges it into / replaces the existing one, whatever its version.</summary>
    /// <param name="entity">The entity.</param>
    /// <param name="mode">Merge (keep other properties) or Replace.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>The entity's new ETag.</returns>
    public Task<ETag> UpsertEntityAsync(TableEntity entity, TableUpdateMode mode = TableUpdateMode.Merge, CancellationToken cancellationToken = default) =>
        WriteEntityAsync(entity, mode, ifMatch: null, "Upsert", cancellationToken);

    /// <summary>
    /// Updates an existing entity if its version still matches <paramref name="ifMatch"/> (optimistic concurrency).
    /// Fails with a 412 error (<see cref="StorageRequestException.IsPreconditionFailed"/>) when someone changed it first,
    /// and with 404 when it does not exist. Pass <see cref="ETag.All"/> to update whatever the version.
    /// </summary>
    /// <param name="entity">The entity.</param>
    /// <param name="ifMatch">The version the caller read, or <see cref="ETag.All"/>.</param>
    /// <param name="mode">Merge (keep other properties) or Replace.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>The entity's new ETag.</returns>
    public Task<ETag> UpdateEntityAsync(TableEntity entity, ETag ifMatch, TableUpdateMode mode = TableUpdateMode.Merge, CancellationToken cancellationToken = default)
    {
        if (ifMatch == default)
        {
            throw new ArgumentException("An update needs the ETag the entity was read with (or ETag.All to overwrite any version).", nameof(ifMatch));
        }

        return WriteEntityAsync(entity, mode, ifMatch, "Update", cancellationToken);
    }

    /// <summary>Deletes an entity if its version matches (any version by default).</summary>
    /// <param name="partitionKey">The PartitionKey.</param>
    /// <param name="rowKey">The RowKey.</param>
    /// <param name="ifMatch">The version the caller read; default or <see cref="ETag.All"/> deletes any version.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>True when it was deleted; false when it did not exist. A version mismatch throws (412).</returns>
    public async Task<bool> DeleteEntityAsync(string partitionKey, string rowKey, ETag ifMatch = default, CancellationToken cancellationToken = default)
    {
        StorageNames.ValidateKey(partitionKey, "PartitionKey");
        StorageNames.ValidateKey(rowKey, "RowKey");
        using var message = CreateMessage(RequestMethod.Delete, EntityJson.EntityPath(Name, partitionKey, rowKey));
        message.Request.Headers.SetValue("If-Match", ifMatch == default ? "*" : ifMatch.ToString());
        var operation = $"Delete entity '{partitionKey}'/'{rowKey}' from {Name}";
        var response = await _pipeline.SendRequestAsync(message, operation, cancellationToken).ConfigureAwait(false);
        return response.Status switch
        {
            204 => true,
            404 => false,
            _ => throw StorageErrors.FromResponse(response, operation),
        };
    }

    /// <summary>Reads one entity by its keys; throws a 404 <see cref="StorageRequestException"/> when absent.</summary>
    /// <param name="partitionKey">The PartitionKey.</param>
    /// <param name="rowKey">The RowKey.</param>
    /// <param name="select">The properties to return, or null for all.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>The entity.</returns>
    public async Task<TableEntity> GetEntityAsync(string partitionKey, string rowKey, IEnumerable<string>? select = null, CancellationToken cancellationToken = default) =>
        (await GetEntityCoreAsync(partitionKey, rowKey, select, throwIfMissing: true, cancellationToken).ConfigureAwait(false))!; // throws rather than returning null

    /// <summary>Reads one entity by its keys, or returns null when it does not exist (no exception on the normal path).</summary>
    /// <param name="partitionKey">The PartitionKey.</param>
    /// <param name="rowKey">The RowKey.</param>
    /// <param name="select">The properties to return, or null for all.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>The entity, or null.</returns>
    public Task<TableEntity?> GetEntityIfExistsAsync(string partitionKey, string rowKey, IEnumerable<string>? select = null, CancellationToken cancellationToken = default) =>
        GetEntityCoreAsync(partitionKey, rowKey, select, throwIfMissing: false, cancellationToken);

    /// <summary>
    /// Queries entities page by page, following the service's continuation tokens (a page holds at most 1,000
    /// entities). Build <paramref name="filter"/> with <see cref="TableFilter"/>. Enumerate the result for
    /// entities, or call <c>AsPages(continuationToken, pageSize)</c> to resume from a saved token.
    /// </summary>
    /// <param name="filter">An OData filter, or null for every entity.</param>
    /// <param name="select">The properties to return (PartitionKey and RowKey always come too), or null for all.</param>
    /// <param name="maxPerPage">The page size (<c>$top</c>), 1 to 1,000, or null for the service's maximum.</param>
    /// <param name="cancellationToken">Cancels the requests.</param>
    /// <returns>The entities, lazily, one request per page.</returns>
    public AsyncPageable<TableEntity> QueryAsync(string? filter = null, IEnumerable<string>? select = null, int? maxPerPage = null, CancellationToken cancellationToken = default)
    {
        if (maxPerPage is < 1 or > 1000)
        {
            throw new ArgumentOutOfRangeException(nameof(maxPerPage), maxPerPage, "A page holds 1 to 1,000 entities.");
        }

        var selectText = JoinSelect(select);
        return new TableQueryPageable(this, filter, selectText, maxPerPage, cancellationToken);
    }

    /// <summary>
    /// Runs up to 100 operations on entities of one partition as one all-or-nothing transaction
    /// (an entity group transaction). If any operation fails, none is applied and the thrown
    /// <see cref="StorageRequestException"/> names the failing operation in <see cref="StorageRequestException.FailedOperationIndex"/>.
    /// </summary>
    /// <param name="actions">The operations, each on a different entity of the same partition.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>One result per operation, in order, with the entity's new ETag (none for deletes).</returns>
    public async Task<IReadOnlyList<TableTransactionResult>> SubmitTransactionAsync(IEnumerable<TableTransactionAction> actions, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(actions);
        var list = actions as IReadOnlyList<TableTransactionAction> ?? actions.ToList();
        var batch = TableBatch.Build(_endpoint, Name, list);
        using var message = CreateMessage(RequestMethod.Post, "$batch");
        message.Request.Headers.SetValue("Content-Type", "multipart/mixed; boundary=" + batch.Boundary);
        message.Request.Content = RequestContent.Create(batch.Body);
        var operation = $"Transaction of {list.Count} operations on {Name} partition '{list[0].Entity.PartitionKey}'";
        var response = await _pipeline.SendRequestAsync(message, operation, cancellationToken).ConfigureAwait(false);
        if (response.Status != 202)
        {
            throw StorageErrors.FromResponse(response, operation);
        }

        return TableBatch.ParseResponse(response, list, operation);
    }

    internal async Task<Page<TableEntity>> QueryPageAsync(string? filter, string? select, int? top, string? continuation, CancellationToken cancellationToken)
    {
        using var message = CreateMessage(RequestMethod.Get, Name + "()");
        var uri = message.Request.Uri;
        if (!string.IsNullOrEmpty(filter))
        {
            uri.AppendQuery("$filter", filter, escapeValue: true);
        }

        if (select is not null)
        {
            uri.AppendQuery("$select", select, escapeValue: true);
        }

        if (top is not null)
        {
            uri.AppendQuery("$top", top.Value.ToString(System.Globalization.CultureInfo.InvariantCulture), escapeValue: false);
        }

        if (!string.IsNullOrEmpty(continuation))
        {
            var space = continuation.IndexOf(' ', StringComparison.Ordinal);
            var nextPk = space < 0 ? continuation : continuation[..space];
            var nextRk = space < 0 ? null : continuation[(space + 1)..];
            uri.AppendQuery("NextPartitionKey", nextPk, escapeValue: true);
            if (!string.IsNullOrEmpty(nextRk))
            {
                uri.AppendQuery("NextRowKey", nextRk, escapeValue: true);
            }
        }

        var operation = "Query " + Name;
        var response = await _pipeline.SendRequestAsync(message, operation, cancellationToken).ConfigureAwait(false);
        if (response.Status != 200)
        {
            throw StorageErrors.FromResponse(response, operation);
        }

        var entities = new List<TableEntity>();
        using (var doc = JsonDocument.Parse(response.Content.ToMemory()))
        {
            if (doc.RootElement.TryGetProperty("value", out var values))
            {
                foreach (var item in values.EnumerateArray())
                {
                    entities.Add(EntityJson.Read(item));
                }
            }
        }

        string? next = null;
        if (response.Headers.TryGetValue("x-ms-continuation-NextPartitionKey", out var pk) && !string.IsNullOrEmpty(pk))
        {
            next = response.Headers.TryGetValue("x-ms-continuation-NextRowKey", out var rk) && !string.IsNullOrEmpty(rk) ? pk + " " + rk : pk;
        }

        return Page<TableEntity>.FromValues(entities, next, response);
    }

    private async Task<ETag> WriteEntityAsync(TableEntity entity, TableUpdateMode mode, ETag? ifMatch, string verb, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(entity);
        EntityJson.Validate(entity);
        var method = mode == TableUpdateMode.Replace ? RequestMethod.Put : Merge;
        using var message = CreateMessage(method, EntityJson.EntityPath(Name, entity.PartitionKey, entity.RowKey));
        if (ifMatch is { } etag)
        {
            message.Request.Headers.SetValue("If-Match", etag.ToString());
        }

        SetJsonBody(message.Request, entity);
        var operation = Describe(verb, entity);
        var response = await _pipeline.SendRequestAsync(message, operation, cancellationToken).ConfigureAwait(false);
        if (response.Status != 204)
        {
            throw StorageErrors.FromResponse(response, operation);
        }

        return ReadETag(response);
    }

    private async Task<TableEntity?> GetEntityCoreAsync(string partitionKey, string rowKey, IEnumerable<string>? select, bool throwIfMissing, CancellationToken cancellationToken)
    {
        StorageNames.ValidateKey(partitionKey, "PartitionKey");
        StorageNames.ValidateKey(rowKey, "RowKey");
        using var message = CreateMessage(RequestMethod.Get, EntityJson.EntityPath(Name, partitionKey, rowKey));
        var selectText = JoinSelect(select);
        if (selectText is not null)
        {
            message.Request.Uri.AppendQuery("$select", selectText, escapeValue: true);
        }

        var operation = $"Get entity '{partitionKey}'/'{rowKey}' from {Name}";
        var response = await _pipeline.SendRequestAsync(message, operation, cancellationToken).ConfigureAwait(false);
        if (response.Status == 404 && !throwIfMissing)
        {
            if (StorageErrors.ErrorCode(response) is "TableNotFound")
            {
                throw StorageErrors.FromResponse(response, operation);
            }

            return null;
        }

        if (response.Status != 200)
        {
            throw StorageErrors.FromResponse(response, operation);
        }

        using var doc = JsonDocument.Parse(response.Content.ToMemory());
        var entity = EntityJson.Read(doc.RootElement);
        if (entity.ETag == default)
        {
            entity.ETag = ReadETag(response);
        }

        return entity;
    }

    private static readonly RequestMethod Merge = new("MERGE");

    private HttpMessage CreateMessage(RequestMethod method, string relativePath)
    {
        var message = _pipeline.CreateMessage();
        var request = message.Request;
        request.Method = method;
        request.Uri.Reset(_endpoint);
        request.Uri.AppendPath(relativePath, escape: false);
        request.Headers.SetValue("Accept", JsonAccept);
        request.Headers.SetValue("DataServiceVersion", "3.0");
        request.Headers.SetValue("MaxDataServiceVersion", "3.0;NetFx");
        return message;
    }

    private static void SetJsonBody(Request request, TableEntity entity)
    {
        request.Headers.SetValue("Content-Type", "application/json");
        request.Content = RequestContent.Create(EntityJson.Serialize(entity));
    }

    private static ETag ReadETag(Response response) =>
        response.Headers.TryGetValue("ETag", out var etag) ? new ETag(etag) : default;

    private string Describe(string verb, TableEntity entity) => $"{verb} entity '{entity.PartitionKey}'/'{entity.RowKey}' in {Name}";

    private static string? JoinSelect(IEnumerable<string>? select)
    {
        if (select is null)
        {
            return null;
        }

        // The keys are always selected so every returned entity knows its identity.
        var names = new List<string> { "PartitionKey", "RowKey" };
        foreach (var name in select)
        {
            StorageNames.ValidatePropertyName(name);
            if (!names.Contains(name, StringComparer.Ordinal))
            {
                names.Add(name);
            }
        }

        return names.Count == 2 ? null : string.Join(',', names);
    }

    private static Uri RequireEndpoint(StorageConnection connection) =>
        connection.TableEndpoint ?? throw new StorageConfigurationException("TableEndpoint", "The storage connection has no Table service endpoint: give AccountName, TableEndpoint or tableServiceUri.");

    private sealed class TableQueryPageable(TableClient client, string? filter, string? select, int? maxPerPage, CancellationToken cancellationToken)
        : AsyncPageable<TableEntity>(cancellationToken)
    {
        public override async IAsyncEnumerable<Page<TableEntity>> AsPages(string? continuationToken = null, int? pageSizeHint = null)
        {
            var token = continuationToken;
            var top = pageSizeHint ?? maxPerPage;
            do
            {
                var page = await client.QueryPageAsync(filter, select, top, token, CancellationToken).ConfigureAwait(false);
                yield return page;
                token = page.ContinuationToken;
            }
            while (!string.IsNullOrEmpty(token));
        }
    }
}
