using Gateway.Cluster;

namespace Gateway.Tests.Cluster;

public sealed class MemberViewTests
{
    private static readonly DateTimeOffset Now = new(2025, 1, 1, 12, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan MaxAge = TimeSpan.FromSeconds(3);

    /// <summary>What one gateway's published view says about site A.</summary>
    public enum Seen { Healthy, Down, StaleDown, StaleHealthy, SiteMissing }

    private static GatewayView View(string id, Seen seen)
    {
        var stale = seen is Seen.StaleDown or Seen.StaleHealthy;
        var asOf = stale ? Now - MaxAge - TimeSpan.FromSeconds(1) : Now - TimeSpan.FromMilliseconds(300);
        var sites = new Dictionary<string, SiteObservation> { ["B"] = new(true, Now.AddMinutes(-5)) };
        if (seen != Seen.SiteMissing)
        {
            sites["A"] = new(seen is Seen.Healthy or Seen.StaleHealthy, Now.AddSeconds(-Array.IndexOf(Ids, id) - 2));
        }

        return new(id, asOf, sites);
    }

    private static readonly string[] Ids = ["gw-a", "gw-b", "gw-c"];

    /// <summary>Every combination of what one to three live gateways see of site A, judged by each of them.</summary>
    public static IEnumerable<object[]> Combinations()
    {
        var kinds = Enum.GetValues<Seen>();
        for (var n = 1; n <= 3; n++)
        {
            foreach (var combination in Product(kinds, n))
            {
                yield return [combination];
            }
        }
    }

    private static IEnumerable<Seen[]> Product(Seen[] kinds, int n) =>
        n == 0 ? [[]] : Product(kinds, n - 1).SelectMany(rest => kinds.Select(k => (Seen[])[.. rest, k]));

    [Theory]
    [MemberData(nameof(Combinations))]
    public void A_site_is_dead_only_when_every_gateway_with_a_session_freshly_sees_it_down(Seen[] combination)
    {
        var views = combination.Select((seen, i) => View(Ids[i], seen)).ToList();
        foreach (var judge in views.Select(v => v.GatewayId))
        {
            var verdict = MemberView.Judge("A", judge, views, Now, MaxAge);
            var allFreshDown = combination.All(s => s == Seen.Down);
            var someoneSeesItHealthy = combination.Any(s => s == Seen.Healthy);
            Assert.Equal(allFreshDown, verdict.Kind == SiteVerdictKind.Dead);
            Assert.Equal(someoneSeesItHealthy, verdict.Kind == SiteVerdictKind.Alive);
            Assert.Equal(!allFreshDown && !someoneSeesItHealthy, verdict.Kind == SiteVerdictKind.Undecided);
            if (verdict.Kind == SiteVerdictKind.Dead)
            {
                // Agreement starts when the last gateway saw the site go down.
                Assert.Equal(views.Max(v => v.Sites["A"].Since), verdict.DeadSince);
            }
            else
            {
                Assert.Null(verdict.DeadSince);
            }
        }
    }

    [Fact]
    public void A_leader_that_cannot_see_a_site_another_gateway_still_sees_does_not_accuse_it()
    {
        var views = new[] { View("gw-a", Seen.Down), View("gw-b", Seen.Healthy) };
        var verdict = MemberView.Judge("A", "gw-a", views, Now, MaxAge);
        Assert.Equal(SiteVerdictKind.Alive, verdict.Kind);
        Assert.Equal("site A is not dead: gw-b sees it healthy", verdict.Sentence);
    }

    [Fact]
    public void A_gateway_whose_session_ended_no_longer_counts_and_the_others_decide()
    {
        // gw-b's view vanished with its lease: only the live gateways' views are in etcd.
        var verdict = MemberView.Judge("A", "gw-a", [View("gw-a", Seen.Down), View("gw-c", Seen.Down)], Now, MaxAge);
        Assert.Equal(SiteVerdictKind.Dead, verdict.Kind);
        Assert.Contains("(gw-a, gw-c)", verdict.Sentence, StringComparison.Ordinal);
    }

    [Fact]
    public void A_judge_without_a_view_of_its_own_accuses_nothing()
    {
        var verdict = MemberView.Judge("A", "gw-c", [View("gw-a", Seen.Down), View("gw-b", Seen.Down)], Now, MaxAge);
        Assert.Equal(SiteVerdictKind.Undecided, verdict.Kind);
        Assert.Contains("no view of its own", verdict.Sentence, StringComparison.Ordinal);
    }

    [Fact]
    public void Views_round_trip_through_their_keys_and_an_unreadable_or_misplaced_one_is_skipped()
    {
        var view = View("gw-a", Seen.Down);
        StoredKey[] keys =
        [
            new("views/gw-a", MemberView.Encode(view), 5, 5, 1, 0x42),
            new("views/gw-b", "not json", 6, 6, 1, 0x43),
            new("views/gw-c", MemberView.Encode(View("gw-z", Seen.Down)), 7, 7, 1, 0x44),
        ];
        var decoded = Assert.Single(MemberView.Decode(keys));
        Assert.Equal(view.GatewayId, decoded.GatewayId);
        Assert.Equal(view.AsOf, decoded.AsOf);
        Assert.Equal(view.Sites, decoded.Sites);
    }

    [Theory]
    [MemberData(nameof(Combinations))]
    public void A_site_is_unaccused_only_when_every_gateway_with_a_session_has_a_fresh_view_that_sees_it_healthy(Seen[] seen)
    {
        var views = seen.Select((s, i) => View(Ids[i], s)).ToList();
        foreach (var self in Ids.Take(seen.Length))
        {
            var (unaccused, sentence) = MemberView.JudgeUnaccused("A", self, views, Now, MaxAge);
            Assert.Equal(seen.All(s => s == Seen.Healthy), unaccused);
            Assert.Contains("site A", sentence, StringComparison.Ordinal);
        }

        Assert.False(MemberView.JudgeUnaccused("A", "gw-z", views, Now, MaxAge).Unaccused);
    }
}
