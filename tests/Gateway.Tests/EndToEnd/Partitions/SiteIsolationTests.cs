using System.Net.Http.Json;
using Gateway.Coordinator.Admin;
using Gateway.Coordinator.Switching;
using Npgsql;
using Xunit.Abstractions;

namespace Gateway.Tests.EndToEnd.Partitions;

/// <summary>
/// Site A is cut off the gateway (and so off B) for 15 s under load, with its processes still running: A's database
/// stays a primary the gateway cannot reach. The gateway fails over to B by itself; when the link comes back, A must
/// find itself fenced, and at no moment may a client reach two primaries through the gateway.
/// </summary>
[Integration]
public sealed class SiteIsolationTests(PartitionedSystem system, ITestOutputHelper output) : IClassFixture<PartitionedSystem>
{
    private static readonly TimeSpan Isolation = TimeSpan.FromSeconds(15);

    [NetworkNamespaceFact]
    public async Task Cutting_site_A_off_the_gateway_under_load_fails_over_to_B_with_never_two_primaries_through_the_gateway_and_loses_no_acknowledged_deposit()
    {
        var network = system.Network;
        var run = PartitionRun.Start(system, output);
        await Task.Delay(3000);

        var cutAt = run.Mark($"site A cut off: {network.A.SiteInterface} down in {network.A.Namespace}");
        await network.IsolateAsync(network.A);
        try
        {
            await system.Gateway.WaitForAsync(s => s is { ActiveSite: "B", Switching: false }, "failed over to B by itself", TimeSpan.FromSeconds(30));
            run.Mark("gateway reports site B active");
            var rest = Isolation - TimeSpan.FromMilliseconds(run.NowMs - cutAt);
            await Task.Delay(rest > TimeSpan.Zero ? rest : TimeSpan.Zero);
        }
        finally
        {
            await network.ReconnectAsync(network.A);
        }

        var healedAt = run.Mark("site A reconnected");
        await PartitionRun.WaitUntilAsync(() => TakesNoWritesAsync(system.Postgres.Primary.ConnectionString()),
            TimeSpan.FromSeconds(15), "the old primary A, reachable again, refuses writes");
        run.Mark("A, asked directly, refuses writes (fenced)");
        await Task.Delay(3000);
        var report = await run.StopAsync();

        var failoverSeenAt = report.FirstWritableThroughWriteEndpoint("B", cutAt);
        output.WriteLine($"failover seen by the poller: write endpoint first led to a writable B {failoverSeenAt - cutAt} ms after the cut; " +
            $"longest time without an acknowledged deposit: {run.Workload.LongestWindowWithoutWrite().TotalMilliseconds:0} ms");
        var history = (await system.Gateway.Admin.GetFromJsonAsync<List<SiteSwitchReport>>("/admin/history", AdminRequests.Json))!;
        foreach (var switched in history)
        {
            output.WriteLine(switched.Summary);
            foreach (var step in switched.Steps)
            {
                output.WriteLine($"  {step.Step}: {step.Duration.TotalMilliseconds:0} ms: {step.Outcome}");
            }
        }

        Assert.Equal(0, report.LongestRunOfTwoPrimariesThroughGateway);
        Assert.Equal(["A", "B"], report.WriteEndpointPrimaries);
        var failover = Assert.Single(history);
        Assert.Equal(SwitchKind.Failover, failover.Kind);
        Assert.True(failover.Succeeded, failover.Summary);
        Assert.NotNull(failoverSeenAt);
        Assert.True(failoverSeenAt < healedAt, "the write endpoint led to B only after A was back: no failover during the partition");
        Assert.NotNull(run.FirstAcknowledgedAfter(failoverSeenAt.Value));
        Assert.NotNull(run.FirstAcknowledgedAfter(healedAt));
        await run.AssertConsistentAsync("B");
    }

    /// <summary>True when the node, asked directly, is in recovery or read-only; false when it takes writes or does not answer.</summary>
    private static async Task<bool> TakesNoWritesAsync(string connectionString)
    {
        try
        {
            await using var connection = new NpgsqlConnection(connectionString);
            await connection.OpenAsync();
            await using var command = new NpgsqlCommand("SELECT pg_is_in_recovery() OR current_setting('transaction_read_only') = 'on'", connection);
            return (bool)(await command.ExecuteScalarAsync())!;
        }
        catch (Exception unreachable) when (unreachable is NpgsqlException or TimeoutException)
        {
            return false;
        }
    }
}
