using System.Net.Http.Json;
using Gateway.Coordinator.Admin;
using Gateway.Coordinator.Switching;
using Xunit.Abstractions;

namespace Gateway.Tests.EndToEnd.Partitions;

/// <summary>
/// The link between the two sites is cut for 10 s under load and restored. The gateway still reaches both sites, so it
/// should not fail over, and B should catch up by itself once the link is back. Whatever happens in between, a client
/// never reaches two primaries through the gateway, and no acknowledged deposit is lost. In Degrade mode writes go on
/// during the cut: a standby that has not answered pending WAL for 2 s counts as gone, although pg_stat_replication
/// says "streaming" until wal_sender_timeout (before that, 0 or 1 deposits were acknowledged during the 10 s cut).
/// </summary>
[Integration]
public sealed class SitePartitionTests(PartitionedSystem system, ITestOutputHelper output) : IClassFixture<PartitionedSystem>
{
    private static readonly TimeSpan Partition = TimeSpan.FromSeconds(10);

    [NetworkNamespaceFact]
    public async Task Cutting_the_link_between_the_sites_under_load_never_shows_two_primaries_through_the_gateway_and_loses_no_acknowledged_deposit()
    {
        var network = system.Network;
        var (primary, standby) = (system.Postgres.Primary, system.Postgres.Standby);
        var run = PartitionRun.Start(system, output);
        await Task.Delay(3000);

        var cutAt = run.Mark($"cutting the link between {network.A.SiteAddress} and {network.B.SiteAddress}");
        await network.PartitionSitesAsync();
        long writtenOnA, receivedOnB;
        try
        {
            await Task.Delay(Partition);
            // The cut is real only if B stopped receiving what A went on writing.
            writtenOnA = await primary.ScalarAsync<long>("SELECT (pg_current_wal_lsn() - '0/0')::bigint");
            receivedOnB = await standby.ScalarAsync<long>("SELECT (pg_last_wal_receive_lsn() - '0/0')::bigint");
        }
        finally
        {
            await network.HealSitesAsync();
        }

        var healedAt = run.Mark($"link restored; during the cut A wrote WAL up to {writtenOnA}, B had received up to {receivedOnB}");
        await Task.Delay(5000);
        var report = await run.StopAsync();

        var writesDuringCut = run.Workload.Acknowledged.Count(ack => ack.At.TotalMilliseconds > cutAt && ack.At.TotalMilliseconds < healedAt);
        output.WriteLine($"deposits acknowledged during the cut: {writesDuringCut}; longest time without an acknowledged deposit: {run.Workload.LongestWindowWithoutWrite().TotalMilliseconds:0} ms");
        var history = (await system.Gateway.Admin.GetFromJsonAsync<List<SiteSwitchReport>>("/admin/history", AdminRequests.Json))!;
        history.ForEach(switched => output.WriteLine($"switch: {switched.Summary}"));

        Assert.True(receivedOnB < writtenOnA, $"B received WAL up to {receivedOnB} although A wrote up to {writtenOnA}: the sites were not cut apart");
        Assert.Equal(0, report.LongestRunOfTwoPrimariesThroughGateway);
        Assert.NotNull(run.FirstAcknowledgedAfter(healedAt));
        Assert.True(writesDuringCut > 0, "no deposit was acknowledged during the 10 s cut: commits waited for the unreachable standby");
        if (history.Count == 0)
        {
            // As it should be: the gateway still saw a working site A.
            Assert.Equal(["A"], report.WriteEndpointPrimaries);
            Assert.Equal("A", (await system.Gateway.StatusAsync()).ActiveSite);
            await run.AssertConsistentAsync("A");
            // What A acknowledged reaches B once the link is back: replication resumed by itself.
            await PartitionRun.WaitUntilAsync(
                async () => await run.AcknowledgedPresentOnAsync(standby) == run.Workload.Acknowledged.Count,
                TimeSpan.FromSeconds(20), "B holds every acknowledged deposit after the link is back");
        }
        else
        {
            // Writes stalled on A long enough for its brokers to look dead: tolerated only as one clean failover.
            var failover = Assert.Single(history);
            Assert.True(failover.Succeeded, failover.Summary);
            Assert.Equal(["A", "B"], report.WriteEndpointPrimaries);
            await run.AssertConsistentAsync("B");
        }
    }
}
