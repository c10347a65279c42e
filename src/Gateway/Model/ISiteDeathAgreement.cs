namespace Gateway.Model;

/// <summary>
/// Whether the other gateways agree that a site is dead before the coordinator fails it over (cluster mode: the
/// gateways that still hold a session must all see it down). Absent when the gateway runs alone.
/// </summary>
public interface ISiteDeathAgreement
{
    /// <summary>Agreed: act on the site's death. Otherwise the sentence says who still sees it alive or has not looked.</summary>
    Task<(bool Agreed, string Sentence)> AgreeDeadAsync(string site, CancellationToken cancellation);

    /// <summary>Agreed: every gateway with a session sees the site healthy, so none is about to fail it over.</summary>
    Task<(bool Agreed, string Sentence)> AgreeHealthyAsync(string site, CancellationToken cancellation);
}
