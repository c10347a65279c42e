using System.IO.Pipelines;
using System.Net.Sockets;
using Gateway.Configuration;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Options;

namespace Gateway.Database;

/// <summary>
/// The PostgreSQL endpoints: each client connection is forwarded byte for byte to the node the endpoint's role
/// names at the moment the client connects. The gateway does not parse the protocol, so every client, driver and
/// authentication method works unchanged; deciding the target per connection is what lets a failover move writes
/// without reconfiguring any service.
/// </summary>
public sealed partial class PgEndpointForwarder(
    DatabaseTargets targets,
    IOptions<GatewayOptions> options,
    ILogger<PgEndpointForwarder> logger)
{
    private readonly TimeSpan _connectTimeout = options.Value.Database.ConnectTimeout;

    public async Task ForwardAsync(ConnectionContext client, DatabaseEndpointRole role)
    {
        var target = targets.For(role);
        using var server = await ConnectAsync(target, role, client);
        if (server is null)
        {
            return;
        }

        Log.Forwarding(logger, role, client.RemoteEndPoint?.ToString(), target.ToString());
        await using var serverStream = new NetworkStream(server, ownsSocket: false);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(client.ConnectionClosed);
        var toServer = PumpClientToServerAsync(client.Transport.Input, serverStream, server, stop.Token);
        var toClient = PumpServerToClientAsync(serverStream, client.Transport.Output, stop.Token);

        // Either side closing ends the session: a dead node must not leave a client waiting on a half-open pipe.
        await Task.WhenAny(toServer, toClient);
        await stop.CancelAsync();
        await Task.WhenAll(Quietly(toServer), Quietly(toClient));
        Log.Closed(logger, role, client.RemoteEndPoint?.ToString(), target.ToString());
    }

    private async Task<Socket?> ConnectAsync(DatabaseTarget target, DatabaseEndpointRole role, ConnectionContext client)
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(client.ConnectionClosed);
        timeout.CancelAfter(_connectTimeout);
        try
        {
            await socket.ConnectAsync(target.Host, target.Port, timeout.Token);
            return socket;
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException)
        {
            var reason = e is OperationCanceledException ? $"no answer within {_connectTimeout.TotalMilliseconds:0} ms" : e.Message;
            Log.NodeUnreachable(logger, role, target.ToString(), reason, client.RemoteEndPoint?.ToString());
            socket.Dispose();
            client.Abort(new ConnectionAbortedException($"database node {target} unreachable: {reason}"));
            return null;
        }
    }

    private static async Task PumpClientToServerAsync(PipeReader client, NetworkStream server, Socket socket, CancellationToken cancellation)
    {
        await client.CopyToAsync(server, cancellation);
        // The client said goodbye (Terminate or close): pass the end of stream on so the backend exits cleanly.
        socket.Shutdown(SocketShutdown.Send);
    }

    private static async Task PumpServerToClientAsync(NetworkStream server, PipeWriter client, CancellationToken cancellation)
    {
        await server.CopyToAsync(client, cancellation);
        await client.CompleteAsync();
    }

    private static async Task Quietly(Task pump)
    {
        try
        {
            await pump;
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or SocketException or ConnectionResetException or ObjectDisposedException)
        {
            // A pump cut short because the other direction ended: the session is over either way.
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 1, Level = LogLevel.Debug, Message = "PG {Role} endpoint: client {Client} forwarded to {Target}")]
        public static partial void Forwarding(ILogger logger, DatabaseEndpointRole role, string? client, string target);

        [LoggerMessage(EventId = 2, Level = LogLevel.Debug, Message = "PG {Role} endpoint: session of {Client} with {Target} closed")]
        public static partial void Closed(ILogger logger, DatabaseEndpointRole role, string? client, string target);

        [LoggerMessage(EventId = 3, Level = LogLevel.Error, Message = "PG {Role} endpoint: database node {Target} unreachable ({Reason}); closed client {Client}")]
        public static partial void NodeUnreachable(ILogger logger, DatabaseEndpointRole role, string target, string reason, string? client);
    }
}
