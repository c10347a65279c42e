using Gateway.Model;
using Gateway.Observability;
using Prometheus;

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
    private readonly Counter _moved;
    private readonly Counter _closed;
    private readonly Histogram _holdTime;

    public PgSessionMetrics(GatewayMetrics metrics, SiteTopology topology)
    {
        _moved = metrics.Counter("gateway_pg_sessions_moved_total",
            "Write-endpoint client sessions moved to a new primary at a transaction boundary (Database:SessionMode Movable), by the site they moved to.", "site");
        _closed = metrics.Counter("gateway_pg_sessions_closed_total",
            "Write-endpoint client sessions the gateway ended with an error instead of moving them, by reason (state that cannot move, timeout, node lost mid-request, protocol violation, ...).",
            "reason");
        _holdTime = metrics.LatencyHistogram("gateway_pg_sessions_hold_time_seconds",
            "How long a moving session's next request waited at the transaction boundary until the new primary took it.");

        // Every series from the start, so rate() and increase() see the first one.
        foreach (var site in topology.Sites)
        {
            _moved.WithLabels(site.Id);
        }

        foreach (var reason in Enum.GetValues<PgSessionCloseReason>())
        {
            _closed.WithLabels(Label(reason));
        }
    }

    public void Moved(string site) => _moved.WithLabels(site).Inc();

    public void Closed(PgSessionCloseReason reason) => _closed.WithLabels(Label(reason)).Inc();

    public void Held(TimeSpan time) => _holdTime.Observe(time.TotalSeconds);

    /// <summary>snake_case of the reason: the label value.</summary>
    public static string Label(PgSessionCloseReason reason) =>
        string.Concat(reason.ToString().Select((c, i) => char.IsUpper(c) && i > 0 ? "_" + char.ToLowerInvariant(c) : char.ToLowerInvariant(c).ToString()));
}
