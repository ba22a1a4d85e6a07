using System.Net;
using System.Text;
using Azure.Core.Pipeline;

namespace Flow.Storage.Azure.Tests;

/// <summary>An in-process HTTP handler that records requests and answers them with a canned response (no network).</summary>
internal sealed class CapturingHandler(Func<HttpRequestMessage, HttpResponseMessage>? respond = null) : HttpMessageHandler
{
    public List<(HttpRequestMessage Request, byte[] Body)> Requests { get; } = [];

    public static StorageClientOptions Options(CapturingHandler handler, QueueMessageEncoding encoding = QueueMessageEncoding.Base64) => new()
    {
        Transport = new HttpClientTransport(new HttpClient(handler)),
        MessageEncoding = encoding,
    };

    public static HttpResponseMessage Xml(HttpStatusCode status, string xml) =>
        new(status) { Content = new StringContent(xml, Encoding.UTF8, "application/xml") };

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var body = request.Content is null ? [] : await request.Content.ReadAsByteArrayAsync(cancellationToken);
        Requests.Add((request, body));
        return respond?.Invoke(request) ?? new HttpResponseMessage(HttpStatusCode.NoContent);
    }
}
