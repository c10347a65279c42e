using System.Diagnostics;
using Gateway.Cluster;
using Gateway.Coordinator.Pausing;
using Gateway.Model;
using Gateway.Testing;
using static Gateway.Tests.Cluster.EtcdTestSupport;

namespace Gateway.Tests.Cluster;

/// <summary>The shared state in a real etcd: only the leader changes it, only from the state it last knew, and the epoch only grows.</summary>
public sealed class EtcdStateStoreTests : IAsyncLifetime
{
    private EtcdCluster _etcd = null!;
    private readonly List<RunningElection> _gateways = [];
    private readonly string _name = UniqueName("state");

    public async Task InitializeAsync()
    {
        if (EtcdCluster.WhyUnavailable is null)
        {
            _etcd = await EtcdCluster.StartAsync(1);
        }
    }

    public async Task DisposeAsync()
    {
        foreach (var gateway in _gateways)
        {
            await gateway.DisposeAsync();
        }

        if (_etcd is not null)
        {
            await _etcd.DisposeAsync();
        }
    }

    private async Task<(RunningElection Leader, RunningElection Follower)> TwoGatewaysAsync()
    {
        var clock = Stopwatch.StartNew();
        _gateways.Add(await RunningElection.StartAsync(Options(_etcd.ClientUrls, _name, "gw-a"), clock));
        _gateways.Add(await RunningElection.StartAsync(Options(_etcd.ClientUrls, _name, "gw-b"), clock));
        var deadline = Stopwatch.StartNew();
        while (_gateways.Count(g => g.Election.Status.IsLeader) != 1 || _gateways.Any(g => g.Election.Status.Leader is null))
        {
            Assert.True(deadline.Elapsed < TimeSpan.FromSeconds(20), "no single leader within 20 s");
            await Task.Delay(50);
        }

        return (_gateways.Single(g => g.Election.Status.IsLeader), _gateways.Single(g => !g.Election.Status.IsLeader));
    }

    [EtcdFact]
    public async Task The_leader_changes_the_state_a_follower_and_a_stale_decision_are_refused_and_the_epoch_never_goes_down()
    {
        var (leader, follower) = await TwoGatewaysAsync();
        var leaderStore = new EtcdStateStore(leader.Store, leader.Election);
        var followerStore = new EtcdStateStore(follower.Store, follower.Election);
        leaderStore.Save(null, DurableState.Initial("A", DateTimeOffset.UnixEpoch));
        var leaderState = new GatewayState(leaderStore, leaderStore.Load()!);
        var followerState = new GatewayState(followerStore, followerStore.Load()!);

        leaderState.Change(s => s with { Epoch = s.Epoch + 1, DatabasePrimary = "B" });

        // The follower decided from epoch 1, which etcd no longer holds; and it does not lead anyway.
        var stale = Assert.Throws<StateNotSavedException>(() => followerState.Change(s => s with { Epoch = s.Epoch + 1, ActiveSite = "B" }));
        Assert.Contains("leader", stale.Message);
        var backwards = Assert.Throws<StateNotSavedException>(() => leaderState.Change(s => s with { Epoch = 1 }));
        Assert.Contains("only grows", backwards.Message);
        Assert.Equal((2L, "B", "A"), (followerStore.Load()!.Epoch, followerStore.Load()!.DatabasePrimary, followerStore.Load()!.ActiveSite));
        Assert.Equal(leaderState.Current, new EtcdStateStore(follower.Store, follower.Election).Load());
    }

    [EtcdFact]
    public async Task A_pause_the_leader_saves_is_seen_by_a_follower_which_cannot_change_it_and_a_new_leader_can_end_it()
    {
        var (leader, follower) = await TwoGatewaysAsync();
        var followerPause = new AutomaticFailoverPause(new EtcdPauseStore(follower.Store, follower.Election));
        Assert.Null(followerPause.Current);
        var leaderPause = new AutomaticFailoverPause(new EtcdPauseStore(leader.Store, leader.Election));
        var now = new DateTimeOffset(2026, 12, 7, 12, 0, 0, TimeSpan.Zero);

        Assert.Null(leaderPause.Pause("patching site A", "alice", TimeSpan.FromHours(2), now));

        // Decided from "not paused", which etcd no longer holds, by a gateway that does not lead: refused, nothing changed.
        Assert.Throws<StateNotSavedException>(() => followerPause.Pause("something else", "bob", TimeSpan.FromHours(1), now));
        var seen = new AutomaticFailoverPause(new EtcdPauseStore(follower.Store, follower.Election));
        Assert.Equal(leaderPause.Current, seen.Current);
        Assert.Equal(now + TimeSpan.FromHours(2), seen.Current!.Until);
        var notLeader = Assert.Throws<StateNotSavedException>(() => seen.Resume());
        Assert.Contains("leader", notLeader.Message);
        Assert.Equal("patching site A", new EtcdPauseStore(follower.Store, follower.Election).Load()?.Reason);

        // The leader goes: the other gateway leads, still sees the pause, and may end it.
        _gateways.Remove(leader);
        await leader.DisposeAsync();
        var deadline = Stopwatch.StartNew();
        while (!follower.Election.Status.IsLeader)
        {
            Assert.True(deadline.Elapsed < TimeSpan.FromSeconds(10), "the follower did not lead within 10 s of the leader's end");
            await Task.Delay(50);
        }

        Assert.Equal("alice", seen.Resume()?.By);
        Assert.Null(new EtcdPauseStore(follower.Store, follower.Election).Load());
    }
}
