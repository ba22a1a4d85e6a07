namespace Flow.ControlPlane.Automations;

/// <summary>Where queue-message actions put their messages: Azure Storage queues, registered by the Azure backend only.</summary>
public interface IAutomationQueue
{
    /// <summary>Puts a message on a queue (created if missing).</summary>
    /// <param name="queue">The queue name.</param>
    /// <param name="body">The message text.</param>
    /// <param name="cancellationToken">Cancels the operation.</param>
    /// <returns>The message id the queue gave.</returns>
    Task<string> SendAsync(string queue, string body, CancellationToken cancellationToken);
}
