using Gateway.Database.Observation;
using static Gateway.Tests.Support.Observations;

namespace Gateway.Tests.Database.Observation;

public sealed class DatabaseSnapshotTests
{
    public static TheoryData<string, DatabaseSnapshot, string?> FollowingCases() => new()
    {
        { "streaming on the primary's timeline", Snapshot(Primary("A", 100), Standby("B", 100, 90)), null },
        { "primary down", Snapshot(Down("A", TimeSpan.FromSeconds(1), 100), Standby("B", 100, 90)), "the node of site A is not a reachable primary" },
        { "both primaries", Snapshot(Primary("A", 100), Primary("B", 100)), "the node of site B is not a reachable standby" },
        { "standby down", Snapshot(Primary("A", 100), Down("B", TimeSpan.FromSeconds(1), wasStandby: true)), "the node of site B is not a reachable standby" },
        { "nothing streams", Snapshot(Primary("A", 100, streamingStandby: false), Standby("B", 100, 90)), "site A has no streaming standby" },
        { "receiver not connected", Snapshot(Primary("A", 100), Standby("B", 100, 90) with { Timeline = null }), "the WAL receiver of site B is not connected" },
        {
            "diverged: still on the old timeline", Snapshot(Primary("A", 100) with { Timeline = 2 }, Standby("B", 100, 90)),
            "site B receives timeline 1 while site A writes timeline 2"
        },
    };

    [Theory]
    [MemberData(nameof(FollowingCases))]
    public void A_standby_follows_only_when_the_primary_streams_to_it_on_its_own_timeline(string situation, DatabaseSnapshot snapshot, string? expected)
    {
        Assert.True(expected == snapshot.WhyNotFollowing("A", "B"), $"{situation}: got '{snapshot.WhyNotFollowing("A", "B")}', expected '{expected}'");
    }
}
