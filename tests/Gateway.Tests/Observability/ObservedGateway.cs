using Gateway.Testing;
using Gateway.Tests.Support;

namespace Gateway.Tests.Observability;

/// <summary>
/// The real gateway in front of one backend per site, with traffic (reads, writes, a 502 from a failing instance,
/// admin calls), scraped every second by a real Prometheus that evaluates the deployed alert rules. Ready once
/// Prometheus holds at least three scrapes taken while the traffic ran, so every rate() has samples to work on.
/// </summary>
public sealed class ObservedGateway : IAsyncLifetime
{
    private const int ScrapesWithTraffic = 3;

    private EchoBackend _a1 = null!;
    private EchoBackend _b1 = null!;
    private GatewaySettings _settings = null!;
    private readonly PostgresPair _postgres = new();
    private EtcdCluster? _etcd;

    public RunningGateway Gateway { get; private set; } = null!;

    public PrometheusServer Prometheus { get; private set; } = null!;

    /// <summary>The admin listener's port: Prometheus' target, so its instance label is 127.0.0.1:this.</summary>
    public int AdminPort => _settings.AdminPort;

    public async Task InitializeAsync()
    {
        PrometheusTools.RequireInstalled();
        _a1 = await EchoBackend.StartAsync("a1");
        _b1 = await EchoBackend.StartAsync("b1");
        // A real primary and standby, so the database panels (replication lag, writable nodes) have data.
        await _postgres.InitializeAsync();
        _settings = new GatewaySettings([_a1.Url], [_b1.Url], _postgres.Primary.Port, _postgres.Standby.Port);
        ConfigureBackups(_settings);
        await ConfigureClusterAsync(_settings);
        Gateway = await RunningGateway.StartAsync(_settings);
        await Gateway.WaitForAsync(s => s.Cluster is { Role: "Lead", WritesAllowed: true }, "leading its cluster", TimeSpan.FromSeconds(30));
        await Gateway.WaitForAllHealthyAsync(TimeSpan.FromSeconds(10));
        Prometheus = await PrometheusServer.StartAsync($"127.0.0.1:{_settings.AdminPort}", RepositoryFiles.AlertRules);

        await FailOneWriteAsync();
        await Prometheus.WaitUntilAsync(SendTrafficAndCheckScrapesAsync, TimeSpan.FromSeconds(30), $"{ScrapesWithTraffic} scrapes with traffic");
        await Prometheus.WaitUntilAsync(EveryRuleEvaluatedAsync, TimeSpan.FromSeconds(10), "every alert rule to be evaluated once");
    }

    /// <summary>Backups configured (none taken): their metrics are there from the start, for the backup panels and alerts.</summary>
    private void ConfigureBackups(GatewaySettings settings)
    {
        var key = Path.Combine(settings.Root, "restic-key");
        File.WriteAllText(key, "observed\n");
        settings.Values["Gateway:Backup:RepositoryPath"] = Path.Combine(settings.Root, "backups");
        settings.Values["Gateway:Backup:PasswordFile"] = key;
        settings.Values["Gateway:Sites:0:Database:DataDirectory"] = _postgres.Primary.DataDirectory;
        settings.Values["Gateway:Sites:1:Database:DataDirectory"] = _postgres.Standby.DataDirectory;
    }

    /// <summary>
    /// Cluster mode on a one-member etcd, so the cluster panels and rules (gateway_cluster_*) have data as well: such a
    /// gateway emits every metric a gateway running alone does, plus those.
    /// </summary>
    private async Task ConfigureClusterAsync(GatewaySettings settings)
    {
        _etcd = await EtcdCluster.StartAsync(1);
        settings.Values["Gateway:Cluster:Etcd:Endpoints:0"] = _etcd.ClientUrls[0];
        settings.Values["Gateway:Cluster:Name"] = "observed";
        settings.Values["Gateway:Cluster:GatewayId"] = "gw1";
        // A member just started, on a CI machine running other suites, has answered its first reads after more than the
        // default 500 ms; this fixture is about metrics, not timing: the longest request time the lease TTL allows.
        settings.Values["Gateway:Cluster:Etcd:RequestTimeout"] = "00:00:01";
    }

    public Task<MetricsScrape> ScrapeAsync() => MetricsScrape.FetchAsync(Gateway.Admin.BaseAddress!);

    /// <summary>A write to an instance that drops the connection: a 502, so the error panels have a 5xx series.</summary>
    private async Task FailOneWriteAsync()
    {
        _a1.DropRequests = true;
        using var failed = await Gateway.Public.PostAsync("/deposits?name=failed", new ByteArrayContent([1]));
        _a1.DropRequests = false;
        Assert.Equal(System.Net.HttpStatusCode.BadGateway, failed.StatusCode);
    }

    private async Task<bool> SendTrafficAndCheckScrapesAsync()
    {
        for (var i = 0; i < 3; i++)
        {
            using var read = await Gateway.Public.GetAsync($"/deposits/{i}");
            using var write = await Gateway.Public.PostAsync($"/deposits?name=f{i}", new ByteArrayContent([1, 2, 3]));
        }

        await Gateway.StatusAsync();
        var samples = await Prometheus.ResultAsync("min(count_over_time(gateway_requests_total{status_class=\"2xx\"}[1m]))");
        return samples.Count == 1 && double.Parse(samples[0].GetProperty("value")[1].GetString()!, System.Globalization.CultureInfo.InvariantCulture) >= ScrapesWithTraffic;
    }

    private async Task<bool> EveryRuleEvaluatedAsync() =>
        (await Prometheus.RulesAsync()).All(rule => rule.GetProperty("health").GetString() != "unknown");

    public async Task DisposeAsync()
    {
        if (Prometheus is not null)
        {
            await Prometheus.DisposeAsync();
        }

        if (Gateway is not null)
        {
            await Gateway.DisposeAsync();
        }

        if (_a1 is not null)
        {
            await _a1.DisposeAsync();
        }

        await _postgres.DisposeAsync();
        if (_etcd is not null)
        {
            await _etcd.DisposeAsync();
        }

        if (_b1 is not null)
        {
            await _b1.DisposeAsync();
        }

        _settings?.Dispose();
    }
}
