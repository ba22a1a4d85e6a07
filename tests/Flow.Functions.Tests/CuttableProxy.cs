using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;

namespace Flow.Functions.Tests;

/// <summary>
/// A loopback TCP proxy to one port that a test can cut: <see cref="Cut"/> resets every open connection and then accepts new
/// ones without ever answering (a storage that hangs, as a dead host behind a load balancer does); <see cref="Restore"/>
/// forwards again.
/// </summary>
internal sealed class CuttableProxy : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly int _target;
    private readonly ConcurrentDictionary<TcpClient, byte> _open = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _accepting;
    private volatile bool _cut;

    public CuttableProxy(int targetPort)
    {
        _target = targetPort;
        _listener.Start();
        Port = ((IPEndPoint)_listener.LocalEndpoint).Port;
        _accepting = AcceptAsync();
    }

    public int Port { get; }

    public void Cut()
    {
        _cut = true;
        CloseAll();
    }

    public void Restore()
    {
        _cut = false;
        CloseAll();
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        CloseAll();
        await _accepting;
        _stop.Dispose();
    }

    private void CloseAll()
    {
        foreach (var client in _open.Keys)
        {
            if (_open.TryRemove(client, out _))
            {
                client.Client.LingerState = new LingerOption(true, 0);
                client.Dispose();
            }
        }
    }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await _listener.AcceptTcpClientAsync(_stop.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }

            _open[client] = 0;
            _ = _cut ? HoldAsync(client) : PipeAsync(client);
        }
    }

    private async Task HoldAsync(TcpClient client)
    {
        var buffer = new byte[4096];
        try
        {
            while (await client.GetStream().ReadAsync(buffer, _stop.Token) > 0)
            {
                // swallowed: a hung storage never answers
            }
        }
        catch (Exception e) when (e is IOException or OperationCanceledException or ObjectDisposedException or InvalidOperationException)
        {
        }
    }

    private async Task PipeAsync(TcpClient client)
    {
        using var upstream = new TcpClient();
        try
        {
            await upstream.ConnectAsync(IPAddress.Loopback, _target, _stop.Token);
            var down = client.GetStream();
            var up = upstream.GetStream();
            await Task.WhenAny(down.CopyToAsync(up, _stop.Token), up.CopyToAsync(down, _stop.Token));
        }
        catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or ObjectDisposedException or InvalidOperationException)
        {
        }
        finally
        {
            if (_open.TryRemove(client, out _))
            {
                client.Dispose();
            }
        }
    }
}
