namespace Gateway.Tests.Observability;

/// <summary>The metric-name extraction the dashboard checks rely on.</summary>
public sealed class PromQlTests
{
    [Theory]
    [InlineData("up{job=\"gateway\"} == 0", "up")]
    [InlineData("sum by (site) (rate(gateway_requests_total{status_class=\"5xx\"}[$__rate_interval])) / sum by (site) (rate(gateway_requests_total[1m]))", "gateway_requests_total")]
    [InlineData("histogram_quantile(0.99, sum by (le, site) (rate(gateway_request_duration_seconds_bucket{site!=\"none\"}[5m])))", "gateway_request_duration_seconds_bucket")]
    [InlineData("gateway_db_replication_lag_bytes > 1048576", "gateway_db_replication_lag_bytes")]
    [InlineData("process_resident_memory_bytes offset 5m + on(instance) group_left(site) dotnet_gc_heap_size_bytes", "process_resident_memory_bytes,dotnet_gc_heap_size_bytes")]
    [InlineData("changes(gateway_epoch[1m]) > 0 and ignoring(kind) sum without (result) (gateway_failovers_total)", "gateway_epoch,gateway_failovers_total")]
    [InlineData("max(x_total{path=\"a{b}\"}) > bool 1e3", "x_total")]
    public void Finds_the_metric_names_an_expression_selects(string expression, string expected)
    {
        Assert.Equal(expected.Split(',').Order(), PromQl.MetricNames(expression).Order());
    }
}
