using System.Diagnostics.Metrics;
using Gateway.Configuration;
using Gateway.Coordinator;
using Gateway.Coordinator.Hooks;
using Gateway.Coordinator.Switching;
using Gateway.Database;
using Gateway.Observability;
using Gateway.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Gateway.Tests.Observability;

/// <summary>The metrics of the proxy, the PG endpoints and the admin API, as their owners call them.</summary>
public sealed class ComponentMetricsTests : IDisposable
{
    private readonly ServiceProvider _services = new ServiceCollection().AddMetrics().BuildServiceProvider();
    private readonly MetricsCollector _collector;

    public ComponentMetricsTests() =>
        _collector = new MetricsCollector(_services.GetRequiredService<IMeterFactory>(), NullLogger<MetricsCollector>.Instance);

    public void Dispose()
    {
        _collector.Dispose();
        _services.Dispose();
    }

    private string Scrape() => PrometheusTextWriter.Write(_collector.Collect());

    [Fact]
    public void A_pg_session_is_active_until_disposed_and_every_outcome_is_counted()
    {
        var metrics = new PgEndpointMetrics(_collector, new SiteTopology([new SiteOptions { Id = "A" }, new SiteOptions { Id = "B" }]));

        var session = metrics.Forwarding(DatabaseEndpointRole.Write, "A");
        var during = Scrape();
        session.Dispose();
        metrics.Refused(DatabaseEndpointRole.Read);
        metrics.Unreachable(DatabaseEndpointRole.Write, "B");
        var after = Scrape();

        Assert.Contains("gateway_pg_active_sessions{role=\"write\",site=\"A\"} 1\n", during);
        Assert.Contains("gateway_pg_active_sessions{role=\"write\",site=\"A\"} 0\n", after);
        Assert.Contains("gateway_pg_connections_total{result=\"forwarded\",role=\"write\",site=\"A\"} 1\n", after);
        Assert.Contains("gateway_pg_connections_total{result=\"refused\",role=\"read\",site=\"none\"} 1\n", after);
        Assert.Contains("gateway_pg_connections_total{result=\"unreachable\",role=\"write\",site=\"B\"} 1\n", after);
        Assert.Contains("gateway_pg_connections_total{result=\"unreachable\",role=\"read\",site=\"A\"} 0\n", after);
    }

    [Fact]
    public async Task Hook_runs_are_counted_by_step_when_and_result_from_zero_for_every_configured_hook_and_pass_promtool()
    {
        var options = new GatewayOptions();
        options.Coordinator.Hooks.Add(new HookOptions { Step = "move-database", When = HookWhen.Before, Command = "true" });
        var metrics = new SwitchMetrics(_collector, new WriteGate(1, TimeSpan.FromSeconds(1), TimeProvider.System), Options.Create(options));

        metrics.RecordHook(new HookRun("move-database", HookWhen.Before, "true", DateTimeOffset.UnixEpoch, TimeSpan.FromMilliseconds(5), 1, false, "", HookRun.Failed, "stopped"));
        var scrape = Scrape();

        Assert.Contains("gateway_switch_hook_runs_total{result=\"failed\",step=\"move-database\",when=\"before\"} 1\n", scrape);
        Assert.Contains("gateway_switch_hook_runs_total{result=\"timed_out\",step=\"move-database\",when=\"before\"} 0\n", scrape);
        Assert.Contains("gateway_switch_hook_runs_total{result=\"succeeded\",step=\"move-database\",when=\"before\"} 0\n", scrape);
        await PrometheusTools.CheckMetricsAsync(scrape);
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
