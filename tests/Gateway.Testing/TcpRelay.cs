using System.Net;
using System.Net.Sockets;

namespace Gateway.Testing;

/// <summary>
/// A loopback TCP relay in front of PostgreSQL that a test can cut and restore: a broker's database path going dark
/// during a failover, or one gateway's own link to a site's node breaking. Cut means open sessions are dropped and new
/// connections are refused, exactly what a client sees when its database path is gone.
/// </summary>
public sealed class TcpRelay : IAsyncDisposable
{
    private readonly int _targetPort;
    private readonly List<TcpClient> _sessions = [];
    private TcpListener? _listener;
    private Task _acceptLoop = Task.CompletedTask;

    public TcpRelay(int targetPort)
    {
        _targetPort = targetPort;
        Port = FreePort.Next();
        Restore();
    }

    public int Port { get; }

    /// <summary>Drops every relayed session and refuses new connections until <see cref="Restore"/>.</summary>
    public async Task CutAsync()
    {
        _listener?.Stop();
        _listener = null;
        await _acceptLoop;
        lock (_sessions)
        {
            foreach (var session in _sessions)
            {
                session.Dispose();
            }

            _sessions.Clear();
        }
    }

    /// <summary>Accepts and relays connections again, on the same port.</summary>
    public void Restore()
    {
        var listener = new TcpListener(IPAddress.Loopback, Port);
        listener.Start();
        _listener = listener;
        _acceptLoop = AcceptAsync(listener);
    }

    private async Task AcceptAsync(TcpListener listener)
    {
        while (true)
        {
            TcpClient client;
            try
            {
                client = await listener.AcceptTcpClientAsync();
            }
            catch (Exception stopped) when (stopped is SocketException or ObjectDisposedException)
            {
                return;
            }

            var server = new TcpClient();
            try
            {
                await server.ConnectAsync(IPAddress.Loopback, _targetPort);
            }
            catch (SocketException)
            {
                client.Dispose();
                server.Dispose();
                continue;
            }

            lock (_sessions)
            {
                _sessions.Add(client);
                _sessions.Add(server);
            }

            _ = PumpAsync(client, server);
            _ = PumpAsync(server, client);
        }
    }

    /// <summary>Copies one direction until either side closes, then closes both so the other direction ends too.</summary>
    private static async Task PumpAsync(TcpClient from, TcpClient to)
    {
        try
        {
            await from.GetStream().CopyToAsync(to.GetStream());
        }
        catch (Exception closed) when (closed is IOException or ObjectDisposedException or InvalidOperationException)
        {
            // One side went away (possibly cut on purpose); closing both below is all there is to do.
        }
        finally
        {
            from.Dispose();
            to.Dispose();
        }
    }

    public async ValueTask DisposeAsync() => await CutAsync();
}
