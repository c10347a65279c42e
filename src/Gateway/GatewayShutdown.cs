using Gateway.Database;
using Gateway.Model;
using Microsoft.Extensions.Options;
using Yarp.ReverseProxy;

namespace Gateway;

/// <summary>
/// Says in the log, as the gateway begins to stop, what the stop waits for. HTTP requests in flight may finish within
/// the host's shutdown timeout; PostgreSQL endpoint sessions would never end by themselves (connection pools keep
/// theirs open), so the forwarder ends each one when the server asks its connections to close.
/// </summary>
public sealed partial class GatewayShutdown(
    PgSessions sessions, SiteTopology topology, IProxyStateLookup proxy, IOptions<HostOptions> host, ILogger<GatewayShutdown> logger)
    : IHostedLifecycleService
{
    /// <summary>How long a stop waits for what is in flight before the server cuts it (ASP.NET Core's default is 30 s).</summary>
    public static readonly TimeSpan ShutdownTimeout = TimeSpan.FromSeconds(10);

    public Task StoppingAsync(CancellationToken cancellationToken)
    {
        var open = topology.Sites.Select(site => (site.Id, sessions.Count(site.Id))).ToList();
        Log.Stopping(logger, Describe(open, HttpRequestsInFlight(), host.Value.ShutdownTimeout));
        return Task.CompletedTask;
    }

    public static string Describe(IReadOnlyList<(string Site, int Sessions)> sessionsBySite, int httpRequestsInFlight, TimeSpan timeout) =>
        $"Stopping: {sessionsBySite.Sum(s => s.Sessions)} PostgreSQL endpoint session(s) open "
        + $"({string.Join(", ", sessionsBySite.Select(s => $"site {s.Site}: {s.Sessions}"))}) are closed; "
        + $"{httpRequestsInFlight} HTTP request(s) in flight get up to {timeout.TotalSeconds:0.#} s to finish";

    private int HttpRequestsInFlight() => proxy.TryGetCluster(ProxyDestinations.ClusterId, out var cluster)
        ? cluster.Destinations.Values.Sum(destination => destination.ConcurrentRequestCount)
        : 0;

    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private static partial class Log
    {
        [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "{Sentence}")]
        public static partial void Stopping(ILogger logger, string sentence);
    }
}
