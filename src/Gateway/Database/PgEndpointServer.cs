using System.Net;
using System.Net.Sockets;
using Gateway.Configuration;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Transport.Sockets;
using Microsoft.Extensions.Options;

namespace Gateway.Database;

/// <summary>
/// The PostgreSQL endpoints' own Kestrel server, apart from the HTTP listener's: its socket transport runs the
/// forwarder's code on the thread that completed each read or write (<see cref="PgEndpointScheduling.Inline"/>)
/// without changing how the HTTP proxy is scheduled. Registered last, so it listens once every other part has
/// started, and stops first, asking each session to end (<see cref="PgEndpointForwarder"/>).
/// </summary>
public sealed partial class PgEndpointServer(
    PgEndpointForwarder forwarder, IOptions<GatewayOptions> options, IServiceProvider services, ILoggerFactory loggers, ILogger<PgEndpointServer> logger)
    : IHostedService, IAsyncDisposable
{
    private KestrelServer? _server;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var scheduling = options.Value.Database.EndpointScheduling;
        var inline = scheduling == PgEndpointScheduling.Inline;
        if (inline && !RuntimeCompletesInline())
        {
            Log.InlineUnavailable(logger);
        }

        var kestrel = new KestrelServerOptions { ApplicationServices = services, AddServerHeader = false };
        Listen(kestrel, options.Value.Listeners.PgWriteEndpoint, DatabaseEndpointRole.Write);
        Listen(kestrel, options.Value.Listeners.PgReadEndpoint, DatabaseEndpointRole.Read);
        var transport = new SocketTransportFactory(Options.Create(new SocketTransportOptions { UnsafePreferInlineScheduling = inline }), loggers);
        _server = new KestrelServer(Options.Create(kestrel), transport, loggers);
        await _server.StartAsync(new NoHttpApplication(), cancellationToken);
        Log.Listening(logger, options.Value.Listeners.PgWriteEndpoint, options.Value.Listeners.PgReadEndpoint, scheduling);
    }

    public Task StopAsync(CancellationToken cancellationToken) => _server?.StopAsync(cancellationToken) ?? Task.CompletedTask;

    public ValueTask DisposeAsync()
    {
        _server?.Dispose();
        return ValueTask.CompletedTask;
    }

    private void Listen(KestrelServerOptions kestrel, string endpoint, DatabaseEndpointRole role) =>
        kestrel.Listen(IPEndPoint.Parse(endpoint), listen => listen.Run(connection => forwarder.ForwardAsync(connection, role)));

    private static bool RuntimeCompletesInline()
    {
        using var probe = new Socket(SocketType.Stream, ProtocolType.Tcp);
        return PgSocketScheduling.TryPreferInline(probe) && PgSocketScheduling.PrefersInline(probe);
    }

    /// <summary>Kestrel starts with an HTTP application; every listener here ends in the forwarder before HTTP is read.</summary>
    private sealed class NoHttpApplication : IHttpApplication<object>
    {
        public object CreateContext(IFeatureCollection contextFeatures) => contextFeatures;

        public Task ProcessRequestAsync(object context) => Task.CompletedTask;

        public void DisposeContext(object context, Exception? exception)
        {
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "PG endpoints listening: write {Write}, read {Read} (Database:EndpointScheduling {Scheduling})")]
        public static partial void Listening(ILogger logger, string write, string read, PgEndpointScheduling scheduling);

        [LoggerMessage(EventId = 2, Level = LogLevel.Warning, Message = "Database:EndpointScheduling Inline: this .NET runtime has no per-socket inline completions; the PG endpoints' sockets complete through the thread pool (correct, at about twice the CPU per round trip)")]
        public static partial void InlineUnavailable(ILogger logger);
    }
}
