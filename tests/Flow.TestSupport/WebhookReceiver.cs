using System.Collections.Concurrent;
using Flow.ControlPlane.Automations;
using Flow.ControlPlane.Secrets;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Flow.TestSupport;

/// <summary>
/// A webhook receiver on Kestrel (a free loopback port) that behaves like a careful real one: it checks the HMAC signature
/// (<see cref="WebhookSignature.VerifyTimestamped"/>), answers 401 to a bad one, applies each <c>Idempotency-Key</c> once
/// and records every delivery. The first <c>failFirst</c> deliveries are answered 503 before anything is applied. With
/// <c>holdFirst</c> the first signed delivery is held open, unapplied, until its sender goes away (<see cref="FirstHeld"/> says
/// when it arrived): the moment to kill a sender mid-delivery.
/// </summary>
public sealed class WebhookReceiver : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly byte[] _secret;
    private readonly ConcurrentQueue<Delivery> _deliveries = new();
    private readonly ConcurrentDictionary<string, string> _applied = new(StringComparer.Ordinal);
    private readonly TaskCompletionSource _firstHeld = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _failuresLeft;
    private int _holdsLeft;

    private WebhookReceiver(WebApplication app, byte[] secret, int failFirst, bool holdFirst)
    {
        _app = app;
        _secret = secret;
        _failuresLeft = failFirst;
        _holdsLeft = holdFirst ? 1 : 0;
    }

    /// <summary>Completes when the first signed delivery arrived and is being held (with <c>holdFirst</c>).</summary>
    public Task FirstHeld => _firstHeld.Task;

    public string Url { get; private set; } = string.Empty;

    public IReadOnlyCollection<Delivery> Deliveries => [.. _deliveries];

    /// <summary>The effects: idempotency key → the body first applied with it.</summary>
    public IReadOnlyDictionary<string, string> Applied => _applied;

    public static async Task<WebhookReceiver> StartAsync(byte[] secret, int failFirst, CancellationToken cancellationToken, bool holdFirst = false)
    {
        var port = FreePorts.Next();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
        var app = builder.Build();
        var receiver = new WebhookReceiver(app, secret, failFirst, holdFirst) { Url = $"http://127.0.0.1:{port}/hook" };
        app.MapPost("/hook", receiver.HandleAsync);
        await app.StartAsync(cancellationToken);
        return receiver;
    }

    public ValueTask DisposeAsync() => _app.DisposeAsync();

    private async Task<IResult> HandleAsync(HttpRequest request)
    {
        using var buffer = new MemoryStream();
        await request.Body.CopyToAsync(buffer);
        var body = buffer.ToArray();
        var key = request.Headers[AutomationDispatcher.IdempotencyKeyHeader].ToString();
        var signed = long.TryParse(request.Headers[WebhookSignature.TimestampHeader].ToString(), out var timestamp)
            && WebhookSignature.VerifyTimestamped(_secret, timestamp, body, request.Headers[WebhookSignature.SignatureHeader].ToString());
        var text = System.Text.Encoding.UTF8.GetString(body);
        if (!signed)
        {
            _deliveries.Enqueue(new Delivery(key, false, 401, text));
            return Results.StatusCode(401);
        }

        if (Interlocked.Decrement(ref _holdsLeft) >= 0)
        {
            // Held until the sender goes away (its process is killed): nothing is applied.
            _firstHeld.TrySetResult();
            try
            {
                await Task.Delay(Timeout.Infinite, request.HttpContext.RequestAborted);
            }
            catch (OperationCanceledException)
            {
            }

            _deliveries.Enqueue(new Delivery(key, true, 0, text));
            return Results.StatusCode(499);
        }

        if (Interlocked.Decrement(ref _failuresLeft) >= 0)
        {
            _deliveries.Enqueue(new Delivery(key, true, 503, text));
            return Results.StatusCode(503);
        }

        _applied.TryAdd(key, text);
        _deliveries.Enqueue(new Delivery(key, true, 200, text));
        return Results.Ok();
    }

    public sealed record Delivery(string IdempotencyKey, bool SignatureValid, int Status, string Body);
}
