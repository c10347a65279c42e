using Gateway.Configuration;
using Gateway.Coordinator;
using Gateway.Database.Observation;

namespace Gateway.Database.Failover;

public enum AutoFailoverAction
{
    /// <summary>Nothing to do: the primary answers, or automatic failover is off.</summary>
    None,

    /// <summary>The primary is down, but not for long enough yet.</summary>
    Wait,

    Promote,

    /// <summary>The primary is down but promotion is unsafe: alarm, and leave it to an operator.</summary>
    Refuse,
}

public sealed record AutoFailoverVerdict(AutoFailoverAction Action, string? Candidate, string Reason);

/// <summary>Should the standby be promoted by itself, now? A pure function of one snapshot, the routes and the time.</summary>
public static class AutoFailoverDecision
{
    public static AutoFailoverVerdict Decide(DatabaseSnapshot snapshot, DatabaseRoutes routes, DatabaseOptions options, SiteTopology topology, DateTimeOffset now)
    {
        if (!options.AutoFailover)
        {
            return new(AutoFailoverAction.None, null, "automatic failover is off");
        }

        if (routes.Primary is not { } primary)
        {
            return new(AutoFailoverAction.None, null, "a switch is in progress");
        }

        var candidate = topology.PeerOf(primary).Id;
        return snapshot.Node(primary) switch
        {
            null => new(AutoFailoverAction.None, null, $"primary {primary} not observed yet"),
            { Reachable: true } => new(AutoFailoverAction.None, null, $"primary {primary} answers"),
            // A quarter of a probe interval absorbs timer jitter: the probe due exactly FailoverAfter after the first
            // failure may run a few milliseconds early and must not cost another whole interval.
            { UnreachableSince: { } since } when now - since < options.FailoverAfter - options.ObserveInterval / 4 =>
                new(AutoFailoverAction.Wait, candidate, $"primary {primary} unreachable for {Seconds(now - since)}; failing over after {Seconds(options.FailoverAfter)}"),
            { UnreachableSince: var since } => DecideCandidate(snapshot, routes, options, primary, candidate, now - (since ?? now)),
        };
    }

    private static AutoFailoverVerdict DecideCandidate(DatabaseSnapshot snapshot, DatabaseRoutes routes, DatabaseOptions options, string primary, string candidate, TimeSpan down)
    {
        var standby = snapshot.Node(candidate);
        if (standby is null or { Reachable: false })
        {
            return new(AutoFailoverAction.Refuse, candidate, $"primary {primary} and standby {candidate} are both unreachable: no automatic promotion after a double failure");
        }

        if (routes.IsFenced(candidate))
        {
            return new(AutoFailoverAction.Refuse, candidate, $"primary {primary} unreachable, but {candidate} is fenced (not rejoined as a standby): no automatic promotion");
        }

        var gate = PromotionGate.Evaluate(snapshot, primary, candidate, options.MaxLagOnFailover, force: false);
        return gate.Allowed
            ? new(AutoFailoverAction.Promote, candidate, $"primary {primary} unreachable for {Seconds(down)}; {gate.Reason}: promoting {candidate}")
            : new(AutoFailoverAction.Refuse, candidate, $"primary {primary} unreachable for {Seconds(down)}; {gate.Reason}");
    }

    private static string Seconds(TimeSpan span) => $"{span.TotalSeconds:0.0} s";
}
