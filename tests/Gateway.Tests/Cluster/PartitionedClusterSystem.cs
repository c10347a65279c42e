using System.Net.Http.Headers;
using Gateway.Testing;
using Gateway.Tests.EndToEnd;
using Gateway.Tests.Support;

namespace Gateway.Tests.Cluster;

/// <summary>
/// Two gateways in cluster mode with each site in its own network namespace (<see cref="TwoSiteNetwork"/>): gw1,
/// PostgreSQL A (the primary), etcd member m1 and broker a1 in site A; gw2, PostgreSQL B (its synchronous standby),
/// etcd members m2 and m3 and broker b1 in site B. Cutting A from B therefore leaves gw1 with its site but without the
/// etcd majority and without the other gateway; the test process, in the root namespace, still reaches every gateway,
/// node and member. Automatic failover is on and replication synchronous (Degrade), so that a failover may lose no
/// acknowledged write. gw1 starts first and leads.
/// </summary>
public sealed class PartitionedClusterSystem : IAsyncDisposable
{
    private readonly List<BrokerProcess> _brokers = [];

    private PartitionedClusterSystem(TwoSiteNetwork network) => Network = network;

    public TwoSiteNetwork Network { get; }
    public EtcdCluster Etcd { get; private set; } = null!;
    public PostgresPair Postgres { get; private set; } = null!;
    public GatewaySettings[] Settings { get; private set; } = [];
    public Dictionary<string, GatewayProcess> Gateways { get; } = [];

    /// <summary>Each database server's address and its site: what <c>inet_server_addr()</c> answers there.</summary>
    public IReadOnlyDictionary<string, string> SiteByAddress => new Dictionary<string, string>
    {
        [Network.A.SiteAddress] = "A",
        [Network.B.SiteAddress] = "B",
    };

    /// <summary>A connection string to the postgres database through gateway <paramref name="index"/>'s write endpoint.</summary>
    public string WriteEndpoint(int index) =>
        new Npgsql.NpgsqlConnectionStringBuilder(TwoSiteSystem.ThroughGateway(Settings[index].PgWritePort, SiteOf(index).SiteAddress)) { Database = "postgres" }.ConnectionString;

    public static async Task<PartitionedClusterSystem> StartAsync()
    {
        var system = new PartitionedClusterSystem(await TwoSiteNetwork.CreateAsync());
        try
        {
            await system.StartPartsAsync();
            return system;
        }
        catch
        {
            await system.DisposeAsync();
            throw;
        }
    }

    private SiteNetwork SiteOf(int index) => index == 0 ? Network.A : Network.B;

    private async Task StartPartsAsync()
    {
        var (a, b) = (Network.A.Placement, Network.B.Placement);
        Etcd = await EtcdCluster.StartAsync([a, b, b]);
        Postgres = new PostgresPair { PrimaryPlacement = a, StandbyPlacement = b };
        await Postgres.InitializeAsync();
        await Postgres.Primary.ExecuteAsync("CREATE DATABASE broker");
        await Postgres.Primary.ExecuteAsync(SqlWriteLoad.CreateTable);

        var ports = new[] { "a1", "b1" }.ToDictionary(id => id, _ => FreePort.Next());
        string[] siteA = [$"http://{a.Address}:{ports["a1"]}"];
        string[] siteB = [$"http://{b.Address}:{ports["b1"]}"];
        var first = new GatewaySettings(siteA, siteB, Postgres.Primary.Port, Postgres.Standby.Port);
        first.Values["Gateway:Sites:0:Database:Host"] = a.Address;
        first.Values["Gateway:Sites:1:Database:Host"] = b.Address;
        first.Values["Gateway:Sites:0:Database:DataDirectory"] = Postgres.Primary.DataDirectory;
        first.Values["Gateway:Sites:1:Database:DataDirectory"] = Postgres.Standby.DataDirectory;
        first.Values["Gateway:Database:BinDirectory"] = PostgresTools.BinDirectory;
        first.Values["Gateway:Coordinator:AutoFailover"] = "true";
        // Site B has only just started; trust it after 2 s instead of 10 (as PartitionedSystem does).
        first.Values["Gateway:Coordinator:RecoverAfter"] = "00:00:02";
        // Commits wait for the standby while it streams: a failover then loses nothing acknowledged. Going asynchronous
        // soon after the standby is lost (0.5 s, not 2) puts that decision well inside the time a cut-off leader still
        // trusts its lease, where it must not be taken.
        first.Values["Gateway:Database:SynchronousMode"] = "Degrade";
        first.Values["Gateway:Database:DegradeAfter"] = "00:00:00.500";
        ClusterSystem.JoinCluster(first, Etcd, "gw1");
        var second = ClusterSystem.Sibling(first, siteA, siteB, Postgres, "gw2");
        Settings = [first, second];
        for (var i = 0; i < Settings.Length; i++)
        {
            // Each gateway listens in its own site, where that site's brokers and the test reach it.
            var at = SiteOf(i).SiteAddress;
            Settings[i].Values["Gateway:Listeners:PublicUrl"] = $"http://{at}:{Settings[i].PublicPort}";
            Settings[i].Values["Gateway:Listeners:AdminUrl"] = $"http://{at}:{Settings[i].AdminPort}";
            Settings[i].Values["Gateway:Listeners:PgWriteEndpoint"] = $"{at}:{Settings[i].PgWritePort}";
            Settings[i].Values["Gateway:Listeners:PgReadEndpoint"] = $"{at}:{Settings[i].PgReadPort}";
        }

        Gateways["gw1"] = Start(0);
        await Gateways["gw1"].WaitForAsync(s => s.Cluster is { Leader: "gw1" }, "leading", TimeSpan.FromSeconds(30));
        Gateways["gw2"] = Start(1);
        await Gateways["gw2"].WaitForAsync(s => s.Cluster is { Role: "Follow", WritesAllowed: true }, "following", TimeSpan.FromSeconds(30));

        // Each site's broker reaches the database through its own site's gateway.
        foreach (var (id, index) in new[] { ("a1", 0), ("b1", 1) })
        {
            var throughOwnGateway = TwoSiteSystem.ThroughGateway(Settings[index].PgWritePort, SiteOf(index).SiteAddress);
            _brokers.Add(new BrokerProcess(id, ports[id], throughOwnGateway, first.FilestoreLink, SiteOf(index).Placement));
        }

        await Task.WhenAll(_brokers.Select(broker => broker.StartAsync()));
        foreach (var gateway in Gateways.Values)
        {
            await gateway.WaitForAsync(s => s.Instances.All(i => i.Health == "Healthy"), "every instance healthy", TimeSpan.FromSeconds(30));
        }
    }

    private GatewayProcess Start(int index)
    {
        var gateway = GatewayProcess.StartNew(Settings[index], Settings[index].WriteJsonFile(), SiteOf(index).Placement);
        // One token for the cluster: a redirected call carries it to the leader.
        gateway.Admin.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Settings[0].AdminToken);
        return gateway;
    }

    /// <summary>Stops every process (they run in the namespaces, which go only once they are empty), then removes the network.</summary>
    public async ValueTask DisposeAsync()
    {
        foreach (var broker in _brokers)
        {
            await broker.DisposeAsync();
        }

        foreach (var gateway in Gateways.Values)
        {
            await gateway.DisposeAsync();
        }

        if (Postgres is not null)
        {
            await Postgres.DisposeAsync();
        }

        if (Etcd is not null)
        {
            await Etcd.DisposeAsync();
        }

        foreach (var settings in Settings)
        {
            settings.Dispose();
        }

        await Network.DisposeAsync();
    }
}
