namespace Gateway.Hosting;

/// <summary>
/// A hosted service that acts only on the cluster's leader but keeps observing on the other gateways, so that a gateway
/// that comes to lead decides from what it has seen all along (since when a site is down, that it was up before), as
/// the previous leader would have, instead of from its first look.
/// </summary>
public interface IObserveWhileFollowing
{
    /// <summary>Observes, deciding and changing nothing, until cancelled (when this gateway starts to lead or stops).</summary>
    Task ObserveWhileFollowingAsync(CancellationToken cancellation);
}
