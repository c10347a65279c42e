using Gateway.Configuration;

namespace Gateway.Coordinator.Supervision;

public enum CoordinatorAction
{
    None,

    /// <summary>The active site is unhealthy, but not for long enough yet.</summary>
    Wait,

    FailOver,

    /// <summary>The database moved by itself (automatic database failover): the filestore and the writes follow it.</summary>
    FollowDatabase,

    /// <summary>A failover would be needed but is not allowed: alarm, and leave it to an operator.</summary>
    Refuse,
}

public sealed record CoordinatorVerdict(CoordinatorAction Action, string? Target, string Reason);

/// <summary>Everything the coordinator decides from, taken at one moment.</summary>
public sealed record CoordinatorSnapshot(string ActiveSite, bool Switching, string? DatabasePrimary, IReadOnlyDictionary<string, SiteHealth> Sites);

/// <summary>
/// What the coordinator should do next, and why, as a pure function of one snapshot, the policy and the time. The
/// reason is the log line, the alarm text and what the tests assert.
/// </summary>
public static class CoordinatorDecision
{
    public static CoordinatorVerdict Decide(CoordinatorSnapshot snapshot, CoordinatorOptions policy, DateTimeOffset now)
    {
        var active = snapshot.ActiveSite;
        var peer = snapshot.Sites.Keys.Single(site => site != active);
        var activeHealth = snapshot.Sites[active];
        var peerHealth = snapshot.Sites[peer];

        if (snapshot.Switching)
        {
            return new(CoordinatorAction.None, null, "a switch is in progress");
        }

        if (snapshot.DatabasePrimary is { } primary && primary != active)
        {
            return policy.AutoFailover
                ? new(CoordinatorAction.FollowDatabase, primary, $"the database primary is on site {primary} (moved by the database failover) while site {active} is active: the filestore and the writes follow it")
                : new(CoordinatorAction.None, null, $"the database primary is on site {primary} while site {active} is active; automatic failover is off, so the site stays");
        }

        if (activeHealth.Healthy)
        {
            return new(CoordinatorAction.None, null, $"site {active} is healthy");
        }

        var down = activeHealth.For(now);
        var problems = string.Join(", ", activeHealth.Problems);
        if (down < policy.FailoverAfter)
        {
            return new(CoordinatorAction.Wait, peer, $"site {active} unhealthy for {Seconds(down)} ({problems}); failing over after {Seconds(policy.FailoverAfter)}");
        }

        if (!policy.AutoFailover)
        {
            return new(CoordinatorAction.Refuse, peer, $"site {active} unhealthy for {Seconds(down)} ({problems}); automatic failover is off: an operator must fail over");
        }

        if (!peerHealth.Healthy || peerHealth.For(now) < policy.RecoverAfter)
        {
            var peerState = peerHealth.Healthy ? $"healthy for only {Seconds(peerHealth.For(now))} of the {Seconds(policy.RecoverAfter)} required" : $"unhealthy ({string.Join(", ", peerHealth.Problems)})";
            return new(CoordinatorAction.Refuse, peer, $"site {active} unhealthy for {Seconds(down)} ({problems}), but site {peer} is {peerState}: no automatic failover");
        }

        return new(CoordinatorAction.FailOver, peer, $"site {active} unhealthy for {Seconds(down)} ({problems}); site {peer} healthy: failing over to {peer}");
    }

    private static string Seconds(TimeSpan span) => $"{span.TotalSeconds:0.0} s";
}
