using System.Net.Http.Headers;
using Gateway.Testing;
using Gateway.Tests.EndToEnd;
using Gateway.Tests.Support;

namespace Gateway.Tests.Cluster;

/// <summary>
/// Two gateway processes in cluster mode on a three-member etcd, in front of one real system: a PostgreSQL primary (A)
/// streaming to a standby (B), SAN A and SAN B, and four broker processes. gw1 starts first and leads; the brokers
/// reach the database through gw2's write endpoint, so a load sent through gw2 does not depend on gw1.
/// </summary>
public sealed class ClusterSystem : IAsyncDisposable
{
    public const string LeaseTtl = "00:00:03";

    private ClusterSystem(EtcdCluster etcd, PostgresPair postgres, GatewaySettings first, GatewaySettings second)
    {
        Etcd = etcd;
        Postgres = postgres;
        Settings = [first, second];
    }

    public EtcdCluster Etcd { get; }
    public PostgresPair Postgres { get; }

    /// <summary>gw1's settings first: its SANs, filestore link and token are the system's.</summary>
    public GatewaySettings[] Settings { get; }
    public GatewayProcess[] Gateways { get; } = new GatewayProcess[2];
    public List<BrokerProcess> Instances { get; } = [];

    /// <param name="configure">Settings both gateways get, changed before they start.</param>
    /// <param name="configureFirst">Settings only gw1 gets (how it alone sees the sites).</param>
    /// <param name="brokersThroughBoth">The brokers reach the database through either gateway's write endpoint (gw1's,
    /// else gw2's: Npgsql's multi-host list), so either gateway may be killed; by default only through gw2's. A host
    /// that refused is tried again after a second, not Npgsql's default ten: a gateway killed and restarted is
    /// otherwise still skipped when the other one is killed next.</param>
    public static async Task<ClusterSystem> StartAsync(Action<GatewaySettings>? configure = null, Action<GatewaySettings>? configureFirst = null, bool brokersThroughBoth = false)
    {
        var etcd = await EtcdCluster.StartAsync(3);
        var postgres = new PostgresPair();
        await postgres.InitializeAsync();
        await postgres.Primary.ExecuteAsync("CREATE DATABASE broker");
        var ports = new[] { "a1", "a2", "b1", "b2" }.ToDictionary(id => id, _ => FreePort.Next());
        string[] siteA = [$"http://127.0.0.1:{ports["a1"]}", $"http://127.0.0.1:{ports["a2"]}"];
        string[] siteB = [$"http://127.0.0.1:{ports["b1"]}", $"http://127.0.0.1:{ports["b2"]}"];
        var first = new GatewaySettings(siteA, siteB, postgres.Primary.Port, postgres.Standby.Port);
        first.Values["Gateway:Sites:0:Database:DataDirectory"] = postgres.Primary.DataDirectory;
        first.Values["Gateway:Sites:1:Database:DataDirectory"] = postgres.Standby.DataDirectory;
        first.Values["Gateway:Database:BinDirectory"] = PostgresTools.BinDirectory;
        first.Values["Gateway:Coordinator:AutoFailover"] = "true";
        JoinCluster(first, etcd, "gw1");
        configure?.Invoke(first);

        var second = Sibling(first, siteA, siteB, postgres, "gw2");
        configureFirst?.Invoke(first);
        var system = new ClusterSystem(etcd, postgres, first, second);
        try
        {
            system.Gateways[0] = system.Start(0);
            await system.Gateways[0].WaitForAsync(s => s.Cluster is { Leader: "gw1" }, "leading", TimeSpan.FromSeconds(30));
            system.Gateways[1] = system.Start(1);
            await system.Gateways[1].WaitForAsync(s => s.Cluster is { Role: "Follow", WritesAllowed: true }, "following", TimeSpan.FromSeconds(30));

            var throughSecond = brokersThroughBoth
                ? new Npgsql.NpgsqlConnectionStringBuilder(TwoSiteSystem.ThroughGateway(second.PgWritePort)) { Host = $"127.0.0.1:{first.PgWritePort},127.0.0.1:{second.PgWritePort}", HostRecheckSeconds = 1 }.ConnectionString
                : TwoSiteSystem.ThroughGateway(second.PgWritePort);
            foreach (var (id, port) in ports)
            {
                system.Instances.Add(new BrokerProcess(id, port, throughSecond, first.FilestoreLink));
            }

            await Task.WhenAll(system.Instances.Select(instance => instance.StartAsync()));
            foreach (var gateway in system.Gateways)
            {
                await gateway.WaitForAsync(s => s.Instances.All(i => i.Health == "Healthy"), "every instance healthy", TimeSpan.FromSeconds(30));
            }

            return system;
        }
        catch
        {
            await system.DisposeAsync();
            throw;
        }
    }

    /// <summary>Cluster mode on every member of <paramref name="etcd"/>, as gateway <paramref name="gatewayId"/> of cluster "test".</summary>
    public static void JoinCluster(GatewaySettings settings, EtcdCluster etcd, string gatewayId)
    {
        for (var i = 0; i < etcd.ClientUrls.Count; i++)
        {
            settings.Values[$"Gateway:Cluster:Etcd:Endpoints:{i}"] = etcd.ClientUrls[i];
        }

        settings.Values["Gateway:Cluster:Name"] = "test";
        settings.Values["Gateway:Cluster:GatewayId"] = gatewayId;
        settings.Values["Gateway:Cluster:LeaseTtl"] = LeaseTtl;
    }

    /// <summary>
    /// A second gateway's settings: the same sites, SANs, token and cluster as <paramref name="first"/>; its own
    /// listeners, state directory and id.
    /// </summary>
    public static GatewaySettings Sibling(GatewaySettings first, string[] siteA, string[] siteB, PostgresPair postgres, string gatewayId)
    {
        var second = new GatewaySettings(siteA, siteB, postgres.Primary.Port, postgres.Standby.Port);
        var own = second.Values.Where(v => v.Key.StartsWith("Gateway:Listeners:", StringComparison.OrdinalIgnoreCase) || v.Key.Equals("Gateway:StateDirectory", StringComparison.OrdinalIgnoreCase)).ToList();
        second.Values.Clear();
        foreach (var (key, value) in first.Values.Concat(own))
        {
            second.Values[key] = value;
        }

        second.Values["Gateway:Cluster:GatewayId"] = gatewayId;
        return second;
    }

    /// <summary>Starts gateway <paramref name="index"/> (again, after a kill) on its own configuration file.</summary>
    public GatewayProcess Start(int index)
    {
        var gateway = GatewayProcess.StartNew(Settings[index], Settings[index].WriteJsonFile());
        // One token for the cluster: a redirected call carries it to the leader.
        gateway.Admin.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Settings[0].AdminToken);
        return gateway;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var instance in Instances)
        {
            await instance.DisposeAsync();
        }

        foreach (var gateway in Gateways.OfType<GatewayProcess>())
        {
            await gateway.DisposeAsync();
        }

        await Postgres.DisposeAsync();
        await Etcd.DisposeAsync();
        foreach (var settings in Settings)
        {
            settings.Dispose();
        }
    }
}
