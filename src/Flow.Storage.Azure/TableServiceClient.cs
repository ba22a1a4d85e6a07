using Azure.Core.Pipeline;
using Flow.Storage.Azure.Internal;

namespace Flow.Storage.Azure;

/// <summary>
/// The Table service of one storage account: hands out <see cref="TableClient"/>s that share one HTTP
/// pipeline (connections, retries, credentials). Thread-safe; create one per account and keep it.
/// </summary>
public sealed class TableServiceClient
{
    private readonly HttpPipeline _pipeline;
    private readonly Uri _endpoint;

    /// <summary>Creates the client.</summary>
    /// <param name="connection">The storage connection; its Table endpoint must be set.</param>
    /// <param name="options">Pipeline options, or null for the defaults.</param>
    public TableServiceClient(StorageConnection connection, StorageClientOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(connection);
        _endpoint = connection.TableEndpoint
            ?? throw new StorageConfigurationException("TableEndpoint", "The storage connection has no Table service endpoint: give AccountName, TableEndpoint or tableServiceUri.");
        _pipeline = StoragePipeline.Build(connection, options ?? new StorageClientOptions(), StorageService.Table);
    }

    /// <summary>The Table service endpoint.</summary>
    public Uri Endpoint => _endpoint;

    /// <summary>Returns a client for a table (no request is sent; the name is checked against Azure's rules).</summary>
    /// <param name="tableName">The table name.</param>
    /// <returns>The client.</returns>
    public TableClient GetTableClient(string tableName) => new(_pipeline, _endpoint, tableName);
}
