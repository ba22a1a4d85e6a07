using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Flow.Client;
using Flow.Sdk;
using Flow.TestSupport;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Flow.Functions.Tests;

/// <summary>
/// The Flow app started in this process on a real loopback port against the assembly's Azurite, with its own table and queue
/// prefixes, an API key and the test flows. Requests go over real HTTP.
/// </summary>
internal sealed class TestApp : IAsyncDisposable
{
    public const string ApiKey = "test-api-key-0123456789";

    private TestApp(WebApplication app, HttpClient client, string queuePrefix, string tablePrefix)
    {
        App = app;
        Client = client;
        QueuePrefix = queuePrefix;
        TablePrefix = tablePrefix;
    }

    public WebApplication App { get; }

    public HttpClient Client { get; }

    public string QueuePrefix { get; }

    public string TablePrefix { get; }

    public Uri BaseAddress => Client.BaseAddress!;

    /// <summary>The typed client over <see cref="Client"/> (which already sends the API key).</summary>
    public FlowClient NewClient() => new(Client);

    public T Service<T>()
        where T : notnull => App.Services.GetRequiredService<T>();

    public static async Task<TestApp> StartAsync(AzuriteFixture azurite, CancellationToken cancellationToken, Dictionary<string, string?>? settings = null, Action<FlowRegistry>? flows = null, Action<WebApplicationBuilder>? configure = null)
    {
        var suffix = UniqueNames.Suffix();
        var tablePrefix = "T" + suffix[..Math.Min(suffix.Length, 10)].Replace("-", "", StringComparison.Ordinal);
        var queuePrefix = "q" + suffix[..Math.Min(suffix.Length, 10)].ToLowerInvariant().Replace("_", "", StringComparison.Ordinal) + "-";
        var config = new Dictionary<string, string?>
        {
            ["AzureWebJobsStorage"] = azurite.ConnectionString,
            ["Flow:Storage:Azure:TablePrefix"] = tablePrefix,
            ["Flow:Storage:Azure:QueuePrefix"] = queuePrefix,
            ["Flow:App:ApiKey"] = ApiKey,
            ["Flow:App:SchedulerTickInterval"] = "00:00:00.500",
            ["Flow:App:RunRequestMaxPollInterval"] = "00:00:00.200",
            ["Flow:Worker:MaxPollInterval"] = "00:00:00.100",
            ["FUNCTIONS_CUSTOMHANDLER_PORT"] = null,
        };
        foreach (var (k, v) in settings ?? [])
        {
            config[k] = v;
        }

        var app = FlowApp.Build(["--urls", "http://127.0.0.1:0"], flows ?? TestFlows.Register, builder =>
        {
            builder.Configuration.AddInMemoryCollection(config);
            configure?.Invoke(builder);
        });
        await app.StartAsync(cancellationToken);
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        var client = new HttpClient { BaseAddress = new Uri(address), Timeout = TimeSpan.FromSeconds(30) };
        client.DefaultRequestHeaders.Add("X-Flow-Api-Key", ApiKey);
        var started = new TestApp(app, client, queuePrefix, tablePrefix);
        await started.WaitReadyAsync(cancellationToken);
        return started;
    }

    public async Task WaitReadyAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            using var response = await Client.GetAsync("/api/health", cancellationToken);
            var health = await response.Content.ReadFromJsonAsync<JsonElement>(cancellationToken);
            if (health.GetProperty("status").GetString() == "healthy")
            {
                return;
            }

            await Task.Delay(50, cancellationToken);
        }
    }

    public async Task<(HttpResponseMessage Response, JsonElement Body)> SendAsync(HttpMethod method, string path, object? body, CancellationToken cancellationToken, string? rawBody = null, string contentType = "application/json")
    {
        using var request = new HttpRequestMessage(method, path);
        if (rawBody is not null)
        {
            request.Content = new StringContent(rawBody, Encoding.UTF8, contentType);
        }
        else if (body is not null)
        {
            request.Content = JsonContent.Create(body, options: new JsonSerializerOptions(JsonSerializerDefaults.Web));
        }

        var response = await Client.SendAsync(request, cancellationToken);
        var text = await response.Content.ReadAsStringAsync(cancellationToken);
        var json = text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone();
        return (response, json);
    }

    public async Task<JsonElement> WaitForRunAsync(string runId, Func<JsonElement, bool> condition, TestDeadline deadline, string what)
    {
        JsonElement last = default;
        await deadline.PollUntilAsync(async ct =>
        {
            var (response, body) = await SendAsync(HttpMethod.Get, $"/api/runs/{runId}", null, ct);
            using (response)
            {
                last = body;
                return response.IsSuccessStatusCode && condition(body);
            }
        }, what);
        return last;
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await App.StopAsync(stop.Token);
        await App.DisposeAsync();
    }
}

/// <summary>The flows the API tests run.</summary>
internal static class TestFlows
{
    public static void Register(FlowRegistry registry)
    {
        registry
            .AddFlow<GreetInput, string>("greet", async (ctx, input) =>
            {
                var text = await ctx.RunTaskAsync("compose", input.Name, (_, n) => Task.FromResult($"Hello, {n}{new string('!', input.Excitement)}"));
                await ctx.CreateTableArtifactAsync("greeting", [new { text }]);
                ctx.Logger.LogWarning("greeted {Name}", input.Name);
                return text;
            })
            .AddFlow<GreetInput, string>("wait-for-approval", async (ctx, input) =>
            {
                var approver = await ctx.WaitForEventAsync<string>("approve", TimeSpan.FromMinutes(10));
                return $"{input.Name} approved by {approver}";
            })
            .AddFlow<GreetInput, string>("needs-review", async (ctx, input) =>
            {
                var review = await ctx.PauseAsync<Review>(TimeSpan.FromMinutes(10));
                return $"{input.Name}: {(review.Approved ? "approved" : "rejected")} by {review.By}";
            })
            .AddFlow<GreetInput, string>("slow", async (ctx, input) =>
            {
                await ctx.SleepAsync(TimeSpan.FromSeconds(input.Excitement));
                return input.Name;
            });
    }
}

/// <summary>What a reviewer sends to resume the needs-review flow.</summary>
internal sealed record Review(string By, bool Approved);

/// <summary>The input of the test flows.</summary>
internal sealed record GreetInput(string Name, int Excitement = 0);
