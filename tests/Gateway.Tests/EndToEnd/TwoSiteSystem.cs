using System.Diagnostics;
using Gateway.Testing;
using Gateway.Tests.Support;
using Npgsql;

namespace Gateway.Tests.EndToEnd;

/// <summary>
/// The whole product on this machine, as the demo runs it: a real PostgreSQL primary (site A) streaming to a
/// standby (site B), SAN A and SAN B directories with the filestore symlink on SAN A, the gateway, and four real
/// broker processes (a1, a2, b1, b2) that reach the database only through the gateway's write endpoint.
/// </summary>
public class TwoSiteSystem : IAsyncLifetime
{
    private readonly PostgresPair _postgres = new();

    public GatewaySettings Settings { get; private set; } = null!;
    public RunningGateway Gateway { get; private set; } = null!;
    public Dictionary<string, BrokerProcess> Instances { get; } = [];
    public PostgresPair Postgres => _postgres;

    public async Task InitializeAsync()
    {
        await _postgres.InitializeAsync();
        await _postgres.Primary.ExecuteAsync("CREATE DATABASE broker");

        var ports = new[] { "a1", "a2", "b1", "b2" }.ToDictionary(id => id, _ => FreePort.Next());
        Settings = new GatewaySettings(
            [Url(ports["a1"]), Url(ports["a2"])], [Url(ports["b1"]), Url(ports["b2"])], _postgres.Primary.Port, _postgres.Standby.Port);
        // The gateway demotes and rebuilds database nodes during switchovers: it needs their data directories.
        Settings.Values["Gateway:Sites:0:Database:DataDirectory"] = _postgres.Primary.DataDirectory;
        Settings.Values["Gateway:Sites:1:Database:DataDirectory"] = _postgres.Standby.DataDirectory;
        Settings.Values["Gateway:Database:BinDirectory"] = PostgresTools.BinDirectory;
        // These tests kill instances on purpose; a whole-site failover is tested on its own and switched on there.
        Settings.Values["Gateway:Coordinator:AutoFailover"] = "false";
        Configure(Settings.Values);
        Gateway = await RunningGateway.StartAsync(Settings);

        var throughGateway = ThroughGateway(Settings.PgWritePort);
        foreach (var (id, port) in ports)
        {
            Instances[id] = new BrokerProcess(id, port, throughGateway, Settings.FilestoreLink);
        }

        await Task.WhenAll(Instances.Values.Select(instance => instance.StartAsync()));
        await Gateway.WaitForAllHealthyAsync(TimeSpan.FromSeconds(15));
    }

    /// <summary>Settings a derived system changes before the gateway starts.</summary>
    protected virtual void Configure(Dictionary<string, string?> values)
    {
    }

    private static string Url(int port) => $"http://127.0.0.1:{port}";

    /// <summary>A connection string to the broker database through one of the gateway's PG endpoints.</summary>
    public static string ThroughGateway(int port) => new NpgsqlConnectionStringBuilder
    {
        Host = "127.0.0.1",
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

        await _postgres.DisposeAsync();
        Settings?.Dispose();
    }
}

[CollectionDefinition(Name)]
public sealed class TwoSiteSystemCollection : ICollectionFixture<TwoSiteSystem>
{
    public const string Name = "two-site system";
}
