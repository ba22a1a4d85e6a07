using System.Text;
using Flow.TestSupport;

namespace Flow.Storage.Azure.Tests;

/// <summary>The queue-message action's sender on Azurite.</summary>
public sealed class AzureAutomationQueueTests(AzuriteFixture azurite)
{
    [Fact]
    public async Task SendAsync_NewQueue_CreatesItAndPutsTheBodyBase64Encoded()
    {
        using var deadline = TestDeadline.Create(TimeSpan.FromSeconds(30));
        var queues = AzureSdkClients.CreateQueueService(StorageConnection.Parse(azurite.ConnectionString, "test"));
        var name = "auto-" + UniqueNames.Suffix().ToLowerInvariant().Replace("_", "", StringComparison.Ordinal);
        var sender = new AzureAutomationQueue(queues);
        try
        {
            var first = await sender.SendAsync(name, """{"alert":"ü"}""", deadline.Token);
            var second = await sender.SendAsync(name, "{}", deadline.Token);

            var received = (await queues.GetQueueClient(name).ReceiveMessagesAsync(10, cancellationToken: deadline.Token)).Value;
            Assert.Equal(new[] { first, second }.Order(StringComparer.Ordinal), received.Select(m => m.MessageId).Order(StringComparer.Ordinal));
            Assert.Contains("""{"alert":"ü"}""", received.Select(m => Encoding.UTF8.GetString(Convert.FromBase64String(m.Body.ToString()))));
            await Assert.ThrowsAnyAsync<ArgumentException>(() => sender.SendAsync("Bad_Name", "{}", deadline.Token));
        }
        finally
        {
            await queues.GetQueueClient(name).DeleteIfExistsAsync(CancellationToken.None);
        }
    }
}
