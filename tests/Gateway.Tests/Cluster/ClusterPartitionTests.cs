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
        var etcdLeader = await EtcdLeaderAsync(system.Etcd);

        await using var load = new SqlWriteLoad(new Dictionary<string, string> { ["gw1"] = system.WriteEndpoint(0), ["gw2"] = system.WriteEndpoint(1) }, system.SiteByAddress);
        await using var timeline = new StatusTimeline(system.Gateways, () => load.Now);
        await Task.Delay(TimeSpan.FromSeconds(3));

        var cutAt = load.Now;
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
        var refusedByFencedGw1 = load.Failed.Count(f => f.Gateway == "gw1" && f.Reason == "57P03" && f.Ended > cutAt && f.Sent < healedAt);
        var lastAckThroughGw1 = acknowledged.Where(w => w.Gateway == "gw1" && w.Acknowledged < healedAt).Select(w => w.Acknowledged).DefaultIfEmpty().Max();

        output.WriteLine($"etcd leader before the cut: {etcdLeader}; epoch before {epochBefore}, after the failover {failedOver.Status.Epoch}");
        output.WriteLine($"cut at {Ms(cutAt)} ms; gw1 fenced (status) {Ms(fenced.At - cutAt)} ms after the cut (\"{fenced.Status.Cluster!.Sentence}\"); "
            + $"last write acknowledged through gw1 before healing {Ms(lastAckThroughGw1 - cutAt)} ms after the cut; {refusedByFencedGw1} writes through gw1 refused with 57P03 while cut off");
        output.WriteLine($"gw2 led {Ms(led.At - cutAt)} ms after the cut; failed over to B (epoch {failedOver.Status.Epoch}) {Ms(failedOver.At - cutAt)} ms after the cut");
        output.WriteLine($"healed at {Ms(healedAt)} ms; gw1 followed gw2 by epoch {following.Status.Epoch} {Ms(following.At - healedAt)} ms after healing; "
            + $"{throughGw1AfterHealing.Count} writes through gw1 acknowledged since, on [{string.Join(", ", throughGw1AfterHealing.Select(w => w.Server).Distinct())}]");
        output.WriteLine($"primary eras: {string.Join("; ", eras)}; overlaps: {overlaps.Count}");
        output.WriteLine($"{acknowledged.Count} writes acknowledged, {load.Failed.Count} failed ({load.FailureReasons()}); lost (acknowledged, not on B): {lost.Count}");

        Assert.True(fenced.At - cutAt <= LeaseTtl + TimeSpan.FromSeconds(1),
            $"gw1 stopped writes only {Ms(fenced.At - cutAt)} ms after the cut (bound: LeaseTtl + etcd's 1 s election timeout)");
        Assert.True(fenced.At < led.At, $"gw2 led at {Ms(led.At)} ms, before gw1 was seen fenced at {Ms(fenced.At)} ms");
        Assert.True(refusedByFencedGw1 > 0, "no write through the cut-off gw1 was refused with 57P03");
        Assert.Empty(overlaps);
        Assert.Equal(["A", "B"], eras.Select(e => e.Server));
        Assert.True(eras[1].WritesByGateway.GetValueOrDefault("gw2") > 0, "no write through gw2 reached B");
        Assert.True(lost.Count == 0, $"{lost.Count} acknowledged writes are not on B: {string.Join(", ", lost.Take(10))}");
        Assert.NotEmpty(throughGw1AfterHealing);
        Assert.All(throughGw1AfterHealing, w => Assert.Equal("B", w.Server));
        Assert.True(epochBefore < failedOver.Status.Epoch);
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

    /// <summary>Which member leads etcd (it matters: a leader in site A keeps renewing gw1's lease until it notices it lost its quorum).</summary>
    private static async Task<string> EtcdLeaderAsync(EtcdCluster etcd)
    {
        using var statuses = System.Text.Json.JsonDocument.Parse(await etcd.EtcdctlAsync("endpoint", "status", "-w", "json"));
        var leader = statuses.RootElement.EnumerateArray()
            .FirstOrDefault(e => e.GetProperty("Status").GetProperty("header").GetProperty("member_id").GetUInt64() == e.GetProperty("Status").GetProperty("leader").GetUInt64());
        var endpoint = leader.ValueKind == System.Text.Json.JsonValueKind.Undefined ? "" : leader.GetProperty("Endpoint").GetString();
        return etcd.Members.FirstOrDefault(m => m.ClientUrl == endpoint)?.Name ?? "unknown";
    }
}
