using System.Diagnostics;
using Gateway.Testing;
using Gateway.Tests.Support;
using Xunit.Abstractions;

namespace Gateway.Tests.EndToEnd.Partitions;

/// <summary>
/// One partition scenario's run: deposits and reads through the gateway and the 100 ms primary poller from start to
/// end, with the fault injected by the test in between; afterwards, what the checks need.
/// </summary>
public sealed class PartitionRun
{
    private static readonly TimeSpan LoadPeriod = TimeSpan.FromMilliseconds(100);

    private readonly PartitionedSystem _system;
    private readonly ITestOutputHelper _output;
    private readonly CancellationTokenSource _stop = new();
    private readonly PrimaryPoller _poller;
    private readonly Task _load;

    private PartitionRun(PartitionedSystem system, ITestOutputHelper output)
    {
        _system = system;
        _output = output;
        // A request caught by a cut hangs until its timeout; 10 s keeps the run bounded (it counts as failed).
        Deposits = new DepositLoad(system.Gateway.Public, Clock) { WithReads = true, RequestTimeout = TimeSpan.FromSeconds(10) };
        _poller = PrimaryPoller.Start(system, Clock);
        _load = Deposits.RunAsync(LoadPeriod, _stop.Token);
    }

    public Stopwatch Clock { get; } = Stopwatch.StartNew();
    public DepositLoad Deposits { get; }

    public static PartitionRun Start(PartitionedSystem system, ITestOutputHelper output) => new(system, output);

    /// <summary>Writes down what happened when, for the test's output.</summary>
    public long Mark(string what)
    {
        var at = Clock.ElapsedMilliseconds;
        _output.WriteLine($"{at,6} ms  {what}");
        return at;
    }

    /// <summary>Stops the load and the poller, prints the figures, and returns the polls.</summary>
    public async Task<PrimaryPollReport> StopAsync()
    {
        await _stop.CancelAsync();
        await _load;
        var report = await _poller.StopAsync();
        _stop.Dispose();
        _output.WriteLine(report.Describe());
        _output.WriteLine($"deposits: {Deposits.Acknowledged.Count} acknowledged, {Deposits.FailedAtMs.Count} failed; " +
            $"reads: {Deposits.ReadsSucceeded} matched, {Deposits.ReadsFailed} failed");
        return report;
    }

    public long? FirstAcknowledgedAfter(long atMs) =>
        Deposits.Acknowledged.Values.Select(ack => (long?)ack.AtMs).Where(ack => ack > atMs).Min();

    /// <summary>The longest time between two acknowledged deposits: the write outage as clients saw it.</summary>
    public long LongestWithoutAcknowledgedDepositMs()
    {
        var times = Deposits.Acknowledged.Values.Select(ack => ack.AtMs).Order().ToList();
        return times.Zip(times.Skip(1)).Select(pair => pair.Second - pair.First).DefaultIfEmpty(0).Max();
    }

    /// <summary>How many of the acknowledged deposits <paramref name="node"/> holds, asked directly (not through the gateway).</summary>
    public async Task<long> AcknowledgedPresentOnAsync(PostgresNode node)
    {
        var ids = string.Join(',', Deposits.Acknowledged.Keys);
        return await node.ScalarAsync<long>($"SELECT count(*) FROM deposits WHERE id = ANY('{{{ids}}}'::uuid[])", "broker");
    }

    /// <summary>Asserts the final primary holds every acknowledged deposit, and prints the count.</summary>
    public async Task AssertNoAcknowledgedDepositLostAsync(PostgresNode finalPrimary)
    {
        var present = await AcknowledgedPresentOnAsync(finalPrimary);
        _output.WriteLine($"acknowledged deposits on the final primary {finalPrimary.Name}: {present} of {Deposits.Acknowledged.Count}");
        Assert.Equal(Deposits.Acknowledged.Count, present);
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
