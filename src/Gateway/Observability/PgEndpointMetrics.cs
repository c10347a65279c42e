using System.Diagnostics;
using System.Diagnostics.Metrics;
using Gateway.Coordinator;
using Gateway.Database;

namespace Gateway.Observability;

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

    private readonly Counter<long> _connections;
    private readonly UpDownCounter<long> _activeSessions;

    private static readonly DatabaseEndpointRole[] Roles = [DatabaseEndpointRole.Write, DatabaseEndpointRole.Read];

    public PgEndpointMetrics(MetricsCollector collector, SiteTopology topology)
    {
        var meter = collector.Meter;
        _connections = meter.CreateCounter<long>(
            "gateway.pg.connections",
            "{connection}",
            "Client connections to the PostgreSQL endpoints, by result: forwarded to a node, refused (no node may take them), unreachable (the node did not answer), over_limit (the endpoint was full) or malformed (no valid first message within the startup timeout).");
        _activeSessions = meter.CreateUpDownCounter<long>(
            "gateway.pg.active_sessions", "{session}", "Client sessions being forwarded to a database node now.");
        foreach (var role in Roles)
        {
            _connections.Add(0, Tags(role, None, ResultRefused));
            _connections.Add(0, Tags(role, None, ResultOverLimit));
            _connections.Add(0, Tags(role, None, ResultMalformed));
            foreach (var site in topology.Sites)
            {
                _connections.Add(0, Tags(role, site.Id, ResultForwarded));
                _connections.Add(0, Tags(role, site.Id, ResultUnreachable));
                _activeSessions.Add(0, SessionTags(role, site.Id));
            }
        }
    }

    /// <summary>Counts a forwarded connection; disposing the result ends its session.</summary>
    public ActiveSession Forwarding(DatabaseEndpointRole role, string site)
    {
        _connections.Add(1, Tags(role, site, ResultForwarded));
        var session = SessionTags(role, site);
        _activeSessions.Add(1, session);
        return new ActiveSession(_activeSessions, session);
    }

    /// <summary>Refused before any node was chosen (no node may take it now): counted with site "none".</summary>
    public void Refused(DatabaseEndpointRole role) => _connections.Add(1, Tags(role, None, ResultRefused));

    /// <summary>Refused because the endpoint already had its maximum of connections: counted with site "none".</summary>
    public void OverLimit(DatabaseEndpointRole role) => _connections.Add(1, Tags(role, None, ResultOverLimit));

    /// <summary>Closed before forwarding: the client sent no valid first message within the startup timeout (site "none").</summary>
    public void Malformed(DatabaseEndpointRole role) => _connections.Add(1, Tags(role, None, ResultMalformed));

    public void Unreachable(DatabaseEndpointRole role, string site) => _connections.Add(1, Tags(role, site, ResultUnreachable));

    private static TagList Tags(DatabaseEndpointRole role, string site, string result) =>
        new() { { "role", RoleLabel(role) }, { "site", site }, { "result", result } };

    private static TagList SessionTags(DatabaseEndpointRole role, string site) => new() { { "role", RoleLabel(role) }, { "site", site } };

    private static string RoleLabel(DatabaseEndpointRole role) => role == DatabaseEndpointRole.Write ? "write" : "read";

    public readonly struct ActiveSession(UpDownCounter<long> activeSessions, TagList tags) : IDisposable
    {
        public void Dispose() => activeSessions.Add(-1, tags);
    }
}
