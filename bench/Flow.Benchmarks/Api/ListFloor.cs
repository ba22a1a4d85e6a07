using System.Diagnostics;
using System.Text.Json.Nodes;
using Azure.Data.Tables;
using Flow.Storage.Azure;

namespace Flow.Benchmarks.Api;

/// <summary>
/// What one page of <c>GET /api/runs?pageSize=50</c> costs the storage at least, without the app: the range query on
/// the index partition <c>recent</c> (51 rows, as the store asks) alone, and followed by reading the 50 runs' rows
/// (16 at a time, as the store does). Same account, same moment; separates the storage's share of a list request's
/// latency from the app's.
/// </summary>
internal static class ListFloor
{
    private const int PageSize = 50;
    private const int ReadParallelism = 16;

    public static async Task<JsonObject> MeasureAsync(string connectionString, int samples, CancellationToken cancellationToken)
    {
        var tables = AzureSdkClients.CreateTableService(StorageConnection.Parse(connectionString));
        var options = new AzureFlowStorageOptions();
        var index = tables.GetTableClient(options.RunIndexTable);
        var runs = tables.GetTableClient(options.RunsTable);
        var query = new Latencies();
        var page = new Latencies();
        for (var i = 0; i < samples; i++)
        {
            var start = Stopwatch.GetTimestamp();
            var ids = await FirstPageIdsAsync(index, cancellationToken).ConfigureAwait(false);
            query.Add(Stopwatch.GetElapsedTime(start));
            await Parallel.ForEachAsync(ids, new ParallelOptions { MaxDegreeOfParallelism = ReadParallelism, CancellationToken = cancellationToken },
                async (id, ct) => await runs.GetEntityAsync<TableEntity>(id, "run", cancellationToken: ct).ConfigureAwait(false)).ConfigureAwait(false);
            page.Add(Stopwatch.GetElapsedTime(start));
        }

        return new JsonObject
        {
            ["indexQueryAlone"] = query.ToJson(),
            ["indexQueryAndRunReads"] = page.ToJson(),
            ["method"] = $"{options.RunIndexTable} PartitionKey eq 'recent', first page of {PageSize + 1} rows; then the {PageSize} run rows of {options.RunsTable}, {ReadParallelism} at a time; {samples} sequential samples",
        };
    }

    private static async Task<List<string>> FirstPageIdsAsync(TableClient index, CancellationToken cancellationToken)
    {
        await foreach (var page in index.QueryAsync<TableEntity>("PartitionKey eq 'recent'", maxPerPage: PageSize + 1, cancellationToken: cancellationToken).AsPages().ConfigureAwait(false))
        {
            return page.Values.Take(PageSize).Select(r => r.GetString("RunId")).OfType<string>().ToList();
        }

        return [];
    }
}
