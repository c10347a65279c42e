using System.Diagnostics;
using Gateway.Cluster;
using Gateway.Coordinator.Audit;
using Gateway.Observability;
using Gateway.Operations;
using Gateway.Testing;
using Microsoft.Extensions.Logging.Abstractions;
using static Gateway.Tests.Cluster.EtcdTestSupport;

namespace Gateway.Tests.Cluster;

/// <summary>The history and the audit log shared in a real etcd: every writer's entries readable by every gateway in one order, bounded by the leader, never lost when etcd does not answer.</summary>
public sealed class EtcdRecordsTests(Xunit.Abstractions.ITestOutputHelper output) : IAsyncLifetime
{
    private EtcdCluster _etcd = null!;
    private readonly List<RunningElection> _gateways = [];
    private readonly string _name = UniqueName("records");
    private readonly string _directory = Directory.CreateTempSubdirectory("etcd-records-").FullName;

    public async Task InitializeAsync()
    {
        if (EtcdCluster.WhyUnavailable is null)
        {
            _etcd = await EtcdCluster.StartAsync(1);
        }
    }

    public async Task DisposeAsync()
    {
        foreach (var record in _log.Collector.GetSnapshot())
        {
            output.WriteLine(record.Message);
        }

        foreach (var gateway in _gateways)
        {
            await gateway.DisposeAsync();
        }

        if (_etcd is not null)
        {
            await _etcd.DisposeAsync();
        }

        Directory.Delete(_directory, recursive: true);
    }

    /// <summary>These tests are about what is stored, not about timing: a generous request timeout, so a busy machine does not turn a slow answer into "etcd did not answer".</summary>
    private ClusterOptions Patient(string gatewayId)
    {
        var options = Options(_etcd.ClientUrls, _name, gatewayId, leaseTtlSeconds: 9);
        options.Etcd.RequestTimeout = TimeSpan.FromSeconds(3);
        return options;
    }

    private async Task<(RunningElection Leader, RunningElection Follower)> TwoGatewaysAsync()
    {
        var clock = Stopwatch.StartNew();
        _gateways.Add(await RunningElection.StartAsync(Patient("gw-a"), clock));
        _gateways.Add(await RunningElection.StartAsync(Patient("gw-b"), clock));
        var deadline = Stopwatch.StartNew();
        while (_gateways.Count(g => g.Election.Status.IsLeader) != 1 || _gateways.Any(g => g.Election.Status.Leader is null))
        {
            Assert.True(deadline.Elapsed < TimeSpan.FromSeconds(20), "no single leader within 20 s");
            await Task.Delay(50);
        }

        return (_gateways.Single(g => g.Election.Status.IsLeader), _gateways.Single(g => !g.Election.Status.IsLeader));
    }

    private readonly Microsoft.Extensions.Logging.Testing.FakeLogger _log = new();

    private EtcdRecords Records(RunningElection gateway, int keep = EtcdRecords.DefaultKeep) => new(gateway.Store, gateway.Election, _log, keep);

    private sealed record Report(string Id, bool Succeeded);

    [EtcdFact]
    public async Task Entries_from_two_gateways_are_read_by_either_in_the_order_etcd_took_them_each_log_apart()
    {
        var (leader, follower) = await TwoGatewaysAsync();
        var fromLeader = new OperationHistory(Path.Combine(_directory, "a"), NullLogger<OperationHistory>.Instance, Records(leader));
        var fromFollower = new OperationHistory(Path.Combine(_directory, "b"), NullLogger<OperationHistory>.Instance, Records(follower));

        for (var n = 1; n <= 6; n++)
        {
            (n % 2 == 1 ? fromLeader : fromFollower).Record(HistoryKinds.SiteSwitch, new Report($"switch {n}", true));
        }

        fromFollower.Record(HistoryKinds.Promotion, new Report("promotion 1", true));

        string[] switches = ["switch 1", "switch 2", "switch 3", "switch 4", "switch 5", "switch 6"];
        Assert.Equal(switches, fromLeader.Read<Report>(HistoryKinds.SiteSwitch).Select(r => r.Id));
        Assert.Equal(switches, fromFollower.Read<Report>(HistoryKinds.SiteSwitch).Select(r => r.Id));
        Assert.Equal(["switch 5", "switch 6"], fromLeader.Read<Report>(HistoryKinds.SiteSwitch, limit: 2).Select(r => r.Id));
        Assert.Equal(["promotion 1"], fromLeader.Read<Report>(HistoryKinds.Promotion).Select(r => r.Id));
        Assert.Empty(fromLeader.Read<Report>(HistoryKinds.Rejoin));

        // A reader that has read before takes what arrived since; and each gateway's own file holds only what it did.
        fromFollower.Record(HistoryKinds.SiteSwitch, new Report("switch 7", false));
        Assert.Equal([.. switches, "switch 7"], fromLeader.Read<Report>(HistoryKinds.SiteSwitch).Select(r => r.Id));
        Assert.Equal(3, File.ReadAllLines(fromLeader.Path).Length);
        Assert.Equal(5, File.ReadAllLines(fromFollower.Path).Length);

        // The audit log likewise, written by whichever gateway took the call.
        var metrics = new AdminApiMetrics(new GatewayMetrics(NullLogger<GatewayMetrics>.Instance));
        var auditA = new AuditLog(Path.Combine(_directory, "a"), metrics, NullLogger<AuditLog>.Instance, Records(leader));
        var auditB = new AuditLog(Path.Combine(_directory, "b"), metrics, NullLogger<AuditLog>.Instance, Records(follower));
        Assert.True(auditA.Append(Entry(1)));
        Assert.True(auditB.Append(Entry(2)));
        Assert.True(auditA.Append(Entry(3)));
        Assert.Equal(["call 1", "call 2", "call 3"], auditB.ReadLast(10).Select(e => e.Result));
        Assert.Equal(["call 2", "call 3"], auditA.ReadLast(2).Select(e => e.Result));
    }

    [EtcdFact]
    public async Task The_leader_keeps_the_newest_entries_of_each_log_and_a_follower_deletes_none()
    {
        var (leader, follower) = await TwoGatewaysAsync();
        var (leaderRecords, followerRecords) = (Records(leader, keep: 3), Records(follower, keep: 3));
        for (var n = 1; n <= 5; n++)
        {
            Assert.True(followerRecords.Append("audit", $"\"a{n}\""));
            Assert.True(leaderRecords.Append(OperationHistory.SharedLog(HistoryKinds.Rejoin), $"\"r{n}\""));
        }

        Assert.True(leaderRecords.Append(OperationHistory.SharedLog(HistoryKinds.Promotion), "\"p1\""));

        var refused = await followerRecords.TrimAsync(CancellationToken.None);
        Assert.Contains("not trimmed", refused);
        Assert.Equal(5, (await follower.Store.ReadPrefixAsync("audit/", CancellationToken.None)).Keys.Count);

        var trimmed = await leaderRecords.TrimAsync(CancellationToken.None);
        Assert.Contains("2 of audit", trimmed);
        Assert.Contains("2 of history/rejoin", trimmed);
        Assert.Null(await leaderRecords.TrimAsync(CancellationToken.None));

        // Read by a gateway that had never read them: only the newest three are left in etcd.
        var reader = Records(follower);
        Assert.Equal(["\"a3\"", "\"a4\"", "\"a5\""], reader.ReadNewest("audit", 10));
        Assert.Equal(["\"r3\"", "\"r4\"", "\"r5\""], reader.ReadNewest(OperationHistory.SharedLog(HistoryKinds.Rejoin), 10));
        Assert.Equal(["\"p1\""], reader.ReadNewest(OperationHistory.SharedLog(HistoryKinds.Promotion), 10));
    }

    [EtcdFact]
    public async Task An_entry_etcd_does_not_take_is_in_the_local_file_counted_and_read_back_from_it()
    {
        var gateway = await RunningElection.StartAsync(Patient("gw-a"), Stopwatch.StartNew());
        _gateways.Add(gateway);
        var records = Records(gateway);
        var metrics = new AdminApiMetrics(new GatewayMetrics(NullLogger<GatewayMetrics>.Instance));
        var audit = new AuditLog(_directory, metrics, NullLogger<AuditLog>.Instance, records);
        Assert.True(audit.Append(Entry(1)));
        _etcd.Members[0].Kill();

        Assert.True(audit.Append(Entry(2)));
        Assert.Equal(1, records.FailedAppends);
        Assert.Equal(2, File.ReadAllLines(audit.Path).Length);
        Assert.Null(records.ReadNewest(AuditLog.SharedLog, 10));
        Assert.Equal(["call 1", "call 2"], audit.ReadLast(10).Select(e => e.Result));
        Assert.Contains(_log.Collector.GetSnapshot(), r => r.Message.Contains("could not be stored in etcd", StringComparison.Ordinal) && r.Message.Contains("call 2", StringComparison.Ordinal));
    }

    private static AuditEntry Entry(int n) =>
        new(new DateTimeOffset(2026, 1, 1, 0, 0, n, TimeSpan.Zero), "127.0.0.1", "POST", "/admin/drain", $"{{\"instance\":\"a{n}\"}}", false, 200, $"call {n}");
}
