using Gateway.Model;

namespace Gateway.Cluster;

/// <summary>
/// The coordinator's check of its own health before it accuses a site: the views every gateway with a session
/// publishes (<see cref="MemberView"/>) must all be fresh and all see the site down; and before a primary acknowledges
/// alone, all see its site healthy. No answer from etcd agrees to nothing.
/// </summary>
public sealed class ClusterSiteDeathAgreement(ClusterNode node) : ISiteDeathAgreement
{
    // Views are published every renewal interval: two missed publications make one too old to vouch.
    private TimeSpan MaxViewAge => node.Options.RenewInterval * 3;

    public async Task<(bool Agreed, string Sentence)> AgreeDeadAsync(string site, CancellationToken cancellation)
    {
        try
        {
            var views = await MemberView.ReadAsync(node.Store, cancellation);
            var verdict = MemberView.Judge(site, node.Options.GatewayId, views, node.Store.Clock.Now(), MaxViewAge);
            return (verdict.Kind == SiteVerdictKind.Dead, verdict.Sentence);
        }
        catch (EtcdUnavailableException e)
        {
            return (false, $"site {site}: the other gateways' views cannot be read ({e.Message}), so no gateway's agreement is known");
        }
    }

    public async Task<(bool Agreed, string Sentence)> AgreeHealthyAsync(string site, CancellationToken cancellation)
    {
        try
        {
            var views = await MemberView.ReadAsync(node.Store, cancellation);
            return MemberView.JudgeUnaccused(site, node.Options.GatewayId, views, node.Store.Clock.Now(), MaxViewAge);
        }
        catch (EtcdUnavailableException e)
        {
            return (false, $"site {site}: the other gateways' views cannot be read ({e.Message}): this gateway may be the one cut off");
        }
    }
}
