using System.Net;
using System.Net.Sockets;

namespace Flow.LocalServices;

/// <summary>Free TCP ports on the loopback interface, found by letting the OS pick (binding port 0).</summary>
/// <remarks>A port is only free when checked; whoever binds it later must retry on "address in use".</remarks>
public static class FreePorts
{
    /// <summary>One free loopback port.</summary>
    public static int Next() => Next(1)[0];

    /// <summary><paramref name="count"/> distinct free loopback ports (all held open while choosing).</summary>
    public static int[] Next(int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(count);
        var listeners = new List<TcpListener>(count);
        try
        {
            for (var i = 0; i < count; i++)
            {
                var listener = new TcpListener(IPAddress.Loopback, 0);
                listener.Start();
                listeners.Add(listener);
            }

            return [.. listeners.Select(l => ((IPEndPoint)l.LocalEndpoint).Port)];
        }
        finally
        {
            foreach (var listener in listeners)
            {
                listener.Dispose();
            }
        }
    }

    /// <summary>Whether something accepts TCP connections on 127.0.0.1:<paramref name="port"/> right now.</summary>
    public static async Task<bool> AcceptsConnectionsAsync(int port, CancellationToken cancellationToken)
    {
        using var client = new TcpClient();
        try
        {
            await client.ConnectAsync(IPAddress.Loopback, port, cancellationToken);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
