using Gateway.Configuration;
using Gateway.Coordinator;
using Gateway.Coordinator.Hooks;
using Gateway.Coordinator.Switching;
using Gateway.Database;
using Gateway.Model;
using Gateway.Observability;
using Gateway.Routing;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Gateway.Tests.Observability;

/// <summary>The metrics of the proxy, the PG endpoints, the admin API and the alarms, as their owners call them, scraped from their registry.</summary>
public sealed class ComponentMetricsTests
{
    private readonly GatewayMetrics _metrics = new(NullLogger<GatewayMetrics>.Instance);

    private static SiteTopology TwoSites() => new([
        new SiteOptions { Id = "A", Instances = [new InstanceOptions { Id = "a1", Url = "http://127.0.0.1:1" }] },
        new SiteOptions { Id = "B", Instances = [new InstanceOptions { Id = "b1", Url = "http://127.0.0.1:2" }] },
    ]);

    private async Task<MetricsScrape> ScrapeAsync() => MetricsScrape.Parse(await _metrics.ScrapeAsync());

    [Fact]
    public async Task A_pg_session_is_active_until_disposed_and_every_outcome_is_counted()
    {
        var metrics = new PgEndpointMetrics(_metrics, TwoSites());

        var session = metrics.Forwarding(DatabaseEndpointRole.Write, "A");
        var during = await ScrapeAsync();
        session.Dispose();
        metrics.Refused(DatabaseEndpointRole.Read);
        metrics.Unreachable(DatabaseEndpointRole.Write, "B");
        var after = await ScrapeAsync();

        Assert.Equal(1, during.Value("gateway_pg_active_sessions{role=\"write\",site=\"A\"}"));
        Assert.Equal(0, after.Value("gateway_pg_active_sessions{role=\"write\",site=\"A\"}"));
        Assert.Equal(1, after.Value("gateway_pg_connections_total{result=\"forwarded\",role=\"write\",site=\"A\"}"));
        Assert.Equal(1, after.Value("gateway_pg_connections_total{result=\"refused\",role=\"read\",site=\"none\"}"));
        Assert.Equal(1, after.Value("gateway_pg_connections_total{result=\"unreachable\",role=\"write\",site=\"B\"}"));
        Assert.Equal(0, after.Value("gateway_pg_connections_total{result=\"unreachable\",role=\"read\",site=\"A\"}"));
    }

    [Integration]
    [Fact]
    public async Task Request_counters_of_every_configured_instance_start_at_zero_and_the_latency_series_with_the_first_request()
    {
        var topology = TwoSites();
        var proxy = new ProxyMetrics(_metrics, topology);

        var before = await ScrapeAsync();
        proxy.Record("A", "a1", "post", 502, TimeSpan.FromMilliseconds(3));
        var after = await ScrapeAsync();

        Assert.Equal(0, before.Value("gateway_requests_total{method=\"POST\",service_instance=\"a1\",site=\"A\",status_class=\"5xx\"}"));
        Assert.Equal(0, before.Value("gateway_requests_total{method=\"GET\",service_instance=\"b1\",site=\"B\",status_class=\"2xx\"}"));
        Assert.Equal(0, before.Value("gateway_requests_total{method=\"POST\",service_instance=\"none\",site=\"none\",status_class=\"5xx\"}"));
        Assert.DoesNotContain("gateway_request_duration_seconds_count", before.Names);
        Assert.Equal(1, after.Value("gateway_requests_total{method=\"POST\",service_instance=\"a1\",site=\"A\",status_class=\"5xx\"}"));
        Assert.Equal(1, after.Value("gateway_request_duration_seconds_bucket{method=\"POST\",service_instance=\"a1\",site=\"A\",status_class=\"5xx\",le=\"0.005\"}"));
        Assert.Equal(0, after.Value("gateway_request_duration_seconds_bucket{method=\"POST\",service_instance=\"a1\",site=\"A\",status_class=\"5xx\",le=\"0.0025\"}"));
        Assert.Single(after.SeriesOf("gateway_request_duration_seconds_count"));
        await PrometheusTools.CheckMetricsAsync(after.Text);
    }

    [Fact]
    public async Task An_instance_added_by_a_reload_has_its_counters_at_zero_from_the_next_scrape()
    {
        var topology = TwoSites();
        _ = new ProxyMetrics(_metrics, topology);

        topology.ReplaceSites([
            .. topology.Sites.Where(site => site.Id == "A"),
            new SiteOptions { Id = "B", Instances = [new InstanceOptions { Id = "b1", Url = "http://127.0.0.1:2" }, new InstanceOptions { Id = "b2", Url = "http://127.0.0.1:3" }] },
        ]);
        var scrape = await ScrapeAsync();

        Assert.Equal(0, scrape.Value("gateway_requests_total{method=\"GET\",service_instance=\"b2\",site=\"B\",status_class=\"5xx\"}"));
    }

    [Fact]
    public async Task Every_catalogued_alarm_is_a_series_at_zero_and_one_while_raised()
    {
        var alarms = new Alarms(TimeProvider.System, NullLogger<Alarms>.Instance);
        _ = new AlarmMetrics(_metrics, alarms);

        var quiet = await ScrapeAsync();
        alarms.Raise(AlarmCatalogue.FilestoreSanUnresponsive, "san-b does not answer");
        var raised = await ScrapeAsync();
        alarms.Clear(AlarmCatalogue.FilestoreSanUnresponsive);
        var cleared = await ScrapeAsync();

        Assert.Equal(AlarmCatalogue.All.Select(alarm => $"gateway_alarm{{alarm=\"{alarm.Key}\"}}").Order(), quiet.SeriesOf("gateway_alarm").Order());
        Assert.All(quiet.SeriesOf("gateway_alarm"), series => Assert.Equal(0, quiet.Value(series)));
        Assert.Equal(1, raised.Value("gateway_alarm{alarm=\"filestore-san-unresponsive\"}"));
        Assert.Equal(0, raised.Value("gateway_alarm{alarm=\"database-two-primaries\"}"));
        Assert.Equal(0, cleared.Value("gateway_alarm{alarm=\"filestore-san-unresponsive\"}"));
    }

    [Fact]
    public async Task An_observed_gauge_shows_only_the_series_its_owner_reports_at_this_scrape()
    {
        string[] instances = ["a1", "a2"];
        _metrics.ObservedGauge("test_instances_up", "Test.", ["instance_id"], () => instances.Select(id => Sample.Of(1, id)));

        var both = await ScrapeAsync();
        instances = ["a2"];
        var one = await ScrapeAsync();

        Assert.Equal(["test_instances_up{instance_id=\"a1\"}", "test_instances_up{instance_id=\"a2\"}"], both.SeriesOf("test_instances_up").Order());
        Assert.Equal(["test_instances_up{instance_id=\"a2\"}"], one.SeriesOf("test_instances_up"));
    }

    [Fact]
    public async Task A_failing_observed_gauge_leaves_only_its_own_series_out()
    {
        var fail = false;
        _metrics.ObservedGauge("test_failing", "Test.", ["site"], () => fail ? throw new InvalidOperationException("broken") : [Sample.Of(1, "A")]);
        _metrics.ObservedGauge("test_working", "Test.", () => 2);

        var before = await ScrapeAsync();
        fail = true;
        var after = await ScrapeAsync();

        Assert.Equal(1, before.Value("test_failing{site=\"A\"}"));
        Assert.Empty(after.SeriesOf("test_failing"));
        Assert.Equal(2, after.Value("test_working"));
    }

    [Fact]
    public async Task Two_gateways_in_one_process_each_expose_only_their_own_series()
    {
        var other = new GatewayMetrics(NullLogger<GatewayMetrics>.Instance);
        new AdminApiMetrics(other).AuditAppendFailed();
        _ = new AdminApiMetrics(_metrics);

        Assert.Equal(0, (await ScrapeAsync()).Value("gateway_admin_audit_failures_total"));
        Assert.Equal(1, MetricsScrape.Parse(await other.ScrapeAsync()).Value("gateway_admin_audit_failures_total"));
    }

    [Integration]
    [Fact]
    public async Task Hook_runs_are_counted_by_step_when_and_result_from_zero_for_every_configured_hook_and_pass_promtool()
    {
        var options = new GatewayOptions();
        options.Coordinator.Hooks.Add(new HookOptions { Step = "move-database", When = HookWhen.Before, Command = "true" });
        var metrics = new SwitchMetrics(_metrics, new WriteGate(1, TimeSpan.FromSeconds(1), TimeProvider.System), Options.Create(options));

        metrics.RecordHook(new HookRun("move-database", HookWhen.Before, "true", DateTimeOffset.UnixEpoch, TimeSpan.FromMilliseconds(5), 1, false, "", HookRun.Failed, "stopped"));
        var scrape = await ScrapeAsync();

        Assert.Equal(1, scrape.Value("gateway_switch_hook_runs_total{result=\"failed\",step=\"move-database\",when=\"before\"}"));
        Assert.Equal(0, scrape.Value("gateway_switch_hook_runs_total{result=\"timed_out\",step=\"move-database\",when=\"before\"}"));
        Assert.Equal(0, scrape.Value("gateway_switch_hook_runs_total{result=\"succeeded\",step=\"move-database\",when=\"before\"}"));
        await PrometheusTools.CheckMetricsAsync(scrape.Text);
    }

    [Theory]
    [InlineData(200, "ok")]
    [InlineData(204, "ok")]
    [InlineData(401, "unauthorized")]
    [InlineData(403, "unauthorized")]
    [InlineData(400, "rejected")]
    [InlineData(409, "rejected")]
    [InlineData(500, "failed")]
    [InlineData(503, "failed")]
    public void Admin_results_are_named_from_the_status(int status, string result)
    {
        Assert.Equal(result, AdminApiMetrics.ResultOf(status));
    }

    [Theory]
    [InlineData("GET", "GET")]
    [InlineData("post", "POST")]
    [InlineData("PROPFIND", "OTHER")]
    public void Methods_outside_the_standard_set_are_other(string method, string label)
    {
        Assert.Equal(label, ProxyMetrics.MethodLabel(method));
    }

    [Theory]
    [InlineData(101, "1xx")]
    [InlineData(200, "2xx")]
    [InlineData(308, "3xx")]
    [InlineData(499, "4xx")]
    [InlineData(503, "5xx")]
    [InlineData(600, "other")]
    [InlineData(0, "other")]
    public void Status_codes_fall_in_their_class(int status, string label)
    {
        Assert.Equal(label, ProxyMetrics.StatusClass(status));
    }
}
