using System.Globalization;
using Flow.Engine.Storage;
using Flow.TestSupport;

namespace Flow.Storage.Azure.Tests;

/// <summary>
/// Flow's work queue (<see cref="AzureWorkQueue"/>, on the Azure .NET SDK) and the official @azure/storage-queue JS SDK exchange
/// messages both ways, in the base64 encoding the Azure Functions queue trigger expects, so external systems can send Flow run
/// requests and read what Flow sends.
/// </summary>
public sealed class QueueCompatibilityTests(AzuriteFixture azurite) : AzureFlowTestBase(azurite)
{
    private static readonly string[] Texts =
    [
        """{"kind":"run","runId":"etl/daily","reason":"special <&> \"quotes\" 'single' \n newline é 日本語 🚀"}""",
        """{"kind":"run","runId":"run-2"}""",
        """{"kind":"run","runId":"plain"}""",
    ];

    [Fact]
    public async Task MessagesSentByFlow_AreReceivedByTheOfficialSdk_AsTheSameText()
    {
        await Queue.EnsureQueueAsync("compat-out", Ct);
        var items = Texts.Select(t => AzureWorkQueue.Parse(t)!).ToList();
        foreach (var item in items)
        {
            await Queue.EnqueueAsync("compat-out", item, TimeSpan.Zero, Ct);
        }

        var queueName = Queue.GetQueueClient("compat-out").Name;
        var answer = await AzureSdkPeer.RunAsync("queue-receive", Azurite.ConnectionString, queueName, [Texts.Length.ToString(CultureInfo.InvariantCulture)], Ct);
        var received = answer.GetProperty("messages").EnumerateArray().Select(m => m.GetProperty("text").GetString()!).ToList();
        Assert.Equal(items.Select(i => i.RunId).Order(StringComparer.Ordinal), received.Select(t => AzureWorkQueue.Parse(t)!.RunId).Order(StringComparer.Ordinal));
        Assert.Contains(received, t => AzureWorkQueue.Parse(t)!.Reason == items[0].Reason);
        Assert.Equal(0, await Queue.GetApproximateCountAsync("compat-out", Ct));
    }

    [Fact]
    public async Task MessagesSentByTheOfficialSdkInBase64_AreReceivedByFlow_AsTheSameText()
    {
        await Queue.EnsureQueueAsync("compat-in", Ct);
        await AzureSdkPeer.RunAsync("queue-send", Azurite.ConnectionString, Queue.GetQueueClient("compat-in").Name, Texts, Ct);

        var received = new List<LeasedWorkItem>();
        await Deadline.PollUntilAsync(async ct =>
        {
            received.AddRange(await Queue.DequeueAsync("compat-in", 32, TimeSpan.FromSeconds(30), ct));
            return received.Count >= Texts.Length;
        }, "all three messages sent by the JS SDK");

        Assert.Equal(Texts.Order(StringComparer.Ordinal), received.Select(m => m.RawBody).Order(StringComparer.Ordinal));
        Assert.All(received, m => Assert.NotNull(m.Item));
        Assert.Equal(Texts.Select(t => AzureWorkQueue.Parse(t)!.RunId).Order(StringComparer.Ordinal), received.Select(m => m.Item!.RunId).Order(StringComparer.Ordinal));
        Assert.All(received, m => Assert.Equal(1, m.DequeueCount));
    }

    [Fact]
    public async Task RawTextSentByTheOfficialSdk_IsDeliveredToFlowUnchanged()
    {
        await Queue.EnsureQueueAsync("compat-raw", Ct);
        const string raw = "{not base64: a raw JSON-ish text!}";
        await AzureSdkPeer.RunAsync("queue-send-raw", Azurite.ConnectionString, Queue.GetQueueClient("compat-raw").Name, [raw], Ct);

        LeasedWorkItem? message = null;
        await Deadline.PollUntilAsync(async ct => (message = (await Queue.DequeueAsync("compat-raw", 1, TimeSpan.FromSeconds(30), ct)).SingleOrDefault()) is not null, "the raw message");
        Assert.Equal(raw, message!.RawBody);
        Assert.Null(message.Item);
    }

    public override async ValueTask DisposeAsync()
    {
        foreach (var name in new[] { "compat-out", "compat-in", "compat-raw" })
        {
            await Queue.GetQueueClient(name).DeleteIfExistsAsync(CancellationToken.None);
        }

        await base.DisposeAsync();
    }
}
