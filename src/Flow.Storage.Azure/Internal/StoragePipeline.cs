using System.Globalization;
using System.Text;
using Azure.Core;
using Azure.Core.Pipeline;

namespace Flow.Storage.Azure.Internal;

/// <summary>Which storage service a pipeline talks to: the services sign requests differently.</summary>
internal enum StorageService
{
    Table,
    Queue,
}

/// <summary>Builds the Azure.Core pipeline for a storage service: version/date headers, authorization, retries.</summary>
internal static class StoragePipeline
{
    /// <summary>The Table service REST version Flow speaks (the one the official Table SDKs use).</summary>
    public const string TableVersion = "2019-02-02";

    /// <summary>The Queue service REST version Flow speaks.</summary>
    public const string QueueVersion = "2021-12-02";

    private const string StorageScope = "https://storage.azure.com/.default";

    public static HttpPipeline Build(StorageConnection connection, StorageClientOptions options, StorageService service)
    {
        var version = service == StorageService.Table ? TableVersion : QueueVersion;
        var perRetry = new List<HttpPipelinePolicy> { new StorageHeadersPolicy(version) };
        if (connection.TokenCredential is not null)
        {
            perRetry.Add(new BearerTokenAuthenticationPolicy(connection.TokenCredential, StorageScope));
        }
        else if (connection.SharedKey is not null)
        {
            perRetry.Add(service == StorageService.Table
                ? new TableSharedKeyPolicy(connection.SharedKey)
                : new BlobQueueSharedKeyPolicy(connection.SharedKey));
        }
        else if (connection.SharedAccessSignature is not null)
        {
            perRetry.Add(new SasPolicy(connection.SharedAccessSignature));
        }

        return HttpPipelineBuilder.Build(options, [], perRetry.ToArray(), new ResponseClassifier());
    }
}

/// <summary>Stamps every attempt with the service version and a fresh request date.</summary>
internal sealed class StorageHeadersPolicy(string version) : HttpPipelineSynchronousPolicy
{
    public override void OnSendingRequest(HttpMessage message)
    {
        message.Request.Headers.SetValue("x-ms-version", version);
        message.Request.Headers.SetValue("x-ms-date", DateTimeOffset.UtcNow.ToString("R", CultureInfo.InvariantCulture));
    }
}

/// <summary>Appends a shared access signature to every request's query string.</summary>
internal sealed class SasPolicy(string sas) : HttpPipelineSynchronousPolicy
{
    public override void OnSendingRequest(HttpMessage message)
    {
        var query = message.Request.Uri.Query;
        if (query.Contains("sig=", StringComparison.Ordinal))
        {
            return;
        }

        message.Request.Uri.Query = string.IsNullOrEmpty(query) || query == "?" ? "?" + sas : query + "&" + sas;
    }
}

/// <summary>
/// SharedKey for the Table service: <c>VERB\nContent-MD5\nContent-Type\nDate\nCanonicalizedResource</c>, where the
/// resource is <c>/account/path</c> plus <c>?comp=</c> when present, and Date is the <c>x-ms-date</c> value.
/// </summary>
internal sealed class TableSharedKeyPolicy(StorageSharedKeyCredential credential) : HttpPipelineSynchronousPolicy
{
    public override void OnSendingRequest(HttpMessage message)
    {
        var request = message.Request;
        var uri = request.Uri.ToUri();
        var sb = new StringBuilder(256);
        sb.Append(request.Method.Method).Append('\n');
        sb.Append(Header(request, "Content-MD5")).Append('\n');
        sb.Append(Header(request, "Content-Type")).Append('\n');
        sb.Append(Header(request, "x-ms-date")).Append('\n');
        sb.Append('/').Append(credential.AccountName).Append(uri.AbsolutePath);
        foreach (var (name, value) in SharedKeyCanonicalizer.QueryParameters(uri))
        {
            if (name == "comp")
            {
                sb.Append("?comp=").Append(value);
                break;
            }
        }

        request.Headers.SetValue("Authorization", "SharedKey " + credential.AccountName + ":" + credential.ComputeSignature(sb.ToString()));
    }

    private static string Header(Request request, string name) => request.Headers.TryGetValue(name, out var v) ? v : string.Empty;
}

/// <summary>
/// SharedKey for the Blob and Queue services: the verb, eleven standard headers, the canonicalized
/// <c>x-ms-*</c> headers and the canonicalized resource with every query parameter.
/// </summary>
internal sealed class BlobQueueSharedKeyPolicy(StorageSharedKeyCredential credential) : HttpPipelineSynchronousPolicy
{
    public override void OnSendingRequest(HttpMessage message)
    {
        var request = message.Request;
        var uri = request.Uri.ToUri();
        var contentLength = request.Content is not null && request.Content.TryComputeLength(out var length) && length > 0
            ? length.ToString(CultureInfo.InvariantCulture)
            : string.Empty;

        var sb = new StringBuilder(384);
        sb.Append(request.Method.Method).Append('\n');
        sb.Append(Header(request, "Content-Encoding")).Append('\n');
        sb.Append(Header(request, "Content-Language")).Append('\n');
        sb.Append(contentLength).Append('\n');
        sb.Append(Header(request, "Content-MD5")).Append('\n');
        sb.Append(Header(request, "Content-Type")).Append('\n');
        sb.Append('\n'); // Date: x-ms-date is sent instead and appears among the canonicalized headers.
        sb.Append(Header(request, "If-Modified-Since")).Append('\n');
        sb.Append(Header(request, "If-Match")).Append('\n');
        sb.Append(Header(request, "If-None-Match")).Append('\n');
        sb.Append(Header(request, "If-Unmodified-Since")).Append('\n');
        sb.Append(Header(request, "Range")).Append('\n');

        var msHeaders = new List<(string Name, string Value)>();
        foreach (var header in request.Headers)
        {
            if (header.Name.StartsWith("x-ms-", StringComparison.OrdinalIgnoreCase))
            {
                msHeaders.Add((header.Name.ToLowerInvariant(), header.Value.Trim()));
            }
        }

        msHeaders.Sort(static (a, b) => string.CompareOrdinal(a.Name, b.Name));
        foreach (var (name, value) in msHeaders)
        {
            sb.Append(name).Append(':').Append(value).Append('\n');
        }

        sb.Append('/').Append(credential.AccountName).Append(uri.AbsolutePath);
        var parameters = SharedKeyCanonicalizer.QueryParameters(uri)
            .GroupBy(p => p.Name, StringComparer.Ordinal)
            .OrderBy(g => g.Key, StringComparer.Ordinal);
        foreach (var group in parameters)
        {
            var values = group.Select(p => p.Value).Order(StringComparer.Ordinal);
            sb.Append('\n').Append(group.Key).Append(':').Append(string.Join(',', values));
        }

        request.Headers.SetValue("Authorization", "SharedKey " + credential.AccountName + ":" + credential.ComputeSignature(sb.ToString()));
    }

    private static string Header(Request request, string name) => request.Headers.TryGetValue(name, out var v) ? v : string.Empty;
}

internal static class SharedKeyCanonicalizer
{
    /// <summary>The query parameters of a URI: names lower-cased, names and values URL-decoded.</summary>
    public static IEnumerable<(string Name, string Value)> QueryParameters(Uri uri)
    {
        var query = uri.Query;
        if (query.Length <= 1)
        {
            yield break;
        }

        foreach (var pair in query[1..].Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var eq = pair.IndexOf('=', StringComparison.Ordinal);
            var name = eq < 0 ? pair : pair[..eq];
            var value = eq < 0 ? string.Empty : pair[(eq + 1)..];
            yield return (Uri.UnescapeDataString(name).ToLowerInvariant(), Uri.UnescapeDataString(value));
        }
    }
}
