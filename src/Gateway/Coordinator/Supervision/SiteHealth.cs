using Gateway.Coordinator.Switching;

namespace Gateway.Coordinator.Supervision;

/// <summary>One look at one site: how many of its instances pass their health checks, whether its database node and its SAN answer.</summary>
public sealed record SiteObservation(string SiteId, int HealthyInstances, bool DatabaseReachable, SanState San)
{
    public const string DatabaseUnreachable = "database unreachable";

    /// <summary>Its database node and its SAN answer: what a site needs to take over when the primary is lost (its instances then fail their own health checks, which need the primary).</summary>
    public bool InfrastructureHealthy => DatabaseReachable && San == SanState.Readable;

    public IReadOnlyList<string> Problems(int minHealthyInstances) =>
    [
        .. HealthyInstances < minHealthyInstances ? [$"{HealthyInstances} healthy instance(s), {minHealthyInstances} needed"] : Array.Empty<string>(),
        .. DatabaseReachable ? Array.Empty<string>() : [DatabaseUnreachable],
        .. San switch
        {
            SanState.Unreadable => ["SAN unreadable"],
            SanState.Unresponsive => ["SAN not answering (hung mount?)"],
            _ => Array.Empty<string>(),
        },
    ];
}

/// <summary>
/// A site's health with flap damping: since when it has been continuously healthy or continuously unhealthy, as a
/// whole and as infrastructure (its database node and SAN, whatever its instances say).
/// </summary>
/// <param name="EverHealthy">Seen healthy at least once since the gateway started: a site still starting up has not failed.</param>
public sealed record SiteHealth(
    string SiteId, bool Healthy, DateTimeOffset Since, IReadOnlyList<string> Problems, bool InfrastructureHealthy = true, DateTimeOffset? InfrastructureSince = null, bool EverHealthy = true)
{
    /// <summary>The next state after one more observation: each clock restarts only when its health flips.</summary>
    public static SiteHealth Next(SiteHealth? previous, SiteObservation observation, int minHealthyInstances, DateTimeOffset now)
    {
        var problems = observation.Problems(minHealthyInstances);
        var healthy = problems.Count == 0;
        var since = previous is not null && previous.Healthy == healthy ? previous.Since : now;
        var infrastructure = observation.InfrastructureHealthy;
        var infrastructureSince = previous is not null && previous.InfrastructureHealthy == infrastructure ? previous.InfrastructureSince ?? previous.Since : now;
        return new SiteHealth(observation.SiteId, healthy, since, problems, infrastructure, infrastructureSince, healthy || (previous?.EverHealthy ?? false));
    }

    public TimeSpan For(DateTimeOffset now) => now - Since;

    public TimeSpan InfrastructureFor(DateTimeOffset now) => now - (InfrastructureSince ?? Since);
}
