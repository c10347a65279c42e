using Gateway.Cluster;

namespace Gateway.Tests.Cluster;

public sealed class ClusterReadinessTests
{
    private static readonly DateTimeOffset T0 = new(2025, 1, 1, 12, 0, 0, TimeSpan.Zero);

    private static LeadershipStatus Status(LeadershipRole role, DateTimeOffset? fenceAt, int generation = 1, string? leader = "gw1") =>
        new(role, $"the election says {role}", leader, 0x42, fenceAt, TimeSpan.FromMilliseconds(3), 17, generation, T0);

    [Fact]
    public void A_leader_or_follower_with_a_valid_session_and_the_epoch_read_since_is_ready()
    {
        var leading = ClusterReadiness.Judge(Status(LeadershipRole.Lead, T0.AddSeconds(2)), T0, fenced: false, epochReadForGeneration: 1, epoch: 7);
        Assert.True(leading.Ready);
        Assert.Equal("ready: leads, routes by epoch 7, session trusted for 2.0 s", leading.Reason);

        var following = ClusterReadiness.Judge(Status(LeadershipRole.Follow, T0.AddSeconds(1.5)), T0, fenced: false, epochReadForGeneration: 1, epoch: 7);
        Assert.True(following.Ready);
        Assert.StartsWith("ready: follows gw1, routes by epoch 7", following.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void A_fenced_session_is_not_ready_and_says_why()
    {
        var fenced = ClusterReadiness.Judge(Status(LeadershipRole.FenceWrites, null), T0, fenced: true, epochReadForGeneration: 1, epoch: 7);
        Assert.False(fenced.Ready);
        Assert.Equal("no valid cluster session: the election says FenceWrites", fenced.Reason);
    }

    [Fact]
    public void A_session_past_its_fence_deadline_is_not_ready_even_before_the_election_has_said_so()
    {
        var late = ClusterReadiness.Judge(Status(LeadershipRole.Follow, T0), T0, fenced: false, epochReadForGeneration: 1, epoch: 7);
        Assert.False(late.Ready);
        Assert.Contains("no longer trusted", late.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void A_renewed_session_is_not_ready_until_the_current_epoch_has_been_read_for_it()
    {
        // A new session (generation 2) after a lost one: the runtime read the epoch for generation 1 only.
        var unread = ClusterReadiness.Judge(Status(LeadershipRole.Follow, T0.AddSeconds(2), generation: 2), T0, fenced: false, epochReadForGeneration: 1, epoch: 7);
        Assert.False(unread.Ready);
        Assert.Contains("current epoch has not been read", unread.Reason, StringComparison.Ordinal);

        // Still fenced by the runtime although the session is back: not ready either.
        var stillFenced = ClusterReadiness.Judge(Status(LeadershipRole.Follow, T0.AddSeconds(2)), T0, fenced: true, epochReadForGeneration: 1, epoch: 7);
        Assert.False(stillFenced.Ready);
    }
}
