using System.Diagnostics;
using Gateway.Testing;
using Gateway.Tests.Support;
using static Gateway.Tests.Cluster.EtcdTestSupport;

namespace Gateway.Tests.Cluster;

/// <summary>A gateway process that cannot take its place in the cluster says why and exits with code 2.</summary>
[Integration]
public sealed class ClusterStartTests : IDisposable
{
    private readonly GatewaySettings _settings = GatewaySettings.Placeholder();

    public void Dispose() => _settings.Dispose();

    private GatewayProcess StartIn(IEnumerable<string> endpoints, string name, string gatewayId)
    {
        var i = 0;
        foreach (var endpoint in endpoints)
        {
            _settings.Values[$"Gateway:Cluster:Etcd:Endpoints:{i++}"] = endpoint;
        }

        _settings.Values["Gateway:Cluster:Name"] = name;
        _settings.Values["Gateway:Cluster:GatewayId"] = gatewayId;
        _settings.Values["Gateway:Cluster:StartupTimeout"] = "00:00:02";
        return GatewayProcess.StartNew(_settings, _settings.WriteJsonFile());
    }

    [Fact]
    public async Task With_no_etcd_endpoint_answering_it_names_them_and_exits_2_after_the_startup_timeout()
    {
        var nobody = $"http://127.0.0.1:{FreePort.Next()}";
        var clock = Stopwatch.StartNew();
        await using var gateway = StartIn([nobody], "start", "gw1");

        Assert.Equal(GatewayProgram.ExitBadConfiguration, await gateway.WaitForExitAsync());
        Assert.True(clock.Elapsed >= TimeSpan.FromSeconds(2), $"exited after {clock.Elapsed.TotalSeconds:0.0} s, before the 2 s startup timeout");
        Assert.Contains(nobody, gateway.Output);
        Assert.Contains("Gateway:Cluster:Etcd:Endpoints", gateway.Output);
    }

    [EtcdFact]
    public async Task A_second_gateway_with_an_id_in_use_is_refused_with_exit_2()
    {
        await using var etcd = await EtcdCluster.StartAsync(1);
        var name = UniqueName("start");
        await using var running = await RunningElection.StartAsync(Options(etcd.ClientUrls, name, "gw1"), Stopwatch.StartNew());

        await using var gateway = StartIn(etcd.ClientUrls, name, "gw1");

        Assert.Equal(GatewayProgram.ExitBadConfiguration, await gateway.WaitForExitAsync());
        Assert.Contains("gateway id 'gw1' is in use", gateway.Output);
    }
}
