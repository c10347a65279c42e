using Gateway.Configuration;
using Gateway.Filestore;
using Gateway.Model;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Gateway.Tests.Filestore;

public sealed class FilestoreReplicationTests : IDisposable
{
    private readonly SanPair _sans = new();

    public void Dispose() => _sans.Dispose();

    private FilestoreReplication Replication(string activeSite, params string[] links) => new(
        new SiteTopology([new SiteOptions { Id = "A", SanPath = _sans.SanA }, new SiteOptions { Id = "B", SanPath = _sans.SanB }]),
        new ActiveSiteState(activeSite),
        Options.Create(new GatewayOptions { StateDirectory = Path.Combine(_sans.Root, "state"), Filestore = new FilestoreOptions { Links = [.. links] } }),
        SanPair.Options(),
        TimeProvider.System,
        NullLogger<FilestoreReplicator>.Instance);

    [Fact]
    public async Task It_replicates_from_the_active_site_and_a_failover_syncs_stops_then_reverses()
    {
        await using var replication = Replication("A");
        Assert.Null(replication.Status);
        await replication.StartAsync(CancellationToken.None);
        Assert.Equal(_sans.AToB, replication.Status!.Direction);

        File.WriteAllText(_sans.A("deposit"), "acknowledged before the failover");
        var final = await replication.FinalSyncAndStopAsync(TimeSpan.FromSeconds(30), CancellationToken.None);
        Assert.True(final.TargetIsCompleteReplica, final.Failure);
        Assert.Null(replication.Status);
        File.WriteAllText(_sans.A("late"), "written on A after the final sync: kept, copied to B");
        File.WriteAllText(_sans.A("after"), "an older version on A: must never replace B's");

        await replication.ReplicateFromAsync("B", CancellationToken.None);
        Assert.Equal(_sans.AToB.Reversed(), replication.Status!.Direction);
        await replication.ReplicateFromAsync("B", CancellationToken.None);
        File.WriteAllText(_sans.B("after"), "written on B after the failover");
        await Eventually.HoldsAsync(() => File.ReadAllText(_sans.A("after")) == "written on B after the failover", () => $"{replication.Status}");

        // The old site's late file is not deleted (the new source never had it): it is copied back to the new source.
        await Eventually.HoldsAsync(() => File.Exists(_sans.B("late")), () => $"{replication.Status}");
        Assert.Equal("written on B after the failover", File.ReadAllText(_sans.B("after")));
        await replication.StopAsync(CancellationToken.None);
        Assert.Null(replication.Status);
    }

    [Fact]
    public async Task At_start_it_replicates_from_the_SAN_the_link_points_at_even_when_the_persisted_active_site_is_the_other()
    {
        // A restart in the middle of a switch to B: the state already names B, the link still points at SAN A.
        var link = Path.Combine(_sans.Root, "filestore");
        File.CreateSymbolicLink(link, _sans.SanA);
        await using var replication = Replication("B", link);

        await replication.StartAsync(CancellationToken.None);

        Assert.Equal(_sans.AToB, replication.Status!.Direction);
    }

    [Fact]
    public async Task A_final_sync_with_nothing_running_is_an_error_that_says_so()
    {
        await using var replication = Replication("A");
        var failure = await Assert.ThrowsAsync<InvalidOperationException>(() => replication.FinalSyncAndStopAsync(TimeSpan.FromSeconds(1), CancellationToken.None));
        Assert.Equal("no filestore replication is running, so there is nothing to sync", failure.Message);
    }
}
