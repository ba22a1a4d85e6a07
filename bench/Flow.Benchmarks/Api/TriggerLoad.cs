using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;

namespace Flow.Benchmarks.Api;

/// <summary>
/// Open-loop load: POSTs sent on a fixed timetable (request i at start + i / rate), each without waiting for earlier
/// answers, so a slow answer cannot hold back later requests (no coordinated omission). Latency runs from the time a
/// request was due to be sent to its answer; the time from the actual send is kept too.
/// </summary>
internal sealed class TriggerLoad(HttpClient http, string path, string body)
{
    private readonly Latencies _fromDue = new();
    private readonly Latencies _fromSend = new();
    private readonly Latencies _sendLag = new();
    private readonly ConcurrentDictionary<string, int> _errors = new(StringComparer.Ordinal);
    private readonly ConcurrentBag<string> _runIds = [];
    private int _accepted;

    /// <summary>Ids of the runs the accepted requests created.</summary>
    public IReadOnlyCollection<string> RunIds => _runIds;

    public int Accepted => Volatile.Read(ref _accepted);

    /// <summary>Sends <paramref name="count"/> requests one after another (not measured), to warm the app's request path.</summary>
    public async Task WarmUpAsync(int count, CancellationToken cancellationToken)
    {
        for (var i = 0; i < count; i++)
        {
            using var response = await PostAsync(cancellationToken).ConfigureAwait(false);
            if (response.StatusCode != HttpStatusCode.Accepted)
            {
                throw new InvalidOperationException($"POST {path} answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false)}");
            }
        }
    }

    /// <summary>Sends at <paramref name="rate"/> per second for <paramref name="duration"/>, then waits for every answer.</summary>
    public async Task<JsonObject> RunAsync(double rate, TimeSpan duration, CancellationToken cancellationToken)
    {
        var total = (int)Math.Round(rate * duration.TotalSeconds);
        var inFlight = new List<Task>(total);
        var clock = Stopwatch.StartNew();
        for (var i = 0; i < total; i++)
        {
            var due = TimeSpan.FromSeconds(i / rate);
            var wait = due - clock.Elapsed;
            if (wait > TimeSpan.FromMilliseconds(1))
            {
                await Task.Delay(wait, cancellationToken).ConfigureAwait(false);
            }

            inFlight.Add(SendOneAsync(clock, due, cancellationToken));
        }

        var sendingSeconds = clock.Elapsed.TotalSeconds;
        await Task.WhenAll(inFlight).ConfigureAwait(false);
        var lastAnswer = clock.Elapsed.TotalSeconds;
        return new JsonObject
        {
            ["requests"] = total,
            ["accepted202"] = Accepted,
            ["errors"] = total - Accepted,
            ["errorsByKind"] = new JsonObject(_errors.OrderBy(e => e.Key, StringComparer.Ordinal).Select(e => KeyValuePair.Create(e.Key, (JsonNode?)e.Value))),
            ["targetRequestsPerSecond"] = rate,
            ["achievedSendRequestsPerSecond"] = Math.Round(total / Math.Max(0.001, sendingSeconds), 1),
            ["achievedAnswerRequestsPerSecond"] = Math.Round(total / Math.Max(0.001, lastAnswer), 1),
            ["latencyFromDueTime"] = _fromDue.ToJson(),
            ["latencyFromActualSend"] = _fromSend.ToJson(),
            ["senderLagBehindTimetable"] = _sendLag.ToJson(),
        };
    }

    /// <summary>The 99th percentile of the latency from the due time, in ms.</summary>
    public double P99 => _fromDue.Percentile(0.99);

    private async Task SendOneAsync(Stopwatch clock, TimeSpan due, CancellationToken cancellationToken)
    {
        await Task.Yield(); // leave the timetable loop at once; the request goes out on the thread pool
        var sent = clock.Elapsed;
        _sendLag.Add(sent - due);
        try
        {
            using var response = await PostAsync(cancellationToken).ConfigureAwait(false);
            var content = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
            var answered = clock.Elapsed;
            _fromDue.Add(answered - due);
            _fromSend.Add(answered - sent);
            if (response.StatusCode == HttpStatusCode.Accepted && JsonNode.Parse(content)?["id"]?.GetValue<string>() is { } id)
            {
                Interlocked.Increment(ref _accepted);
                _runIds.Add(id);
            }
            else
            {
                _errors.AddOrUpdate($"HTTP {(int)response.StatusCode}", 1, (_, n) => n + 1);
            }
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
        {
            var kind = e is TaskCanceledException ? $"no answer within {http.Timeout.TotalSeconds} s" : e.GetType().Name;
            _errors.AddOrUpdate(kind, 1, (_, n) => n + 1);
        }
    }

    private Task<HttpResponseMessage> PostAsync(CancellationToken cancellationToken) =>
        http.PostAsync(path, new StringContent(body, Encoding.UTF8, "application/json"), cancellationToken);
}
