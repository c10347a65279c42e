using Gateway.Routing;

namespace Gateway.Tests.Routing;

public sealed class LeastLoadedTests
{
    [Fact]
    public void The_candidate_with_the_fewest_requests_in_flight_wins()
    {
        var loads = new Dictionary<string, int> { ["a1"] = 3, ["a2"] = 1, ["b1"] = 2 };
        var picked = LeastLoaded.Pick(loads.Keys.ToList(), id => loads[id], new Random(1));
        Assert.Equal("a2", picked);
    }

    [Fact]
    public void Ties_are_spread_over_every_tied_candidate()
    {
        var candidates = new[] { "a1", "a2", "b1", "b2" };
        var random = new Random(42);
        var counts = candidates.ToDictionary(c => c, _ => 0);
        for (var i = 0; i < 4000; i++)
        {
            counts[LeastLoaded.Pick(candidates, _ => 0, random)]++;
        }

        // Each of four equally loaded candidates gets about a quarter; far from all-on-the-first.
        Assert.All(counts.Values, count => Assert.InRange(count, 800, 1200));
    }

    [Fact]
    public void A_less_loaded_candidate_is_never_passed_over_for_a_tie_among_busier_ones()
    {
        var loads = new Dictionary<string, int> { ["a1"] = 2, ["a2"] = 2, ["b1"] = 0, ["b2"] = 2 };
        var random = new Random(7);
        for (var i = 0; i < 100; i++)
        {
            Assert.Equal("b1", LeastLoaded.Pick(loads.Keys.ToList(), id => loads[id], random));
        }
    }

    [Fact]
    public void No_candidate_is_an_error_not_a_silent_null() =>
        Assert.Throws<ArgumentException>(() => LeastLoaded.Pick(Array.Empty<string>(), _ => 0, new Random()));
}
