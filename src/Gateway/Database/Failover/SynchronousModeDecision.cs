using Gateway.Configuration;
using Gateway.Database.Observation;

namespace Gateway.Database.Failover;

/// <summary>What synchronous_standby_names the primary should have (null: leave it), whether replication is degraded, and why.</summary>
public sealed record SynchronousVerdict(string? StandbyNames, bool Degraded, string Reason);

/// <summary>
/// Synchronous replication policy. Strict: commits always wait for a standby. Degrade: they wait while one streams;
/// after DegradeAfter without one the primary acknowledges alone (with an alarm), and waits again once a standby
/// streams (as pg_auto_failover's wait_primary).
/// </summary>
public static class SynchronousModeDecision
{
    public const string AnyStandby = "*";

    public static SynchronousVerdict Decide(SynchronousMode mode, NodeObservation? primary, DateTimeOffset? standbyAbsentSince, TimeSpan degradeAfter, DateTimeOffset now)
    {
        if (mode == SynchronousMode.Off || primary is not { IsPrimary: true })
        {
            return new(null, false, mode == SynchronousMode.Off ? "synchronous mode is off" : "no reachable primary to configure");
        }

        var streaming = primary.Peers.Any(peer => peer.IsStreaming);
        return (mode, streaming, standbyAbsentSince) switch
        {
            (SynchronousMode.Strict, true, _) => new(AnyStandby, false, $"strict: commits on {primary.SiteId} wait for its streaming standby"),
            (SynchronousMode.Strict, false, _) => new(AnyStandby, false, $"strict: no standby streams from {primary.SiteId}; commits wait until one does"),
            (_, true, _) => new(AnyStandby, false, $"degrade mode: a standby streams from {primary.SiteId}; commits wait for it"),
            (_, false, { } since) when now - since >= degradeAfter =>
                new("", true, $"synchronous replication degraded: no standby has streamed from {primary.SiteId} for {(now - since).TotalSeconds:0.0} s; commits are acknowledged by {primary.SiteId} alone and may be lost in a failover"),
            _ => new(null, false, $"degrade mode: no standby streams from {primary.SiteId}; waiting {degradeAfter.TotalSeconds:0.#} s before acknowledging alone"),
        };
    }
}
