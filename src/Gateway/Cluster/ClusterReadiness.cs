using Gateway.Coordinator.Admin;

namespace Gateway.Cluster;

/// <summary>
/// Whether this gateway should receive traffic, for a load balancer's or keepalived's check: ready when its session is
/// valid (writes not fenced, the fence deadline still ahead) and it routes by the current epoch (re-read after the
/// session's last renewal gap). Leader and follower alike: both serve traffic.
/// </summary>
public static class ClusterReadiness
{
    /// <param name="status">the election's last verdict</param>
    /// <param name="now">the cluster clock's now, in which <see cref="LeadershipStatus.FenceAt"/> is counted</param>
    /// <param name="fenced">whether the runtime still holds writes (it lifts the fence only after reading the epoch)</param>
    /// <param name="epochReadForGeneration">the session generation for which the runtime last read the current epoch</param>
    /// <param name="epoch">the epoch this gateway routes by</param>
    public static Readiness Judge(LeadershipStatus status, DateTimeOffset now, bool fenced, int epochReadForGeneration, long epoch)
    {
        if (!status.WritesAllowed)
        {
            return new(false, $"no valid cluster session: {status.Sentence}");
        }

        if (status.FenceAt is not { } fenceAt || fenceAt <= now)
        {
            return new(false, $"the cluster session is no longer trusted (its last renewal is too old): {status.Sentence}");
        }

        if (fenced || epochReadForGeneration != status.SessionGeneration)
        {
            return new(false, $"the session is valid, but the current epoch has not been read since it was (re)granted: writes still stopped ({status.Sentence})");
        }

        var role = status.IsLeader ? "leads" : $"follows {status.Leader ?? "(no leader yet)"}";
        return new(true, $"ready: {role}, routes by epoch {epoch}, session trusted for {(fenceAt - now).TotalSeconds:0.0} s");
    }
}
