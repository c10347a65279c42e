using Gateway.Configuration;

namespace Gateway.Routing;

/// <summary>The instances a request may go to, and why; an empty list means refuse with 503.</summary>
public sealed record SiteSelectionVerdict<T>(IReadOnlyList<T> Candidates, string Reason)
{
    public bool IsRefusal => Candidates.Count == 0;
}

/// <summary>
/// Decides which healthy instances may take a request: reads go anywhere, writes go to the active site, and when the
/// active site has no healthy instance the write policy says whether the other site may take them.
/// Pure: the caller gives the healthy instances and how to tell their site.
/// </summary>
public static class SiteSelectionDecision
{
    public static SiteSelectionVerdict<T> Decide<T>(RequestKind kind, IReadOnlyList<T> healthy, Func<T, string> siteOf, string activeSite, WritePolicy policy)
    {
        if (healthy.Count == 0)
        {
            return new([], "no healthy service instance in any site");
        }

        if (kind == RequestKind.Read)
        {
            return new(healthy, "read: any healthy instance");
        }

        var active = healthy.Where(instance => siteOf(instance) == activeSite).ToList();
        return (active.Count > 0, policy) switch
        {
            (true, _) => new(active, $"write: active site {activeSite}"),
            (false, WritePolicy.Prefer) => new(healthy, $"write: no healthy instance in active site {activeSite}, policy Prefer sends it to the other site"),
            (false, WritePolicy.Require) => new([], $"write: no healthy instance in active site {activeSite} and policy Require refuses the other site"),
            _ => throw new ArgumentOutOfRangeException(nameof(policy), policy, null),
        };
    }
}
