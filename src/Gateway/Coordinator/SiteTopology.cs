using Gateway.Configuration;

namespace Gateway.Coordinator;

/// <summary>The two sites as configured: which instances and which database node belong to which site.</summary>
public sealed class SiteTopology(IReadOnlyList<SiteOptions> sites)
{
    public IReadOnlyList<SiteOptions> Sites { get; } = sites;

    public SiteOptions Site(string siteId) =>
        Sites.FirstOrDefault(site => site.Id == siteId) ?? throw new ArgumentException($"unknown site id '{siteId}'", nameof(siteId));

    /// <summary>The site that is not <paramref name="siteId"/>: a dual-datacenter pair has exactly one peer.</summary>
    public SiteOptions PeerOf(string siteId) =>
        Sites.FirstOrDefault(site => site.Id != siteId) ?? throw new InvalidOperationException("the topology has a single site");
}
