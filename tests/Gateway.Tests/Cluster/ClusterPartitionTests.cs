using Gateway.Tests.EndToEnd.Partitions;
using Gateway.Testing;
using Npgsql;
using Xunit.Abstractions;

namespace Gateway.Tests.Cluster;

/// <summary>
/// The leading gateway and its site cut off from the etcd majority and from the other gateway, under inserts through
/// both gateways' write endpoints (see <see cref="PartitionedClusterSystem"/> for who runs where).
/// </summary>
[Integration]
public sealed class ClusterPartitionTests(ITestOutputHelper output)
{
    private static readonly TimeSpan LeaseTtl = TimeSpan.Parse(ClusterSystem.LeaseTtl, System.Globalization.CultureInfo.InvariantCulture);

    [NetworkNamespaceFact]
    public async Task The_leader_cut_off_with_its_site_stops_writes_the_other_gateway_fails_over_no_two_primaries_take_writes_nothing_acknowledged_is_lost_and_after_healing_the_old_leader_follows()
    {
        if (EtcdCluster.WhyUnavailable is { } noEtcd)
        {
            throw new InvalidOperationException(noEtcd);
        }

        await using var system = await PartitionedClusterSystem.StartAsync();
        await system.Gateways["gw1"].WaitForAsync(s => s.Filestore is { InitialSync.Completed: true } && s.IfFailoverNow is { GatePasses: true },
            "ready to fail over", TimeSpan.FromSeconds(30));
        var epochBefore = (await system.Gateways["gw1"].StatusAsync()).Epoch;
        // The hardest case: etcd's leader on the cut-off side goes on renewing gw1's lease until it notices that it has
        // lost its quorum, so gw1 fences latest, and its supervisor has longest to make a wrong decision.
        var etcdLeader = await system.Etcd.MoveLeaderAsync(system.Etcd.Members[0]);

        await using var load = new SqlWriteLoad(new Dictionary<string, string> { ["gw1"] = system.WriteEndpoint(0), ["gw2"] = system.WriteEndpoint(1) }, system.SiteByAddress);
        await using var timeline = new StatusTimeline(system.Gateways, () => load.Now);
        await Task.Delay(TimeSpan.FromSeconds(3));

        var (cutAt, cutWall) = (load.Now, DateTimeOffset.UtcNow);
        await system.Network.PartitionSitesAsync();
        TimeSpan healedAt;
        StatusSample fenced, led, failedOver;
        try
        {
            fenced = await timeline.WaitForAsync("gw1", cutAt, s => s.Cluster is { WritesAllowed: false }, "fenced after the cut", TimeSpan.FromSeconds(10));
            led = await timeline.WaitForAsync("gw2", cutAt, s => s.Cluster is { Leader: "gw2", Role: "Lead" }, "leading after the cut", TimeSpan.FromSeconds(15));
            failedOver = await timeline.WaitForAsync("gw2", cutAt, s => s is { ActiveSite: "B", Switching: false, Database.Primary: "B" },
                "failed over to B", TimeSpan.FromSeconds(40));
            // Writes through gw2 on B for a moment while gw1 stays cut off.
            await Task.Delay(TimeSpan.FromSeconds(2));
        }
        finally
        {
            await system.Network.HealSitesAsync();
            healedAt = load.Now;
        }

        var following = await timeline.WaitForAsync("gw1", healedAt,
            s => s.Cluster is { Role: "Follow", Leader: "gw2", WritesAllowed: true } && s.Epoch == failedOver.Status.Epoch && s.Database.Primary == "B",
            "following gw2 by the new epoch", TimeSpan.FromSeconds(20));
        await Task.Delay(TimeSpan.FromSeconds(3));
        await load.StopAsync();

        var acknowledged = load.Acknowledged;
        var onB = await IdsOnAsync(system.Postgres.Standby);
        var lost = acknowledged.Where(w => !onB.Contains(w.Id)).ToList();
        var eras = PrimaryEras.Of(acknowledged);
        var overlaps = PrimaryEras.Overlaps(acknowledged);
        var throughGw1AfterHealing = acknowledged.Where(w => w.Gateway == "gw1" && w.Sent >= healedAt).ToList();
        // The fence as the clients saw it: write-endpoint connections to gw1 refused with 57P03 (its open sessions cut first).
        var refusedByFencedGw1 = load.Failed.Where(f => f.Gateway == "gw1" && f.Reason == "57P03" && f.Ended > cutAt && f.Sent < healedAt).ToList();
        var firstRefusal = refusedByFencedGw1.Select(f => (TimeSpan?)f.Ended).Min();
        var lastAckThroughGw1 = acknowledged.Where(w => w.Gateway == "gw1" && w.Acknowledged < healedAt).Select(w => w.Acknowledged).DefaultIfEmpty().Max();

        Assert.Equal("m1", etcdLeader);
        output.WriteLine($"etcd leader before the cut: {etcdLeader}; epoch before {epochBefore}, after the failover {failedOver.Status.Epoch}");
        output.WriteLine($"cut at {Ms(cutAt)} ms; last write acknowledged through gw1 before healing {Ms(lastAckThroughGw1 - cutAt)} ms after the cut; "
            + $"first write through gw1 refused with 57P03 {(firstRefusal is { } refused ? Ms(refused - cutAt) : "never")} ms after the cut, {refusedByFencedGw1.Count} refused while cut off; "
            + $"gw1's status said fenced by {Ms(fenced.At - cutAt)} ms after the cut, writes stopped by its own clock {FencedAfter(fenced.Status.Cluster!.Sentence, cutWall)} ms after the cut: \"{fenced.Status.Cluster.Sentence}\"");
        output.WriteLine($"gw2 led {Ms(led.At - cutAt)} ms after the cut; failed over to B (epoch {failedOver.Status.Epoch}) {Ms(failedOver.At - cutAt)} ms after the cut");
        output.WriteLine($"healed at {Ms(healedAt)} ms; gw1 followed gw2 by epoch {following.Status.Epoch} {Ms(following.At - healedAt)} ms after healing; "
            + $"{throughGw1AfterHealing.Count} writes through gw1 acknowledged since, on [{string.Join(", ", throughGw1AfterHealing.Select(w => w.Server).Distinct())}]");
        output.WriteLine($"primary eras: {string.Join("; ", eras)}; overlaps: {overlaps.Count}");
        output.WriteLine($"{acknowledged.Count} writes acknowledged, {load.Failed.Count} failed ({load.FailureReasons()}); lost (acknowledged, not on B): {lost.Count}");

        // The fence comes LeaseTtl - LeaseTtl/6 after the last renewal. When m1 led etcd it went on renewing alone until
        // it noticed it had lost its quorum: etcd's leader checks that once per election timeout (1 s), so up to 2 s after the cut.
        Assert.True(firstRefusal is { } stopped && stopped - cutAt <= LeaseTtl + TimeSpan.FromSeconds(2),
            $"gw1 refused writes {(firstRefusal is { } late ? $"only {Ms(late - cutAt)} ms after the cut" : "never")} (bound: LeaseTtl + two of etcd's 1 s election timeouts)");
        Assert.DoesNotContain(acknowledged, w => w.Gateway == "gw1" && w.Acknowledged > firstRefusal && w.Acknowledged < healedAt);
        // gw1's lease expires in etcd LeaseTtl after its last renewal, later by a re-election of etcd's leader if m1 led.
        Assert.True(led.At - cutAt <= 2 * LeaseTtl + TimeSpan.FromSeconds(1), $"gw2 led only {Ms(led.At - cutAt)} ms after the cut");
        Assert.Empty(overlaps);
        Assert.Equal(["A", "B"], eras.Select(e => e.Server));
        Assert.True(eras[1].WritesByGateway.GetValueOrDefault("gw2") > 0, "no write through gw2 reached B");
        Assert.True(lost.Count == 0, $"{lost.Count} acknowledged writes are not on B: {string.Join(", ", lost.Take(10))}");
        Assert.NotEmpty(throughGw1AfterHealing);
        Assert.All(throughGw1AfterHealing, w => Assert.Equal("B", w.Server));
        Assert.True(epochBefore < failedOver.Status.Epoch);
    }

    /// <summary>The fence's own time ("writes stopped at 13:40:47.717", UTC) after the cut, or "?" when the sentence has none.</summary>
    private static string FencedAfter(string sentence, DateTimeOffset cut)
    {
        var stopped = System.Text.RegularExpressions.Regex.Match(sentence, @"writes stopped at (\d\d:\d\d:\d\d\.\d+)");
        return stopped.Success && TimeSpan.TryParse(stopped.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture, out var at)
            ? Ms(new DateTimeOffset(cut.UtcDateTime.Date + at, TimeSpan.Zero) - cut)
            : "?";
    }

    private static string Ms(TimeSpan span) => span.TotalMilliseconds.ToString("0", System.Globalization.CultureInfo.InvariantCulture);

    private static async Task<HashSet<Guid>> IdsOnAsync(PostgresNode node)
    {
        await using var connection = new NpgsqlConnection(node.ConnectionString());
        await connection.OpenAsync();
        await using var select = new NpgsqlCommand($"SELECT id FROM {SqlWriteLoad.Table}", connection);
        await using var reader = await select.ExecuteReaderAsync();
        var ids = new HashSet<Guid>();
        while (await reader.ReadAsync())
        {
            ids.Add(reader.GetGuid(0));
        }

        return ids;
    }
}
