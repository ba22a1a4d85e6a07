using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Flow.TestSupport;

namespace Flow.EndToEnd.Tests;

/// <summary>The automation kill test on Azure Storage (Azurite): tables and queues of its own.</summary>
public sealed class AzureAutomationSigkillTests(AzuriteFixture azurite, ITestOutputHelper output) : AutomationSigkillTests(output), IClassFixture<AzuriteFixture>
{
    private readonly string _prefix = "ak" + UniqueNames.Suffix()[..8].ToLowerInvariant().Replace("_", "", StringComparison.Ordinal);

    protected override Dictionary<string, string?> BackendSettings() => new()
    {
        ["AzureWebJobsStorage"] = azurite.ConnectionString,
        ["Flow__Storage__Azure__TablePrefix"] = "K" + _prefix,
        ["Flow__Storage__Azure__QueuePrefix"] = _prefix + "-",
    };
}

/// <summary>The automation kill test on PostgreSQL: a schema of its own.</summary>
public sealed class PostgresAutomationSigkillTests(PostgresFixture postgres, ITestOutputHelper output) : AutomationSigkillTests(output), IClassFixture<PostgresFixture>
{
    private readonly string _schema = UniqueNames.Schema("autokill");

    protected override Dictionary<string, string?> BackendSettings() => new()
    {
        ["Flow__Storage__Backend"] = "Postgres",
        ["ConnectionStrings__Flow"] = postgres.ConnectionString,
        ["Flow__Storage__Postgres__Schema"] = _schema,
    };
}

/// <summary>
/// Issue 16's kill test with the real app process: a run's Completed state is committed, the automation watching it fires,
/// and the app is killed with SIGKILL while the action's webhook is on the wire. Started again, the app sends the webhook
/// again with the same idempotency key: the receiver applies it once.
/// </summary>
public abstract class AutomationSigkillTests(ITestOutputHelper output)
{
    private const string ApiKey = "e2e-api-key-0123456789abcdef";
    private const string Secret = "e2e-webhook-secret-0123456789";

    /// <summary>The app's storage settings (environment variables).</summary>
    protected abstract Dictionary<string, string?> BackendSettings();

    [Fact]
    public async Task AutomationAction_AppSigkilledWhileItsWebhookIsInFlight_IsSentAgainAfterRestart_AndHasItsEffectOnce()
    {
        using var deadline = TestDeadline.Create(TimeSpan.FromSeconds(150));
        await using var receiver = await WebhookReceiver.StartAsync(Encoding.UTF8.GetBytes(Secret), failFirst: 0, deadline.Token, holdFirst: true);
        var port = FreePorts.Next();
        var settings = BackendSettings();
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}/api/"), Timeout = TimeSpan.FromSeconds(30) };
        http.DefaultRequestHeaders.Add("X-Flow-Api-Key", ApiKey);
        var app = StartApp(port, settings);
        try
        {
            await AppProcess.WaitHealthyAsync(http, app, deadline);
            await PutAsync(http, "automations/done-hook", new
            {
                trigger = new { expect = new[] { "flow-run.Completed" }, match = new Dictionary<string, string> { ["deployment"] = "process-batch/auto" } },
                actions = new[] { new { type = "call-webhook", url = receiver.Url, secret = "ops", body = new { run = "{{ event.resource.id }}" } } },
            }, deadline);
            await PutAsync(http, "deployments/process-batch/auto", new { parameters = new { items = 2, delayMs = 10 } }, deadline);
            string runId;
            using (var trigger = await http.PostAsync("deployments/process-batch/auto/runs", null, deadline.Token))
            {
                runId = (await trigger.Content.ReadFromJsonAsync<JsonElement>(deadline.Token)).GetProperty("id").GetString()!;
            }

            // The run's Completed state is committed, the automation fired and its webhook is on the wire, held by the
            // receiver: the app dies there, between the state commit and the action's effect.
            await receiver.FirstHeld.WaitAsync(deadline.Token);
            Assert.Equal("Completed", (await GetAsync(http, "runs/" + runId, deadline.Token)).GetProperty("state").GetString());
            Assert.True(ProcessRunner.SendSigkill(app.Id));
            Assert.Equal(137, await app.WaitForExitAsync(deadline));
            await app.DisposeAsync();
            Assert.Empty(receiver.Applied);

            app = StartApp(port, settings);
            await AppProcess.WaitHealthyAsync(http, app, deadline);
            await deadline.PollUntilAsync(async ct =>
            {
                var firings = await GetAsync(http, "automations/done-hook/firings", ct);
                return firings.GetArrayLength() == 1 && firings[0].GetProperty("status").GetString() == "succeeded";
            }, "the firing to succeed after the restart");

            // Sent at least twice (the held delivery died with the app), applied once: every delivery carried the same key.
            var (key, body) = Assert.Single(receiver.Applied);
            Assert.True(receiver.Deliveries.Count >= 2, $"{receiver.Deliveries.Count} deliveries");
            Assert.All(receiver.Deliveries, d => Assert.Equal(key, d.IdempotencyKey));
            Assert.Contains($"flow-run/{runId}", body, StringComparison.Ordinal);
            var firing = (await GetAsync(http, "automations/done-hook/firings", deadline.Token))[0];
            Assert.Equal(firing.GetProperty("id").GetString() + ".a0", key);
        }
        finally
        {
            await app.DisposeAsync();
        }
    }

    private ProcessRunner StartApp(int port, Dictionary<string, string?> backend)
    {
        var environment = new Dictionary<string, string?>(backend)
        {
            ["FUNCTIONS_CUSTOMHANDLER_PORT"] = null,
            ["Flow__App__ApiKey"] = ApiKey,
            ["Flow__App__FlowAssemblies__0"] = RepoPaths.SamplesAssembly,
            ["Flow__Secrets__ops"] = Secret,
            ["Flow__Worker__MaxPollInterval"] = "00:00:00.200",
        };
        return ProcessRunner.Start(RepoPaths.DotNetHost, [RepoPaths.FunctionsAssembly, "--urls", $"http://127.0.0.1:{port}"], new ProcessRunnerOptions
        {
            WorkingDirectory = RepoPaths.Root,
            OnOutputLine = output.WriteLine,
            Environment = environment,
        });
    }

    private static async Task PutAsync(HttpClient http, string path, object body, TestDeadline deadline)
    {
        using var put = await http.PutAsJsonAsync(path, body, deadline.Token);
        Assert.True(put.IsSuccessStatusCode, $"PUT {path}: {(int)put.StatusCode} {await put.Content.ReadAsStringAsync(deadline.Token)}");
    }

    private static async Task<JsonElement> GetAsync(HttpClient http, string path, CancellationToken ct)
    {
        using var response = await http.GetAsync(path, ct);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.Content.ReadFromJsonAsync<JsonElement>(ct);
    }
}
