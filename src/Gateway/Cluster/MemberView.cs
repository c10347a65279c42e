using System.Text.Json;

namespace Gateway.Cluster;

/// <summary>What one gateway saw of one site: healthy or not, since when.</summary>
public sealed record SiteObservation(bool Healthy, DateTimeOffset Since);

/// <summary>
/// One gateway's view of every site, as of <see cref="AsOf"/>; published under its session's lease, with the epoch it
/// routes by (null when unknown).
/// </summary>
public sealed record GatewayView(string GatewayId, DateTimeOffset AsOf, IReadOnlyDictionary<string, SiteObservation> Sites, long? Epoch = null);

public enum SiteVerdictKind
{
    /// <summary>Every gateway that holds a session sees the site down, freshly: the leader may act on its death.</summary>
    Dead,

    /// <summary>At least one gateway with a session sees the site healthy: it is not dead, whatever the leader sees.</summary>
    Alive,

    /// <summary>Some gateway's view is missing or old: nobody can say the cluster agrees, so nothing is done yet.</summary>
    Undecided,
}

/// <summary><see cref="DeadSince"/>: from when all views agree (the latest of their "down since"), for a failover delay.</summary>
public sealed record SiteVerdict(SiteVerdictKind Kind, string Sentence, DateTimeOffset? DeadSince);

/// <summary>
/// "Check your own health before accusing a site." Each gateway publishes its view of every site under its own lease,
/// so only the views of gateways that still hold a session exist in etcd. A site is dead for the cluster only when
/// every one of those views is fresh and says it is down; one gateway that still sees it healthy means the accuser's
/// trouble may be its own (its link to that site), and the site is not failed over.
/// </summary>
public static class MemberView
{
    public const string ViewsPrefix = "views/";

    public static string ViewKey(string gatewayId) => ViewsPrefix + gatewayId;

    /// <summary>
    /// Judges <paramref name="site"/> from <paramref name="views"/> (the views of the gateways holding a session, the
    /// judging gateway's own included). A view older than <paramref name="maxAge"/> cannot vouch for anything, and the
    /// judge's own view must be there: a leader that has not looked does not accuse.
    /// </summary>
    public static SiteVerdict Judge(string site, string self, IReadOnlyCollection<GatewayView> views, DateTimeOffset now, TimeSpan maxAge)
    {
        if (views.All(v => v.GatewayId != self))
        {
            return new(SiteVerdictKind.Undecided, $"site {site}: this gateway ({self}) has published no view of its own, so it accuses no site", null);
        }

        var seeingHealthy = new List<string>();
        var notVouching = new List<string>();
        var downSince = new List<DateTimeOffset>();
        foreach (var view in views.OrderBy(v => v.GatewayId, StringComparer.Ordinal))
        {
            var age = now - view.AsOf;
            if (!view.Sites.TryGetValue(site, out var observation))
            {
                notVouching.Add($"{view.GatewayId} (no observation of {site})");
            }
            else if (age > maxAge)
            {
                notVouching.Add($"{view.GatewayId} (view {age.TotalSeconds:0.#} s old)");
            }
            else if (observation.Healthy)
            {
                seeingHealthy.Add(view.GatewayId);
            }
            else
            {
                downSince.Add(observation.Since);
            }
        }

        if (seeingHealthy.Count > 0)
        {
            return new(SiteVerdictKind.Alive, $"site {site} is not dead: {string.Join(", ", seeingHealthy)} {(seeingHealthy.Count == 1 ? "sees" : "see")} it healthy", null);
        }

        if (notVouching.Count > 0)
        {
            return new(SiteVerdictKind.Undecided, $"site {site}: no agreement yet, waiting for {string.Join(", ", notVouching)}", null);
        }

        var since = downSince.Max();
        var who = string.Join(", ", views.Select(v => v.GatewayId).Order(StringComparer.Ordinal));
        return new(SiteVerdictKind.Dead, $"site {site} is dead for the cluster: every gateway holding a session ({who}) sees it down, all of them since {since:HH:mm:ss.fff}", since);
    }

    /// <summary>
    /// Whether nobody accuses <paramref name="site"/>: every gateway holding a session (the judge included) has a fresh
    /// view that sees it healthy. What a leader needs before it lets that site's primary acknowledge commits alone: a
    /// gateway that sees the site down may be about to lead and fail it over to the standby.
    /// </summary>
    public static (bool Unaccused, string Sentence) JudgeUnaccused(string site, string self, IReadOnlyCollection<GatewayView> views, DateTimeOffset now, TimeSpan maxAge)
    {
        if (views.All(v => v.GatewayId != self))
        {
            return (false, $"site {site}: this gateway ({self}) has published no view of its own");
        }

        var doubting = views.OrderBy(v => v.GatewayId, StringComparer.Ordinal)
            .Select(view => !view.Sites.TryGetValue(site, out var observation) ? $"{view.GatewayId} has no observation of it"
                : now - view.AsOf > maxAge ? $"{view.GatewayId}'s view is {(now - view.AsOf).TotalSeconds:0.#} s old"
                : observation.Healthy ? null
                : $"{view.GatewayId} sees it down")
            .OfType<string>()
            .ToList();
        return doubting.Count == 0
            ? (true, $"site {site} is healthy for every gateway holding a session ({string.Join(", ", views.Select(v => v.GatewayId).Order(StringComparer.Ordinal))})")
            : (false, $"site {site} is not healthy for the whole cluster: {string.Join("; ", doubting)}");
    }

    public static string Encode(GatewayView view) => JsonSerializer.Serialize(view, JsonOptions);

    /// <summary>The views of every gateway that holds a session (the keys live under their leases); an unreadable one is skipped.</summary>
    public static IReadOnlyList<GatewayView> Decode(IEnumerable<StoredKey> keys) =>
        [.. keys.Where(k => k.Key.StartsWith(ViewsPrefix, StringComparison.Ordinal)).Select(TryDecode).OfType<GatewayView>()];

    private static GatewayView? TryDecode(StoredKey key)
    {
        try
        {
            return JsonSerializer.Deserialize<GatewayView>(key.Value, JsonOptions) is { } view && view.GatewayId == key.Key[ViewsPrefix.Length..] ? view : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>Publishes this gateway's view under its session's lease: it vanishes with the session.</summary>
    public static async Task<string> PublishAsync(EtcdStore store, GatewayView view, long leaseId, CancellationToken cancellation)
    {
        await store.TransactAsync([], [Mutation.Put(ViewKey(view.GatewayId), Encode(view), leaseId)], cancellation);
        return $"published the view of {view.GatewayId}: {string.Join(", ", view.Sites.OrderBy(s => s.Key).Select(s => $"{s.Key} {(s.Value.Healthy ? "healthy" : "down")}"))}";
    }

    /// <summary>Reads every live gateway's view.</summary>
    public static async Task<IReadOnlyList<GatewayView>> ReadAsync(EtcdStore store, CancellationToken cancellation) =>
        Decode((await store.ReadPrefixAsync(ViewsPrefix, cancellation)).Keys);

    private static readonly JsonSerializerOptions JsonOptions = new(JsonSerializerDefaults.Web);
}
