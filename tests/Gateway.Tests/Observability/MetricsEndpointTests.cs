using System.Net;
using Gateway.Testing;
using Gateway.Tests.Support;

namespace Gateway.Tests.Observability;

/// <summary>/metrics of the real gateway (both hosts, real listeners) in front of one real backend per site.</summary>
public sealed class MetricsEndpointTests : EchoSitesTest
{
    private new async Task StartGatewayAsync()
    {
        await base.StartGatewayAsync();
        await Gateway.WaitForAllHealthyAsync(TimeSpan.FromSeconds(10));
    }

    private Task<MetricsScrape> ScrapeAsync() => MetricsScrape.FetchAsync(Gateway.Admin.BaseAddress!);

    [Fact]
    public async Task Metrics_answer_on_the_admin_listener_without_a_token_while_the_status_still_needs_one()
    {
        await StartGatewayAsync();
        using var anonymous = new HttpClient { BaseAddress = Gateway.Admin.BaseAddress };

        using var metrics = await anonymous.GetAsync("/metrics");
        using var status = await anonymous.GetAsync("/admin/status");

        Assert.Equal(HttpStatusCode.OK, metrics.StatusCode);
        Assert.Equal("text/plain; version=0.0.4; charset=utf-8", metrics.Content.Headers.ContentType!.ToString());
        Assert.Contains("# TYPE gateway_active_site gauge", await metrics.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.Unauthorized, status.StatusCode);
    }

    [Fact]
    public async Task The_filestore_link_target_and_the_site_switch_counters_are_exposed_from_the_start()
    {
        await StartGatewayAsync();

        var scrape = await ScrapeAsync();

        Assert.Equal(1, scrape.Value($"gateway_filestore_link_target{{link=\"{Settings.FilestoreLink}\",site=\"A\"}}"));
        Assert.Equal(0, scrape.Value($"gateway_filestore_link_target{{link=\"{Settings.FilestoreLink}\",site=\"B\"}}"));
        Assert.Equal(0, scrape.Value("gateway_failovers_total{kind=\"failover\",result=\"succeeded\"}"));
        Assert.Equal(0, scrape.Value("gateway_writes_held"));
    }

    [Fact]
    public async Task The_public_listener_proxies_metrics_to_an_instance_like_any_path()
    {
        await StartGatewayAsync();

        var body = await Gateway.Public.GetStringAsync("/metrics");

        Assert.Matches("^(a1|b1) GET /metrics$", body);
    }

    [Fact]
    public async Task Proxied_requests_are_counted_and_timed_by_site_instance_method_and_status_class()
    {
        await StartGatewayAsync();
        for (var i = 0; i < 3; i++)
        {
            using var write = await Gateway.Public.PostAsync($"/deposits?name=f{i}", new ByteArrayContent([1]));
            write.EnsureSuccessStatusCode();
        }

        var scrape = await ScrapeAsync();

        const string labels = "{method=\"POST\",service_instance=\"a1\",site=\"A\",status_class=\"2xx\"}";
        Assert.Equal(3, scrape.Value("gateway_requests_total" + labels));
        Assert.Equal(3, scrape.Value("gateway_request_duration_seconds_count" + labels));
        Assert.Equal(3, scrape.Value("gateway_request_duration_seconds_bucket{method=\"POST\",service_instance=\"a1\",site=\"A\",status_class=\"2xx\",le=\"+Inf\"}"));
        Assert.InRange(scrape.Value("gateway_request_duration_seconds_sum" + labels), double.Epsilon, 30);
    }

    [Fact]
    public async Task With_request_telemetry_off_requests_are_proxied_but_neither_counted_nor_timed()
    {
        Settings.Values["Gateway:Observability:RequestTelemetry"] = "false";
        await StartGatewayAsync();
        for (var i = 0; i < 3; i++)
        {
            using var write = await Gateway.Public.PostAsync($"/deposits?name=f{i}", new ByteArrayContent([1]));
            write.EnsureSuccessStatusCode();
        }

        var scrape = await ScrapeAsync();

        Assert.Equal(3, A1.Received.Count(r => r.Path.StartsWith("/deposits", StringComparison.Ordinal)));
        Assert.DoesNotContain(scrape.Names, name => name.StartsWith("gateway_request", StringComparison.Ordinal));
        // The rest of the figures are still there.
        Assert.Equal(1, scrape.Value("gateway_active_site{site=\"A\"}"));
    }

    [Fact]
    public async Task A_failing_instance_counts_a_5xx_against_its_site_and_instance()
    {
        await StartGatewayAsync();
        A1.DropRequests = true;

        using var write = await Gateway.Public.PostAsync("/deposits?name=f", new ByteArrayContent([1]));

        var scrape = await ScrapeAsync();
        Assert.Equal(HttpStatusCode.BadGateway, write.StatusCode);
        Assert.Equal(1, scrape.Value("gateway_requests_total{method=\"POST\",service_instance=\"a1\",site=\"A\",status_class=\"5xx\"}"));
    }

    [Fact]
    public async Task A_request_refused_before_any_instance_is_counted_with_site_and_instance_none_and_health_shows_why()
    {
        Settings.Values["Gateway:Routing:WritePolicy"] = "Require";
        await StartGatewayAsync();
        A1.Healthy = false;
        await Gateway.WaitForHealthAsync("a1", "Unhealthy", TimeSpan.FromSeconds(5));

        using var write = await Gateway.Public.PostAsync("/deposits?name=f", new ByteArrayContent([1]));

        var scrape = await ScrapeAsync();
        Assert.Equal(HttpStatusCode.ServiceUnavailable, write.StatusCode);
        Assert.Equal(1, scrape.Value("gateway_requests_total{method=\"POST\",service_instance=\"none\",site=\"none\",status_class=\"5xx\"}"));
        Assert.Equal(0, scrape.Value("gateway_instance_healthy{service_instance=\"a1\",site=\"A\"}"));
        Assert.Equal(1, scrape.Value("gateway_instance_healthy{service_instance=\"b1\",site=\"B\"}"));
    }

    [Fact]
    public async Task A_method_outside_the_standard_ones_is_counted_as_other()
    {
        await StartGatewayAsync();

        using var request = new HttpRequestMessage(new HttpMethod("BREW"), "/pot");
        using var response = await Gateway.Public.SendAsync(request);

        var scrape = await ScrapeAsync();
        Assert.Equal(1, scrape.Value("gateway_requests_total{method=\"OTHER\",service_instance=\"a1\",site=\"A\",status_class=\"2xx\"}"));
    }

    [Fact]
    public async Task The_active_site_and_the_epoch_are_gauges()
    {
        await StartGatewayAsync();

        var scrape = await ScrapeAsync();

        Assert.Equal(1, scrape.Value("gateway_active_site{site=\"A\"}"));
        Assert.Equal(0, scrape.Value("gateway_active_site{site=\"B\"}"));
        Assert.Equal(1, scrape.Value("gateway_epoch"));
    }

    [Fact]
    public async Task Admin_calls_are_counted_by_endpoint_and_result()
    {
        await StartGatewayAsync();
        var before = await ScrapeAsync();
        using var anonymous = new HttpClient { BaseAddress = Gateway.Admin.BaseAddress };
        using var refused = await anonymous.GetAsync("/admin/status");
        using var accepted = await Gateway.Admin.GetAsync("/admin/status");

        var after = await ScrapeAsync();

        const string ok = "gateway_admin_requests_total{endpoint=\"/admin/status\",result=\"ok\"}";
        Assert.Equal(before.Value(ok) + 1, after.Value(ok));
        Assert.Equal(0, before.Value("gateway_admin_requests_total{endpoint=\"/admin/status\",result=\"unauthorized\"}"));
        Assert.Equal(1, after.Value("gateway_admin_requests_total{endpoint=\"/admin/status\",result=\"unauthorized\"}"));
        Assert.Equal(0, after.Value("gateway_admin_requests_total{endpoint=\"/admin/switchover\",result=\"failed\"}"));
    }

    [Fact]
    public async Task Database_endpoint_counters_exist_at_zero_before_the_first_connection()
    {
        await StartGatewayAsync();

        var scrape = await ScrapeAsync();

        Assert.Equal(0, scrape.Value("gateway_pg_connections_total{result=\"forwarded\",role=\"write\",site=\"A\"}"));
        Assert.Equal(0, scrape.Value("gateway_pg_connections_total{result=\"refused\",role=\"read\",site=\"none\"}"));
        Assert.Equal(0, scrape.Value("gateway_pg_active_sessions{role=\"read\",site=\"B\"}"));
    }

    [Fact]
    public async Task Process_and_runtime_figures_are_exposed_under_prometheus_names()
    {
        await StartGatewayAsync();

        var scrape = await ScrapeAsync();

        Assert.True(scrape.Value("process_cpu_seconds_total") > 0);
        Assert.True(scrape.Value("process_resident_memory_bytes") > 1024 * 1024);
        Assert.True(scrape.Value("process_start_time_seconds") > 1.6e9);
        Assert.True(scrape.Value("dotnet_gc_heap_size_bytes") >= 0);
        Assert.True(scrape.Value("dotnet_thread_pool_threads") >= 1);
        Assert.Contains("dotnet_gc_collections_total{generation=\"gen2\"}", scrape.Samples.Keys);
    }

    [Fact]
    public async Task Promtool_finds_no_problem_in_a_scrape_with_traffic()
    {
        await StartGatewayAsync();
        using var read = await Gateway.Public.GetAsync("/deposits/x");
        using var write = await Gateway.Public.PostAsync("/deposits?name=f", new ByteArrayContent([1]));

        var scrape = await ScrapeAsync();

        // promtool exits non-zero (and the runner throws with its findings) on a parse error or a lint problem.
        await PrometheusTools.CheckMetricsAsync(scrape.Text);
        Assert.Contains("gateway_request_duration_seconds_bucket", scrape.Names);
    }
}
