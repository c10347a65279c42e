using Gateway.Model;
using Gateway.Observability;
using Prometheus;

namespace Gateway.Database;

/// <summary>
/// Client connections to the PostgreSQL endpoints: what became of each (forwarded, refused, node unreachable) and
/// how many sessions are being forwarded now, by endpoint role and the site of the node. Every combination starts
/// at zero, so a dashboard shows 0 rather than "no data" before the first connection, and rate() sees the first one.
/// </summary>
public sealed class PgEndpointMetrics
{
    private const string None = "none";
    private const string ResultForwarded = "forwarded";
    private const string ResultRefused = "refused";
    private const string ResultUnreachable = "unreachable";
    private const string ResultOverLimit = "over_limit";
    private const string ResultMalformed = "malformed";

    private static readonly DatabaseEndpointRole[] Roles = [DatabaseEndpointRole.Write, DatabaseEndpointRole.Read];

    private readonly Counter _connections;
    private readonly Gauge _activeSessions;

    public PgEndpointMetrics(GatewayMetrics metrics, SiteTopology topology)
    {
        _connections = metrics.Counter(
            "gateway_pg_connections_total",
            "Client connections to the PostgreSQL endpoints, by result: forwarded to a node, refused (no node may take them), unreachable (the node did not answer), over_limit (the endpoint was full) or malformed (no valid first message within the startup timeout).",
            "role", "site", "result");
        _activeSessions = metrics.Gauge("gateway_pg_active_sessions", "Client sessions being forwarded to a database node now.", "role", "site");
        foreach (var role in Roles)
        {
            Connections(role, None, ResultRefused);
            Connections(role, None, ResultOverLimit);
            Connections(role, None, ResultMalformed);
            foreach (var site in topology.Sites)
            {
                Connections(role, site.Id, ResultForwarded);
                Connections(role, site.Id, ResultUnreachable);
                _activeSessions.WithLabels(RoleLabel(role), site.Id);
            }
        }
    }

    /// <summary>Counts a forwarded connection; disposing the result ends its session.</summary>
    public ActiveSession Forwarding(DatabaseEndpointRole role, string site)
    {
        Connections(role, site, ResultForwarded).Inc();
        var session = _activeSessions.WithLabels(RoleLabel(role), site);
        session.Inc();
        return new ActiveSession(session);
    }

    /// <summary>Refused before any node was chosen (no node may take it now): counted with site "none".</summary>
    public void Refused(DatabaseEndpointRole role) => Connections(role, None, ResultRefused).Inc();

    /// <summary>Refused because the endpoint already had its maximum of connections: counted with site "none".</summary>
    public void OverLimit(DatabaseEndpointRole role) => Connections(role, None, ResultOverLimit).Inc();

    /// <summary>Closed before forwarding: the client sent no valid first message within the startup timeout (site "none").</summary>
    public void Malformed(DatabaseEndpointRole role) => Connections(role, None, ResultMalformed).Inc();

    public void Unreachable(DatabaseEndpointRole role, string site) => Connections(role, site, ResultUnreachable).Inc();

    private Counter.Child Connections(DatabaseEndpointRole role, string site, string result) => _connections.WithLabels(RoleLabel(role), site, result);

    private static string RoleLabel(DatabaseEndpointRole role) => role == DatabaseEndpointRole.Write ? "write" : "read";

    public readonly struct ActiveSession(Gauge.Child session) : IDisposable
    {
        public void Dispose() => session.Dec();
    }
}
