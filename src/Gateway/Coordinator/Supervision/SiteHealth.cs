using Gateway.Coordinator.Switching;

namespace Gateway.Coordinator.Supervision;

/// <summary>One look at one site: how many of its instances pass their health checks, whether its database node and its SAN answer.</summary>
public sealed record SiteObservation(string SiteId, int HealthyInstances, bool DatabaseReachable, SanState San)
{
    public const string DatabaseUnreachable = "database unreachable";

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

/// <summary>A site's health with flap damping: since when it has been continuously healthy or continuously unhealthy.</summary>
public sealed record SiteHealth(string SiteId, bool Healthy, DateTimeOffset Since, IReadOnlyList<string> Problems)
{
    /// <summary>The next state after one more observation: the clock restarts only when health flips.</summary>
    public static SiteHealth Next(SiteHealth? previous, SiteObservation observation, int minHealthyInstances, DateTimeOffset now)
    {
        var problems = observation.Problems(minHealthyInstances);
        var healthy = problems.Count == 0;
        var since = previous is not null && previous.Healthy == healthy ? previous.Since : now;
        return new SiteHealth(observation.SiteId, healthy, since, problems);
    }

    public TimeSpan For(DateTimeOffset now) => now - Since;
}
