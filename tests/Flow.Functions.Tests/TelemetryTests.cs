using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Net;
using Flow.Engine.Diagnostics;
using Flow.Sdk;
using Flow.TestSupport;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry.Trace;

namespace Flow.Functions.Tests;

/// <summary>
/// OpenTelemetry end to end: the app's own wiring (switched on by OTEL_EXPORTER_OTLP_ENDPOINT) plus an in-memory exporter.
/// A run triggered over HTTP is one trace from the request to each task attempt, and Flow's metrics move.
/// </summary>
public sealed class TelemetryTests(AzuriteFixture azurite)
{
    private const string TraceId = "4bf92f3577b34da6a3ce929d0e0e4736";

    private static void Register(FlowRegistry registry) =>
        registry.AddFlow<GreetInput, string>("traced", async (ctx, input) =>
        {
            var first = await ctx.RunTaskAsync(
                "flaky",
                input.Name,
                (task, name) => task.Attempt == 1 ? throw new InvalidOperationException("first attempt fails") : Task.FromResult(name.ToUpperInvariant()),
                new TaskOptions { Retries = 1 });
            return await ctx.RunTaskAsync("finish", first, (_, text) => Task.FromResult(text + "!"));
        });

    [Fact]
    public async Task TriggeredRun_IsOneTraceFromTheRequestToEachTaskAttempt_AndMetricsMove()
    {
        using var deadline = TestDeadline.Create(TimeSpan.FromSeconds(90));
        var spans = new LockedList();
        var measurements = new ConcurrentDictionary<string, double>();
        using var meters = new MeterListener();
        meters.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == FlowTelemetry.Name)
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        meters.SetMeasurementEventCallback<long>((instrument, value, tags, _) => Record(instrument, value, tags, measurements));
        meters.SetMeasurementEventCallback<double>((instrument, value, tags, _) => Record(instrument, value, tags, measurements));
        meters.Start();

        var settings = new Dictionary<string, string?>
        {
            // Switches the app's OpenTelemetry wiring on; the exporter's sends to this closed port fail quietly.
            ["OTEL_EXPORTER_OTLP_ENDPOINT"] = "http://127.0.0.1:9",
            ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf",
        };
        string runId;
        await using (var app = await TestApp.StartAsync(azurite, deadline, settings, Register, builder => builder.Services.ConfigureOpenTelemetryTracerProvider(t => t.AddInMemoryExporter(spans))))
        {
            await app.SendAsync(HttpMethod.Put, "/api/deployments/traced/api", new { parameters = new { name = "ada" } }, deadline);
            using var request = new HttpRequestMessage(HttpMethod.Post, "/api/deployments/traced/api/runs") { Content = new StringContent("{}", System.Text.Encoding.UTF8, "application/json") };
            request.Headers.Add("traceparent", $"00-{TraceId}-00f067aa0ba902b7-01");
            using var response = await app.Client.SendAsync(request, deadline.Token);
            Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
            runId = System.Text.Json.JsonDocument.Parse(await response.Content.ReadAsStringAsync(deadline.Token)).RootElement.GetProperty("id").GetString()!;
            var run = await app.WaitForRunAsync(runId, r => r.GetProperty("state").GetString() == "Completed", deadline, "the traced run to complete");
            Assert.Equal("ADA!", run.GetProperty("result").GetString());

            // Spans end when their episode's processing returns, just after the run is visible as Completed.
            await deadline.PollUntilAsync(_ => Task.FromResult(Snapshot(spans).Count(s => s.OperationName == "flow.task") >= 3), "the task spans to be exported");
        }

        var all = Snapshot(spans);
        var requestSpan = Assert.Single(all, s => s.Kind == ActivityKind.Server && s.Tags.Any(t => t.Key == "url.path" && t.Value == "/api/deployments/traced/api/runs"));
        Assert.Equal(TraceId, requestSpan.TraceId.ToHexString());

        var episodes = all.Where(s => s.OperationName == "flow.episode" && (string?)s.GetTagItem("flow.run.id") == runId).ToList();
        Assert.NotEmpty(episodes);
        Assert.All(episodes, e => Assert.Equal(TraceId, e.TraceId.ToHexString()));
        Assert.Contains(episodes, e => e.ParentSpanId == requestSpan.SpanId);
        Assert.All(episodes, e => Assert.Equal("traced", e.GetTagItem("flow.name")));
        Assert.All(episodes, e => Assert.Equal("traced/api", e.GetTagItem("flow.deployment")));
        Assert.Contains(episodes, e => (string?)e.GetTagItem("flow.run.state") == "Completed");

        var tasks = all.Where(s => s.OperationName == "flow.task" && (string?)s.GetTagItem("flow.run.id") == runId).ToList();
        var attempts = tasks.Select(t => ((string?)t.GetTagItem("flow.task.key"), (int?)t.GetTagItem("flow.task.attempt"), (string?)t.GetTagItem("flow.outcome"))).Order().ToList();
        Assert.Equal([("finish", 1, "Completed"), ("flaky", 1, "Failed"), ("flaky", 2, "Completed")], attempts);
        Assert.All(tasks, t => Assert.Equal(TraceId, t.TraceId.ToHexString()));
        Assert.All(tasks, t => Assert.Contains(episodes, e => e.SpanId == t.ParentSpanId));

        Assert.True(measurements.GetValueOrDefault("flow.runs.started|traced") >= 1, "flow.runs.started did not move");
        Assert.True(measurements.GetValueOrDefault("flow.runs.finished|traced|Completed") >= 1, "flow.runs.finished did not move");
        Assert.True(measurements.GetValueOrDefault("flow.task.duration|traced#count") >= 3, "flow.task.duration has fewer than 3 attempts");
        Assert.True(measurements.ContainsKey("flow.run.queue_wait|traced#count"), "flow.run.queue_wait was not recorded");
        Assert.True(measurements.GetValueOrDefault("flow.episodes|traced") >= 1, "flow.episodes did not move");
        Assert.True(measurements.ContainsKey("flow.run.duration|traced|Completed#count"), "flow.run.duration was not recorded");
    }

    private static List<Activity> Snapshot(LockedList spans) => spans.Snapshot();

    /// <summary>The exporter adds spans from whichever thread ends them; the test reads a copy.</summary>
    private sealed class LockedList : ICollection<Activity>
    {
        private readonly List<Activity> _items = [];

        public int Count
        {
            get
            {
                lock (_items)
                {
                    return _items.Count;
                }
            }
        }

        public bool IsReadOnly => false;

        public List<Activity> Snapshot()
        {
            lock (_items)
            {
                return [.. _items];
            }
        }

        public void Add(Activity item)
        {
            lock (_items)
            {
                _items.Add(item);
            }
        }

        public void Clear()
        {
            lock (_items)
            {
                _items.Clear();
            }
        }

        public bool Contains(Activity item) => Snapshot().Contains(item);

        public void CopyTo(Activity[] array, int arrayIndex) => Snapshot().CopyTo(array, arrayIndex);

        public bool Remove(Activity item)
        {
            lock (_items)
            {
                return _items.Remove(item);
            }
        }

        public IEnumerator<Activity> GetEnumerator() => Snapshot().GetEnumerator();

        System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
    }

    private static void Record(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags, ConcurrentDictionary<string, double> into)
    {
        string? flow = null, state = null;
        foreach (var tag in tags)
        {
            flow = tag.Key == "flow.name" ? tag.Value as string : flow;
            state = tag.Key == "flow.run.state" ? tag.Value as string : state;
        }

        var key = instrument.Name + "|" + flow + (state is null ? "" : "|" + state);
        if (instrument is Histogram<double> or Histogram<long>)
        {
            into.AddOrUpdate(key + "#count", 1, (_, n) => n + 1);
        }
        else
        {
            into.AddOrUpdate(key, value, (_, n) => n + value);
        }
    }
}
