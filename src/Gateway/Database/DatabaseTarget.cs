using Gateway.Coordinator;

namespace Gateway.Database;

/// <summary>The database node a new connection on an endpoint goes to.</summary>
public sealed record DatabaseTarget(string SiteId, string Host, int Port)
{
    public override string ToString() => $"site {SiteId} ({Host}:{Port})";
}

/// <summary>Which node each endpoint forwards to, given the active site: a decision table, nothing else.</summary>
public sealed class DatabaseTargets(SiteTopology topology, ActiveSiteState activeSite)
{
    public DatabaseTarget For(DatabaseEndpointRole role)
    {
        var site = role switch
        {
            DatabaseEndpointRole.Write => topology.Site(activeSite.ActiveSite),
            DatabaseEndpointRole.Read => topology.PeerOf(activeSite.ActiveSite),
            _ => throw new ArgumentOutOfRangeException(nameof(role), role, null),
        };
        return new DatabaseTarget(site.Id, site.Database.Host, site.Database.Port);
    }
}
