using Gateway.Database.Observation;

namespace Gateway.Database.Failover;

public sealed record PromotionVerdict(bool Allowed, string Reason, long? ReplayLagBytes, long? UnreceivedBytes);

/// <summary>
/// The RPO gate: may the standby be promoted now? Automatic promotions are refused while it has not replayed more
/// than maxLagOnFailover bytes of the primary's WAL; a forced one proceeds and says what it may lose.
/// </summary>
public static class PromotionDecision
{
    public static PromotionVerdict Decide(DatabaseSnapshot snapshot, string from, string to, long maxLagBytes, bool force)
    {
        var candidate = snapshot.Node(to);
        var lag = snapshot.ReplayLagBytes(from, to);
        var unreceived = snapshot.UnreceivedBytes(from, to);
        return (candidate, lag, force) switch
        {
            (null or { Reachable: false }, _, _) => new(false, $"the node of site {to} is unreachable: nothing to promote", lag, unreceived),
            ({ InRecovery: false }, _, _) => new(true, $"the node of site {to} is already primary", 0, 0),
            (_, null, false) => new(false, $"the lag of site {to} behind {from} is unknown ({from} was never observed): automatic promotion refused; force it to proceed", lag, unreceived),
            (_, null, true) => new(true, $"forced: the lag of site {to} is unknown", lag, unreceived),
            (_, { } bytes, false) when bytes > maxLagBytes =>
                new(false, $"standby {to} is {bytes} bytes behind {from}, above maxLagOnFailover ({maxLagBytes} bytes): automatic promotion refused; forcing it may lose {unreceived?.ToString() ?? "an unknown number of"} bytes", lag, unreceived),
            (_, { } bytes, true) when bytes > maxLagBytes => new(true, $"forced although standby {to} is {bytes} bytes behind {from}", lag, unreceived),
            (_, { } bytes, _) => new(true, $"standby {to} is {bytes} bytes behind {from}, within maxLagOnFailover ({maxLagBytes} bytes)", lag, unreceived),
        };
    }
}
