using Gateway.Configuration;

namespace Gateway.Model;

/// <summary>The two sites as configured: which instances and which database node belong to which site.</summary>
public sealed class SiteTopology(IReadOnlyList<SiteOptions> sites)
{
    private volatile IReadOnlyList<SiteOptions> _sites = sites;

    /// <summary>As configured, with the instance lists of the last reload: read it anew rather than keep it.</summary>
    public IReadOnlyList<SiteOptions> Sites => _sites;

    public SiteOptions Site(string siteId) =>
        Sites.FirstOrDefault(site => site.Id == siteId) ?? throw new ArgumentException($"unknown site id '{siteId}'", nameof(siteId));

    /// <summary>The site that is not <paramref name="siteId"/>: a dual-datacenter pair has exactly one peer.</summary>
    public SiteOptions PeerOf(string siteId) =>
        Sites.FirstOrDefault(site => site.Id != siteId) ?? throw new InvalidOperationException("the topology has a single site");

    /// <summary>The sites of a reloaded configuration, which differ from these in their instance lists only (<see cref="Routing.Reload.ReloadDecision"/>).</summary>
    internal void ReplaceSites(IReadOnlyList<SiteOptions> sites) => _sites = sites;
}
