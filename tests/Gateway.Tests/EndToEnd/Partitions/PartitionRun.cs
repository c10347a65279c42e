using System.Diagnostics;
using Gateway.Testing;
using Gateway.Tests.Support;
using Xunit.Abstractions;

namespace Gateway.Tests.EndToEnd.Partitions;

/// <summary>
/// One partition scenario's run: deposits and reads through the gateway (a <see cref="DepositWorkload"/>) and the 100 ms
/// primary poller from start to end, both on the workload's clock, with the fault injected by the test in between;
/// afterwards, what the checks need.
/// </summary>
public sealed class PartitionRun
{
    private readonly PartitionedSystem _system;
    private readonly ITestOutputHelper _output;
    private readonly PrimaryPoller _poller;

    private PartitionRun(PartitionedSystem system, ITestOutputHelper output)
    {
        _system = system;
        _output = output;
        // 10 deposits and 10 reads a second. A request caught by a cut hangs until its timeout; 10 s keeps the run
        // bounded (it counts as failed).
        Workload = new DepositWorkload(system.Gateway.Public, "partition", depositsPerSecond: 10, readsPerSecond: 10)
        {
            RequestTimeout = TimeSpan.FromSeconds(10),
        };
        Workload.Start();
        _poller = PrimaryPoller.Start(system, () => Workload.Now);
    }

    public DepositWorkload Workload { get; }

    /// <summary>The run's clock (the workload's) in ms, as the polls and marks have it.</summary>
    public long NowMs => (long)Workload.Now.TotalMilliseconds;

    public static PartitionRun Start(PartitionedSystem system, ITestOutputHelper output) => new(system, output);

    /// <summary>Writes down what happened when, for the test's output.</summary>
    public long Mark(string what)
    {
        var at = NowMs;
        _output.WriteLine($"{at,6} ms  {what}");
        return at;
    }

    /// <summary>Stops the workload and the poller, prints the polls and the failed requests, and returns the polls.</summary>
    public async Task<PrimaryPollReport> StopAsync()
    {
        await Workload.StopAsync();
        var report = await _poller.StopAsync();
        _output.WriteLine(report.Describe());
        _output.WriteLine($"failed requests by reason: {Workload.FailureReasons()}");
        return report;
    }

    public long? FirstAcknowledgedAfter(long atMs) =>
        Workload.Acknowledged.Select(ack => (long?)ack.At.TotalMilliseconds).Where(ack => ack > atMs).Min();

    /// <summary>How many of the acknowledged deposits <paramref name="node"/> holds, asked directly (not through the gateway).</summary>
    public async Task<long> AcknowledgedPresentOnAsync(PostgresNode node)
    {
        var ids = string.Join(',', Workload.Acknowledged.Select(ack => ack.Id));
        return await node.ScalarAsync<long>($"SELECT count(*) FROM deposits WHERE id = ANY('{{{ids}}}'::uuid[])", "broker");
    }

    /// <summary>
    /// The <see cref="ConsistencyChecker"/> on both databases (asked at their sites' addresses) and both SANs: no acknowledged
    /// deposit lost, nothing unexpected, duplicated or corrupted, and writes now go to <paramref name="site"/>'s database
    /// and SAN. An old primary the gateway fenced (read-only until it rejoins) does not count as a second writable node.
    /// </summary>
    public async Task AssertConsistentAsync(string site)
    {
        var report = await ConsistencyChecker.CheckAsync(Workload, _system.Postgres, _system.Settings, exceptFenced: true);
        _output.WriteLine(report.ToString());
        Assert.True(report.IsClean, $"{report}; {report.Details()}");
        Assert.Equal($"database {site}, SAN {site}", report.Surviving);
    }

    /// <summary>Waits (bounded) until <paramref name="condition"/> holds; fails with <paramref name="what"/> otherwise.</summary>
    public static async Task WaitUntilAsync(Func<Task<bool>> condition, TimeSpan limit, string what)
    {
        var deadline = Stopwatch.StartNew();
        while (!await condition())
        {
            Assert.True(deadline.Elapsed < limit, $"{what}: not within {limit.TotalSeconds:0} s");
            await Task.Delay(100);
        }
    }
}
