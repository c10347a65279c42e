using System.Diagnostics;
using Gateway.Configuration;
using Gateway.Testing;
using Gateway.Tests.Support;
using Npgsql;

namespace Gateway.Tests.EndToEnd;

/// <summary>
/// The whole product on this machine, as the demo runs it: a real PostgreSQL primary (site A) streaming to a
/// standby (site B), SAN A and SAN B directories with the filestore symlink on SAN A, the gateway, and four real
/// broker processes (a1, a2, b1, b2) that reach the database only through the gateway's write endpoint.
/// </summary>
public class TwoSiteSystem : IAsyncLifetime, IAsyncDisposable
{
    private PostgresPair _postgres = null!;

    public GatewaySettings Settings { get; private set; } = null!;
    public RunningGateway Gateway { get; private set; } = null!;
    public Dictionary<string, BrokerProcess> Instances { get; } = [];
    public PostgresPair Postgres => _postgres;
    public SitePlacements Placements { get; private set; } = SitePlacements.Loopback;

    public virtual async Task InitializeAsync()
    {
        Placements = await PlaceSitesAsync();
        _postgres = new PostgresPair { PrimaryPlacement = Placements.A, StandbyPlacement = Placements.B };
        await _postgres.InitializeAsync();
        await _postgres.Primary.ExecuteAsync("CREATE DATABASE broker");

        var ports = new[] { "a1", "a2", "b1", "b2" }.ToDictionary(id => id, _ => FreePort.Next());
        Settings = new GatewaySettings(
            [Url("a1"), Url("a2")], [Url("b1"), Url("b2")], _postgres.Primary.Port, _postgres.Standby.Port);
        // The gateway demotes and rebuilds database nodes during switchovers: it needs their data directories.
        Settings.Values["Gateway:Sites:0:Database:DataDirectory"] = _postgres.Primary.DataDirectory;
        Settings.Values["Gateway:Sites:1:Database:DataDirectory"] = _postgres.Standby.DataDirectory;
        Settings.Values["Gateway:Database:BinDirectory"] = PostgresTools.BinDirectory;
        // These tests kill instances on purpose; a whole-site failover is tested on its own and switched on there.
        Settings.Values["Gateway:Coordinator:AutoFailover"] = "false";
        PlaceInSettings(Settings);
        Configure(Settings.Values);
        await PrepareSansAsync(Settings);
        Gateway = await RunningGateway.StartAsync(Settings);

        var throughGateway = ThroughGateway(Settings.PgWritePort, Placements.GatewayAddress);
        foreach (var (id, port) in ports)
        {
            Instances[id] = new BrokerProcess(id, port, throughGateway, Settings.FilestoreLink, Placements.Of(id));
        }

        await Task.WhenAll(Instances.Values.Select(instance => instance.StartAsync()));
        await Gateway.WaitForAllHealthyAsync(TimeSpan.FromSeconds(15));

        string Url(string id) => $"http://{Placements.Of(id).Address}:{ports[id]}";
    }

    /// <summary>Where the sites run; loopback here. A derived system builds its network here, before anything starts.</summary>
    protected virtual Task<SitePlacements> PlaceSitesAsync() => Task.FromResult(SitePlacements.Loopback);

    /// <summary>Tears down what <see cref="PlaceSitesAsync"/> built, once every process of the system has stopped.</summary>
    protected virtual Task ReleaseSitesAsync() => Task.CompletedTask;

    /// <summary>
    /// The gateway reaches each node at its site's address and serves its database endpoints where the sites reach it.
    /// A node in a namespace must also be started there again when the gateway rejoins it.
    /// </summary>
    private void PlaceInSettings(GatewaySettings settings)
    {
        foreach (var (index, placement) in new[] { (0, Placements.A), (1, Placements.B) })
        {
            settings.Values[$"Gateway:Sites:{index}:Database:Host"] = placement.Address;
            if (placement.Namespace is { } name)
            {
                settings.Values[$"Gateway:Sites:{index}:Database:Commands:Start"] = $"ip netns exec {name} {new NodeCommandOptions().Start}";
            }
        }

        settings.Values["Gateway:Listeners:PgWriteEndpoint"] = $"{Placements.GatewayAddress}:{settings.PgWritePort}";
        settings.Values["Gateway:Listeners:PgReadEndpoint"] = $"{Placements.GatewayAddress}:{settings.PgReadPort}";
    }

    /// <summary>What a derived system does to the SAN directories before the gateway starts (a small file system, a FUSE mount).</summary>
    protected virtual Task PrepareSansAsync(GatewaySettings settings) => Task.CompletedTask;

    /// <summary>Undoes <see cref="PrepareSansAsync"/> once every process of the system has stopped.</summary>
    protected virtual Task ReleaseSansAsync() => Task.CompletedTask;

    /// <summary>Settings a derived system changes before the gateway starts.</summary>
    protected virtual void Configure(Dictionary<string, string?> values)
    {
    }

    /// <summary>A connection string to the broker database through one of the gateway's PG endpoints.</summary>
    public static string ThroughGateway(int port, string host = "127.0.0.1") => new NpgsqlConnectionStringBuilder
    {
        Host = host,
        Port = port,
        Username = "postgres",
        Database = "broker",
        Timeout = 5,
    }.ConnectionString;

    /// <summary>The database node of a site: PG A started as the primary, PG B as its standby; either may be either since.</summary>
    public PostgresNode DatabaseOf(string site) => site == "A" ? _postgres.Primary : _postgres.Standby;

    /// <summary>
    /// A whole site dies as a crashed data centre would: kill -9 of both its broker instances and of its PostgreSQL
    /// (the postmaster and every backend, so no session outlives it). Restart with <see cref="RestoreAllInstancesAsync"/>
    /// and POST /admin/failback (which rebuilds and starts the database node).
    /// </summary>
    public void KillSite(string site)
    {
        foreach (var instance in Instances.Values.Where(i => i.InstanceId.StartsWith(site.ToLowerInvariant(), StringComparison.Ordinal)))
        {
            instance.Kill();
        }

        var postmaster = int.Parse(File.ReadLines(Path.Combine(DatabaseOf(site).DataDirectory, "postmaster.pid")).First());
        using var process = Process.GetProcessById(postmaster);
        process.Kill(entireProcessTree: true);
        process.WaitForExit();
    }

    /// <summary>Restarts any instance a test killed, so the next test starts from four healthy instances.</summary>
    public async Task RestoreAllInstancesAsync()
    {
        await Task.WhenAll(Instances.Values.Where(i => !i.IsRunning).Select(i => i.StartAsync()));
        await Gateway.WaitForAllHealthyAsync(TimeSpan.FromSeconds(15));
    }

    /// <summary>Stops the gateway and starts it again on the same configuration and state directory, as an operator's restart would.</summary>
    public async Task RestartGatewayAsync()
    {
        await Gateway.DisposeAsync();
        Gateway = await RunningGateway.StartAsync(Settings);
    }

    /// <summary>
    /// What deploy/demo.sh up does after a site failure: restart the brokers that are down, and start a database node
    /// only if it cannot come up as a second primary (it is the designated primary, or a standby); an old primary
    /// stays down until it is rejoined.
    /// </summary>
    public async Task<string> UpAsync(string? designatedPrimary)
    {
        var said = new List<string>();
        foreach (var site in new[] { "A", "B" })
        {
            var node = DatabaseOf(site);
            if (node.IsRunning)
            {
                continue;
            }

            if (site == designatedPrimary || File.Exists(Path.Combine(node.DataDirectory, "standby.signal")))
            {
                await node.StartAsync();
                said.Add($"started {site}'s node");
            }
            else
            {
                said.Add($"left {site}'s node stopped (the primary is {designatedPrimary}; rejoin it)");
            }
        }

        var down = Instances.Values.Where(i => !i.IsRunning).Select(i => i.InstanceId).ToList();
        await Task.WhenAll(Instances.Values.Where(i => !i.IsRunning).Select(i => i.StartAsync()));
        said.Add(down.Count == 0 ? "every broker runs" : $"restarted brokers {string.Join(", ", down)}");
        return string.Join("; ", said);
    }

    ValueTask IAsyncDisposable.DisposeAsync() => new(DisposeAsync());

    public async Task DisposeAsync()
    {
        foreach (var instance in Instances.Values)
        {
            await instance.DisposeAsync();
        }

        if (Gateway is not null)
        {
            await Gateway.DisposeAsync();
        }

        if (_postgres is not null)
        {
            await _postgres.DisposeAsync();
        }

        await ReleaseSansAsync();
        Settings?.Dispose();
        await ReleaseSitesAsync();
    }
}

[CollectionDefinition(Name)]
public sealed class TwoSiteSystemCollection : ICollectionFixture<TwoSiteSystem>
{
    public const string Name = "two-site system";
}
