using Flow.TestSupport;

namespace Flow.Storage.Azure.Tests;

/// <summary>
/// Flow's Queue client and the official @azure/storage-queue JS SDK exchange messages both ways, in the base64
/// encoding the Azure Functions queue trigger expects, so external systems can send Flow run requests.
/// </summary>
public sealed class QueueCompatibilityTests(AzuriteFixture azurite)
{
    private static readonly string[] Texts =
    [
        """{"deployment":"etl/daily","parameters":{"date":"2026-11-21"}}""",
        "special <&> \"quotes\" 'single' \n newline é 日本語 🚀",
        "plain",
    ];

    private QueueClient NewQueue() =>
        new QueueServiceClient(StorageConnection.Parse(azurite.ConnectionString, "test")).GetQueueClient(UniqueNames.Queue());

    [Fact]
    public async Task MessagesSentByFlow_AreReceivedByTheOfficialSdk_AsTheSameText()
    {
        using var deadline = TestDeadline.Create(TimeSpan.FromSeconds(60));
        var queue = NewQueue();
        await queue.CreateIfNotExistsAsync(cancellationToken: deadline.Token);
        foreach (var text in Texts)
        {
            await queue.SendMessageAsync(text, cancellationToken: deadline.Token);
        }

        var answer = await AzureSdkPeer.RunAsync("queue-receive", azurite.ConnectionString, queue.Name, [Texts.Length.ToString(System.Globalization.CultureInfo.InvariantCulture)], deadline.Token);
        var received = answer.GetProperty("messages").EnumerateArray().Select(m => m.GetProperty("text").GetString()).ToList();
        Assert.Equal(Texts.Order(StringComparer.Ordinal), received.Order(StringComparer.Ordinal));
        Assert.Equal(0, (await queue.GetPropertiesAsync(deadline.Token)).ApproximateMessagesCount);
    }

    [Fact]
    public async Task MessagesSentByTheOfficialSdkInBase64_AreReceivedByFlow_AsTheSameText()
    {
        using var deadline = TestDeadline.Create(TimeSpan.FromSeconds(60));
        var queue = NewQueue();
        await AzureSdkPeer.RunAsync("queue-send", azurite.ConnectionString, queue.Name, Texts, deadline.Token);

        var received = new List<QueueMessage>();
        await deadline.PollUntilAsync(async ct =>
        {
            received.AddRange(await queue.ReceiveMessagesAsync(32, TimeSpan.FromSeconds(30), ct));
            return received.Count >= Texts.Length;
        }, "all three messages sent by the JS SDK");

        Assert.Equal(Texts.Order(StringComparer.Ordinal), received.Select(m => m.MessageText).Order(StringComparer.Ordinal));
        Assert.All(received, m => Assert.True(m.WasBase64Encoded));
        Assert.All(received, m => Assert.Equal(1, m.DequeueCount));
    }

    [Fact]
    public async Task RawTextSentByTheOfficialSdk_IsDeliveredToFlowUnchanged_AndMarkedAsNotBase64()
    {
        using var deadline = TestDeadline.Create(TimeSpan.FromSeconds(60));
        var queue = NewQueue();
        const string raw = "{not base64: a raw JSON-ish text!}";
        await AzureSdkPeer.RunAsync("queue-send-raw", azurite.ConnectionString, queue.Name, [raw], deadline.Token);

        QueueMessage? message = null;
        await deadline.PollUntilAsync(async ct => (message = await queue.ReceiveMessageAsync(TimeSpan.FromSeconds(30), ct)) is not null, "the raw message");
        Assert.False(message!.WasBase64Encoded);
        Assert.Equal(raw, message.MessageText);
    }
}
