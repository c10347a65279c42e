using System.Diagnostics;
using System.Globalization;
using Gateway.Testing;
using Gateway.Tests.Support;
using Xunit.Abstractions;

namespace Gateway.Tests.Cluster;

/// <summary>
/// The cluster benchmarks of bench/cluster/run.sh, on the real system of <see cref="ClusterSystem"/> (two gateway
/// processes, three etcd members, a PostgreSQL pair, four brokers). They run only when GATEWAY_CLUSTER_BENCH says
/// which ("failover" or "all"). The lines they print are what the script turns into bench/RESULTS.md; timings are
/// printed, never asserted (the bench reads them, not the suite).
/// </summary>
[Integration]
public sealed class ClusterBenchmarks(ITestOutputHelper output)
{

    /// <summary>
    /// kill -9 of the leading gateway, ten times (GATEWAY_CLUSTER_BENCH_KILLS), under 100 deposits/s and 20 reads/s
    /// through the other gateway: the time from the kill until the other leads (its status polled), and the longest
    /// window in which clients saw no acknowledged deposit. The killed gateway is started again and follows before
    /// the next round, which kills whichever gateway leads then. The brokers reach the database through either
    /// gateway's write endpoint, so killing either one leaves them a route.
    /// </summary>
    [BenchmarkFact("GATEWAY_CLUSTER_BENCH", "bench/cluster/run.sh", "failover")]
    public async Task Bench_leader_failover_over_ten_kills_under_load()
    {
        var kills = int.TryParse(Environment.GetEnvironmentVariable("GATEWAY_CLUSTER_BENCH_KILLS"), out var n) ? n : 10;
        await using var system = await ClusterSystem.StartAsync(brokersThroughBoth: true);
        var takeovers = new List<double>();
        var pauses = new List<double>();
        var (acknowledged, failed, lost) = (0, 0, 0);
        for (var round = 1; round <= kills; round++)
        {
            var leader = (await system.Gateways[0].StatusAsync()).Cluster?.Leader == "gw1" ? 0 : 1;
            var survivor = 1 - leader;
            var survivorId = $"gw{survivor + 1}";
            await using var workload = new DepositWorkload(system.Gateways[survivor].Public, $"bench-kill-{round}", depositsPerSecond: 100, readsPerSecond: 20);
            workload.Start();
            await Task.Delay(2000);

            var killedAt = workload.Now;
            var clock = Stopwatch.StartNew();
            system.Gateways[leader].Kill();
            await system.Gateways[survivor].WaitForAsync(s => s.Cluster is { Role: "Lead" } && s.Cluster.Leader == survivorId, "leading after the kill", TimeSpan.FromSeconds(15));
            var takeover = clock.Elapsed.TotalMilliseconds;
            await Task.Delay(3000);
            await workload.StopAsync();

            var pause = workload.LongestWindowWithoutWrite(killedAt, workload.Now).TotalMilliseconds;
            var report = await ConsistencyChecker.CheckAsync(workload, system.Postgres, system.Settings[0]);
            takeovers.Add(takeover);
            pauses.Add(pause);
            (acknowledged, failed, lost) = (acknowledged + workload.Acknowledged.Count, failed + workload.Failures.Count, lost + report.Lost.Count);
            output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"bench failover: kill {round}: gw{leader + 1} killed, {survivorId} led after {takeover:0} ms; write pause {pause:0} ms; {workload.Acknowledged.Count} deposits acknowledged, {workload.Failures.Count} failed, {report.Lost.Count} lost"));
            if (workload.Failures.Count > 0)
            {
                output.WriteLine($"bench failover: kill {round}: failures: {workload.FailureReasons()}");
            }


            system.Gateways[leader].Start();
            await system.Gateways[leader].WaitForAsync(s => s.Cluster is { Role: "Follow", WritesAllowed: true }, "following again", TimeSpan.FromSeconds(30));
            await system.Gateways[leader].WaitForAsync(s => s.Instances.All(i => i.Health == "Healthy"), "every instance healthy", TimeSpan.FromSeconds(30));
        }

        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"bench failover: {kills} kills: new leader after median {Median(takeovers):0} ms, max {takeovers.Max():0} ms; write pause median {Median(pauses):0} ms, max {pauses.Max():0} ms; {acknowledged} deposits acknowledged, {failed} failed, {lost} lost (LeaseTtl {ClusterSystem.LeaseTtl})"));
    }

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[(sorted.Count / 2) - 1] + sorted[sorted.Count / 2]) / 2;
    }
}
