using System.Net;

namespace Flow.TestSupport.Tests;

public sealed class AzuriteFixtureTests(AzuriteFixture azurite)
{
    [Fact]
    public async Task Azurite_IsRunning_OnLoopbackPortsThatAcceptConnections()
    {
        using var deadline = TestDeadline.Create();

        Assert.True(azurite.IsRunning);
        Assert.Equal(3, new[] { azurite.BlobPort, azurite.QueuePort, azurite.TablePort }.Distinct().Count());
        Assert.True(await FreePorts.AcceptsConnectionsAsync(azurite.QueuePort, deadline.Token));
        Assert.True(await FreePorts.AcceptsConnectionsAsync(azurite.TablePort, deadline.Token));
        Assert.Equal(new Uri($"http://127.0.0.1:{azurite.TablePort}/devstoreaccount1"), azurite.TableEndpoint);
        Assert.Contains($"QueueEndpoint=http://127.0.0.1:{azurite.QueuePort}/devstoreaccount1;", azurite.ConnectionString, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ConnectionString_WorksWithTheOfficialJavaScriptSdks()
    {
        using var deadline = TestDeadline.Create(TimeSpan.FromSeconds(60));
        var table = UniqueNames.Table();
        var queue = UniqueNames.Queue();

        // The repository's pinned @azure/data-tables and @azure/storage-queue prove the connection string is complete.
        const string script = """
            const { TableClient } = require('@azure/data-tables');
            const { QueueClient } = require('@azure/storage-queue');
            const [cs, table, queue] = process.argv.slice(1);
            (async () => {
              const t = TableClient.fromConnectionString(cs, table, { allowInsecureConnection: true });
              await t.createTable();
              await t.createEntity({ partitionKey: 'p', rowKey: 'r', value: 42 });
              const e = await t.getEntity('p', 'r');
              const q = new QueueClient(cs, queue);
              await q.create();
              await q.sendMessage('hello');
              const m = await q.receiveMessages();
              console.log(`entity=${e.value} message=${m.receivedMessageItems[0].messageText}`);
            })().catch(e => { console.error(e); process.exit(1); });
            """;
        var result = await ProcessRunner.RunAsync(
            NodeTools.NodePath, ["-e", script, azurite.ConnectionString, table, queue],
            new ProcessRunnerOptions { WorkingDirectory = RepoPaths.Root }, deadline.Token);

        Assert.True(result.ExitCode == 0, result.Output);
        Assert.Contains("entity=42 message=hello", result.StandardOutput);
    }

    [Fact]
    public async Task TableEndpoint_AnswersHttp_AsAzurite()
    {
        using var deadline = TestDeadline.Create();
        using var http = new HttpClient();

        // An unsigned request is refused by Azurite's authentication, which proves the endpoint is Azurite's table service.
        using var response = await http.GetAsync(new Uri(azurite.TableEndpoint + "/Tables"), deadline.Token);

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
    }
}
