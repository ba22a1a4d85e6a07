using System.Net.Http.Json;
using System.Text.Json.Serialization;
using Flow.Sdk;

namespace Flow.Samples;

/// <summary>The parameters of <see cref="DailyEtl"/>.</summary>
/// <param name="Url">Where to fetch the orders (a JSON array of <see cref="Order"/>); when null, <c>Flow__Samples__SourceUrl</c>, else the built-in sample orders.</param>
public sealed record EtlParameters(string? Url = null);

/// <summary>One order as the source API returns it.</summary>
/// <param name="Id">The order id.</param>
/// <param name="Region">The sales region.</param>
/// <param name="Amount">The amount.</param>
public sealed record Order(int Id, string Region, decimal Amount);

/// <summary>The totals of one region.</summary>
/// <param name="Region">The region.</param>
/// <param name="Orders">How many orders.</param>
/// <param name="Revenue">Their total.</param>
public sealed record RegionTotal(string Region, int Orders, decimal Revenue);

/// <summary>What the pipeline loaded.</summary>
/// <param name="Records">Orders processed.</param>
/// <param name="Regions">Regions summarized.</param>
/// <param name="Revenue">Total revenue.</param>
public sealed record EtlSummary(int Records, int Regions, decimal Revenue);

/// <summary>
/// Prefect's "daily-etl" in C#: fetch (retries after 10, 30 and 60 s with jitter), transform, load, and a summary table
/// artifact. The fetch is a registered task, so its retries are durable: a retry 60 s away costs no compute.
/// </summary>
[Flow("daily-etl", Description = "Fetch orders over HTTP, total them by region, load the totals.")]
public sealed class DailyEtl : Flow<EtlParameters, EtlSummary>
{
    /// <inheritdoc />
    public override async Task<EtlSummary> RunAsync(FlowContext context, EtlParameters input)
    {
        var url = input?.Url ?? SampleFlows.DefaultSourceUrl;
        var orders = await context.CallTaskAsync<FetchOrders, string, Order[]>(url);
        var totals = await context.RunTaskAsync("transform", orders, (_, o) => Task.FromResult(
            o.GroupBy(x => x.Region, StringComparer.Ordinal)
             .Select(g => new RegionTotal(g.Key, g.Count(), g.Sum(x => x.Amount)))
             .OrderByDescending(t => t.Revenue)
             .ToArray()));
        var summary = await context.RunTaskAsync("load", totals, (task, t) =>
        {
            task.Logger.LogLoaded(t.Length);
            return Task.FromResult(new EtlSummary(orders.Length, t.Length, t.Sum(x => x.Revenue)));
        });
        await context.CreateTableArtifactAsync("region-totals", totals, $"Revenue by region ({orders.Length} orders)");
        context.Logger.LogProcessed(summary.Records);
        return summary;
    }
}

/// <summary>Fetches the orders: three retries, after 10, 30 and 60 seconds, each delay varied by up to 20%.</summary>
[FlowTask("fetch-orders")]
public sealed class FetchOrders : FlowTask<string, Order[]>
{
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(30) };

    /// <inheritdoc />
    public override TaskOptions Options { get; } = TaskOptions.WithRetries(3, RetryDelay.Fixed(TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(60))) with
    {
        RetryJitterFactor = 0.2,
        Timeout = TimeSpan.FromMinutes(2),
    };

    /// <inheritdoc />
    public override async Task<Order[]> RunAsync(TaskContext context, string input)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (string.IsNullOrEmpty(input))
        {
            return [.. SampleFlows.Orders()];
        }

        return await Http.GetFromJsonAsync(new Uri(input), SampleJson.Default.OrderArray, context.CancellationToken).ConfigureAwait(false) ?? [];
    }
}

/// <summary>Registers the samples.</summary>
public static class SampleFlows
{
    /// <summary>
    /// The default source of <see cref="DailyEtl"/>: the environment variable <c>Flow__Samples__SourceUrl</c> (the configuration key
    /// <c>Flow:Samples:SourceUrl</c>), else empty, which means the built-in <see cref="Orders"/>.
    /// </summary>
    public static string DefaultSourceUrl { get; set; } = Environment.GetEnvironmentVariable("Flow__Samples__SourceUrl") ?? string.Empty;

    /// <summary>Adds the sample flows and tasks.</summary>
    /// <param name="registry">The registry.</param>
    public static void Register(FlowRegistry registry)
    {
        ArgumentNullException.ThrowIfNull(registry);
        registry.AddFlow<DailyEtl>().AddTask<FetchOrders>().AddFlow<ProcessBatch>();
    }

    /// <summary>The built-in sample orders: the same 120 orders every time.</summary>
    /// <returns>The orders.</returns>
    public static IReadOnlyList<Order> Orders()
    {
        string[] regions = ["north", "south", "east", "west"];
        return [.. Enumerable.Range(1, 120).Select(i => new Order(i, regions[(i * 7) % regions.Length], Math.Round(10m + (i * 37 % 500) / 3m, 2)))];
    }
}

/// <summary>Source-generated JSON for the samples.</summary>
[JsonSourceGenerationOptions(System.Text.Json.JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(Order[]))]
internal sealed partial class SampleJson : JsonSerializerContext;
