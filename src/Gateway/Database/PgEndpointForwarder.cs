using System.IO.Pipelines;
using System.Net.Sockets;
using Gateway.Configuration;
using Gateway.Database.Sessions;
using Gateway.Observability;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.Extensions.Options;

namespace Gateway.Database;

/// <summary>
/// The PostgreSQL endpoints: each client connection goes to the node the endpoint's role names at the moment the
/// client connects (<see cref="DatabaseTargets"/>), which is what lets a failover move writes without reconfiguring
/// any service. While a switch is in progress, new write connections wait for the next primary (bounded) instead of
/// failing. By default (Database:SessionMode PassThrough) a session is forwarded byte for byte: the gateway does not
/// parse the protocol, so every client, driver and authentication method (TLS included) works unchanged, and a fence
/// cuts the session. In Movable mode the write endpoint reads the protocol (<see cref="PgMovableSession"/>) so that
/// a switch moves each session to the new primary at its next transaction boundary.
/// </summary>
public sealed partial class PgEndpointForwarder(
    DatabaseTargets targets,
    DatabaseRoutingTable routing,
    PgSessions sessions,
    PgSessionMover mover,
    PgEndpointMetrics metrics,
    IOptions<GatewayOptions> options,
    TimeProvider time,
    ILogger<PgEndpointForwarder> logger)
{
    private static readonly TimeSpan RefusalTimeout = TimeSpan.FromSeconds(5);
    private readonly DatabaseOptions _options = options.Value.Database;
    private readonly bool _inline = options.Value.Database.EndpointScheduling == PgEndpointScheduling.Inline;
    private readonly Dictionary<DatabaseEndpointRole, PgConnectionLimit> _limits = Enum.GetValues<DatabaseEndpointRole>()
        .ToDictionary(role => role, _ => new PgConnectionLimit(options.Value.Database.MaxConnectionsPerEndpoint));

    public async Task ForwardAsync(ConnectionContext client, DatabaseEndpointRole role)
    {
        if (_inline && client.Features.Get<IConnectionSocketFeature>()?.Socket is { } socket)
        {
            PgSocketScheduling.TryPreferInline(socket);
        }

        using var slot = _limits[role].TryEnter();
        if (slot is null)
        {
            Log.OverLimit(logger, role, client.RemoteEndPoint?.ToString(), _options.MaxConnectionsPerEndpoint);
            metrics.OverLimit(role);
            await PgRefusal.RefuseAsync(client.Transport.Input, client.Transport.Output, PgRefusal.TooManyConnections,
                $"too many connections to the {role.ToString().ToLowerInvariant()} endpoint (at most {_options.MaxConnectionsPerEndpoint})", RefusalTimeout);
            return;
        }

        // Before any node is chosen or connected to: a client that never speaks, or speaks something else, costs no node anything.
        var startup = await PgStartup.InspectAsync(client.Transport.Input, _options.StartupTimeout, client.ConnectionClosed);
        if (startup != PgStartupKind.PostgreSql)
        {
            if (startup != PgStartupKind.Closed)
            {
                Log.NotPostgreSql(logger, role, client.RemoteEndPoint?.ToString(), startup);
                metrics.Malformed(role);
            }

            return;
        }

        if (role == DatabaseEndpointRole.Write && _options.SessionMode == PgSessionMode.Movable)
        {
            await RunMovableAsync(client, role);
            return;
        }

        await ForwardToNodeAsync(client, role);
    }

    private async Task ForwardToNodeAsync(ConnectionContext client, DatabaseEndpointRole role)
    {
        if (await ConnectedTargetAsync(client, role, movable: null) is not { } connected)
        {
            return;
        }

        using var registration = connected.Registration;
        using var server = connected.Server;
        await PumpAsync(client, role, connected.Node, server);
    }

    /// <summary>
    /// Movable mode: the gateway reads the startup itself (declining TLS, which it cannot read through, and passing a
    /// cancel request to the session it names), then runs the session.
    /// </summary>
    private async Task RunMovableAsync(ConnectionContext client, DatabaseEndpointRole role)
    {
        var first = await PgStartupReader.ReadAsync(client.Transport, _options.StartupTimeout, client.ConnectionClosed);
        switch (first)
        {
            case { Cancel: { } key }:
                if (mover.CancelKeys.Find(key.ProcessId, key.Secret) is { } cancelled)
                {
                    await cancelled.CancelAsync();
                }

                return;
            case { Startup: { } startup }:
                var session = new PgMovableSession(client, startup, mover);
                if (await ConnectedTargetAsync(client, role, session) is not { } connected)
                {
                    return;
                }

                using (metrics.Forwarding(role, connected.Node.SiteId))
                {
                    Log.Forwarding(logger, role, client.RemoteEndPoint?.ToString(), connected.Node.ToString());
                    await session.RunAsync(connected.Node, connected.Server, connected.Registration);
                    Log.Closed(logger, role, client.RemoteEndPoint?.ToString(), session.Site ?? connected.Node.SiteId);
                }

                return;
            case { Problem: { } problem }:
                Log.NotPostgreSql(logger, role, client.RemoteEndPoint?.ToString(), PgStartupKind.Malformed);
                metrics.Malformed(role);
                await WriteQuietlyAsync(client, PgRefusal.ErrorResponse("08P01", "gateway: " + problem));
                return;
        }
    }

    /// <summary>
    /// Decides where the client goes and connects to that node, registered as one of its sessions from before the
    /// connection starts, then checks the decision once more. A fence closes the routes and then cuts the node's
    /// sessions: it either finds this one registered and cuts it, or changed the routes before the second look,
    /// which then decides again. A client mid-connect during a fence once landed on the fenced, read-only old primary.
    /// Null when the client was refused.
    /// </summary>
    private async Task<(DatabaseTarget Node, Socket Server, IPgSessionRegistration Registration)?> ConnectedTargetAsync(ConnectionContext client, DatabaseEndpointRole role, PgMovableSession? movable)
    {
        while (true)
        {
            var decision = await DecideAsync(role, client.ConnectionClosed);
            if (decision.Target is not { } target)
            {
                Log.Refused(logger, role, client.RemoteEndPoint?.ToString(), decision.Reason);
                metrics.Refused(role);
                await RefuseAsync(client, PgRefusal.CannotConnectNow, decision.Reason, startupRead: movable is not null);
                return null;
            }

            var registration = sessions.Register(client, target.SiteId, movable);
            // The registration must be visible before the routes are read again (the fence writes them, then reads the sessions).
            Interlocked.MemoryBarrier();
            var server = await ConnectAsync(target, role, client, startupRead: movable is not null);
            if (server is null)
            {
                registration.Dispose();
                return null;
            }

            if (targets.Decide(role).Target == target)
            {
                return (target, server, registration);
            }

            Log.Rerouted(logger, role, client.RemoteEndPoint?.ToString(), target.ToString());
            server.Dispose();
            registration.Dispose();
        }
    }

    private async Task PumpAsync(ConnectionContext client, DatabaseEndpointRole role, DatabaseTarget target, Socket server)
    {
        using var session = metrics.Forwarding(role, target.SiteId);
        Log.Forwarding(logger, role, client.RemoteEndPoint?.ToString(), target.ToString());
        await using var serverStream = new NetworkStream(server, ownsSocket: false);
        // A stopping server asks its connections to close and waits for them: a session never ends by itself (pools keep theirs open).
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(
            client.ConnectionClosed, client.Features.Get<IConnectionLifetimeNotificationFeature>()?.ConnectionClosedRequested ?? CancellationToken.None);
        var toServer = PumpClientToServerAsync(client.Transport.Input, serverStream, server, stop.Token);
        var toClient = PumpServerToClientAsync(serverStream, client.Transport.Output, stop.Token);

        // Either side closing ends the session: a dead node must not leave a client waiting on a half-open pipe.
        await Task.WhenAny(toServer, toClient);
        await stop.CancelAsync();
        await Task.WhenAll(Quietly(toServer), Quietly(toClient));
        Log.Closed(logger, role, client.RemoteEndPoint?.ToString(), target.ToString());
    }

    /// <summary>Decides, waiting through "hold" decisions until the routes change or HoldConnectionsFor runs out.</summary>
    private async Task<EndpointVerdict> DecideAsync(DatabaseEndpointRole role, CancellationToken clientClosed)
    {
        var giveUpAt = time.GetUtcNow() + _options.HoldConnectionsFor;
        while (true)
        {
            var changed = routing.ChangedAsync();
            var decision = targets.Decide(role);
            if (decision.Action != EndpointAction.Hold)
            {
                return decision;
            }

            var left = giveUpAt - time.GetUtcNow();
            if (left <= TimeSpan.Zero)
            {
                return new(EndpointAction.Refuse, null, $"{decision.Reason}; gave up after holding the connection for {_options.HoldConnectionsFor.TotalSeconds:0.#} s");
            }

            try
            {
                // Woken by a change of routes (a promotion) or, at the latest, by the next observation's worth of time
                // (the primary may simply be back).
                await changed.WaitAsync(TimeSpan.FromTicks(Math.Min(left.Ticks, _options.ObserveInterval.Ticks)), time, clientClosed);
            }
            catch (TimeoutException)
            {
                // Decide once more: the loop forwards, keeps holding, or turns the hold into a refusal.
            }
            catch (OperationCanceledException) when (clientClosed.IsCancellationRequested)
            {
                // Not an error of the gateway's: logged and counted as a refusal like any other end of a hold.
                return new(EndpointAction.Refuse, null, $"{decision.Reason}; the client closed its connection while it was held");
            }
        }
    }

    private async Task<Socket?> ConnectAsync(DatabaseTarget target, DatabaseEndpointRole role, ConnectionContext client, bool startupRead)
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        if (_inline)
        {
            PgSocketScheduling.TryPreferInline(socket);
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(client.ConnectionClosed);
        timeout.CancelAfter(_options.ConnectTimeout);
        try
        {
            await socket.ConnectAsync(target.Host, target.Port, timeout.Token);
            return socket;
        }
        catch (OperationCanceledException) when (client.ConnectionClosed.IsCancellationRequested)
        {
            // The client went away, or a fence cut it while it was connecting: no node failed, nobody to answer.
            socket.Dispose();
            return null;
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException)
        {
            var reason = e is OperationCanceledException ? $"no answer within {_options.ConnectTimeout.TotalMilliseconds:0} ms" : e.Message;
            Log.NodeUnreachable(logger, role, target.ToString(), reason, client.RemoteEndPoint?.ToString());
            metrics.Unreachable(role, target.SiteId);
            socket.Dispose();
            await RefuseAsync(client, PgRefusal.CannotConnectNow, $"database node {target} unreachable: {reason}", startupRead);
            return null;
        }
    }

    /// <summary>The refusal as the client reads it: after reading its startup packet, unless the gateway has read it already.</summary>
    private static Task RefuseAsync(ConnectionContext client, string sqlState, string message, bool startupRead) =>
        startupRead
            ? WriteQuietlyAsync(client, PgRefusal.ErrorResponse(sqlState, "gateway: " + message))
            : PgRefusal.RefuseAsync(client.Transport.Input, client.Transport.Output, sqlState, message, RefusalTimeout);

    private static async Task WriteQuietlyAsync(ConnectionContext client, byte[] bytes)
    {
        try
        {
            using var bound = new CancellationTokenSource(RefusalTimeout);
            await client.Transport.Output.WriteAsync(bytes, bound.Token);
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or InvalidOperationException or ConnectionResetException)
        {
            // Nobody left to tell.
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
        catch (Exception e) when (e is OperationCanceledException or IOException or SocketException or ConnectionResetException or ConnectionAbortedException or ObjectDisposedException)
        {
            // A pump cut short because the other direction ended, or a fence aborted the session: it is over either way.
        }
    }
}
