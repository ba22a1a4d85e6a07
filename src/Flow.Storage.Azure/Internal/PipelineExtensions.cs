using Azure;
using Azure.Core;
using Azure.Core.Pipeline;

namespace Flow.Storage.Azure.Internal;

internal static class PipelineExtensions
{
    /// <summary>
    /// Sends a message through the pipeline (which retries transient failures) and returns the response; a
    /// transport failure that outlived the retries becomes a <see cref="StorageRequestException"/> with status 0.
    /// </summary>
    public static async ValueTask<Response> SendRequestAsync(this HttpPipeline pipeline, HttpMessage message, string operation, CancellationToken cancellationToken)
    {
        try
        {
            await pipeline.SendAsync(message, cancellationToken).ConfigureAwait(false);
            return message.Response;
        }
        catch (RequestFailedException ex) when (!cancellationToken.IsCancellationRequested)
        {
            throw Unreachable(message, operation, ex);
        }
        catch (AggregateException ex) when (!cancellationToken.IsCancellationRequested)
        {
            throw Unreachable(message, operation, ex);
        }
    }

    private static StorageRequestException Unreachable(HttpMessage message, string operation, Exception ex)
    {
        var inner = ex is AggregateException agg && agg.InnerExceptions.Count > 0 ? agg.InnerExceptions[^1] : ex;
        var uri = message.Request.Uri;
        return new StorageRequestException(0, null, null,
            $"{operation} failed: the storage service at {uri.Scheme}://{uri.Host}:{uri.Port} could not be reached ({inner.Message}).",
            innerException: ex);
    }
}
