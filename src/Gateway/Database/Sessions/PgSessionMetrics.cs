using System.Diagnostics;
using System.Diagnostics.Metrics;
using Gateway.Coordinator;
using Gateway.Observability;

namespace Gateway.Database.Sessions;

/// <summary>Why the gateway ended a client session of the write endpoint in Movable mode (a metric label each).</summary>
public enum PgSessionCloseReason
{
    TemporaryObjects,
    AdvisoryLocks,
    Listen,
    HoldCursors,
    Role,
    OversizedStatements,
    Replication,
    Authentication,

    /// <summary>Still in a transaction when Database:SessionMoveTimeout ran out during a planned switch.</summary>
    MoveTimeout,

    /// <summary>The node was lost while a request was in flight (its outcome is unknown, so it is never repeated).</summary>
    LostInRequest,

    /// <summary>No primary took the session within Database:HoldConnectionsFor.</summary>
    NoPrimary,

    /// <summary>The new node refused the login (password changed, role or database gone).</summary>
    LoginRefused,

    /// <summary>A setting or SQL-level prepared statement could not be restored on the new node.</summary>
    RestoreFailed,

    /// <summary>The node ended this session alone (pg_terminate_backend, idle_session_timeout): its error was passed on.</summary>
    EndedByServer,

    ClientProtocolViolation,
    ServerProtocolViolation,

    /// <summary>The client went away while its next request was held for a move.</summary>
    ClientGoneWhileHeld,
}

/// <summary>
/// Sessions moved to a new primary, sessions the gateway closed (by reason) and how long a client's next request was
/// held at the transaction boundary while its session moved. Every series starts at zero.
/// </summary>
public sealed class PgSessionMetrics
{
    private readonly Counter<long> _moved;
    private readonly Counter<long> _closed;
    private readonly Histogram<double> _holdTime;

    public PgSessionMetrics(MetricsCollector collector, SiteTopology topology)
    {
        var meter = collector.Meter;
        _moved = meter.CreateCounter<long>("gateway.pg.sessions.moved", "{session}",
            "Write-endpoint client sessions moved to a new primary at a transaction boundary (Database:SessionMode Movable), by the site they moved to.");
        _closed = meter.CreateCounter<long>("gateway.pg.sessions.closed", "{session}",
            "Write-endpoint client sessions the gateway ended with an error instead of moving them, by reason (state that cannot move, timeout, node lost mid-request, protocol violation, ...).");
        _holdTime = meter.CreateHistogram<double>("gateway.pg.sessions.hold_time", "s",
            "How long a moving session's next request waited at the transaction boundary until the new primary took it.");
        foreach (var site in topology.Sites)
        {
            _moved.Add(0, new TagList { { "site", site.Id } });
        }

        foreach (var reason in Enum.GetValues<PgSessionCloseReason>())
        {
            _closed.Add(0, new TagList { { "reason", Label(reason) } });
        }
    }

    public void Moved(string site) => _moved.Add(1, new TagList { { "site", site } });

    public void Closed(PgSessionCloseReason reason) => _closed.Add(1, new TagList { { "reason", Label(reason) } });

    public void Held(TimeSpan time) => _holdTime.Record(time.TotalSeconds);

    /// <summary>snake_case of the reason: the label value.</summary>
    public static string Label(PgSessionCloseReason reason) =>
        string.Concat(reason.ToString().Select((c, i) => char.IsUpper(c) && i > 0 ? "_" + char.ToLowerInvariant(c) : char.ToLowerInvariant(c).ToString()));
}
