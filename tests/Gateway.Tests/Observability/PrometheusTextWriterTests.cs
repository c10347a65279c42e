using Gateway.Observability;

namespace Gateway.Tests.Observability;

public sealed class PrometheusTextWriterTests
{
    private static MetricSnapshot Gauge(string name, params SeriesSnapshot[] series) => new(name, "help", MetricType.Gauge, series);

    private static SeriesSnapshot Sample(double value, params (string Name, string Value)[] labels) =>
        SeriesSnapshot.Sample(labels.Select(label => new Label(label.Name, label.Value)).ToList(), value);

    [Fact]
    public void A_counter_is_written_with_help_type_and_labels()
    {
        var family = new MetricSnapshot("gateway_requests_total", "Requests through the proxy.", MetricType.Counter, [Sample(3, ("site", "A"))]);

        var text = PrometheusTextWriter.Write([family]);

        Assert.Equal(
            "# HELP gateway_requests_total Requests through the proxy.\n" +
            "# TYPE gateway_requests_total counter\n" +
            "gateway_requests_total{site=\"A\"} 3\n",
            text);
    }

    [Fact]
    public void A_series_without_labels_has_no_braces()
    {
        Assert.EndsWith("\ngateway_epoch 0\n", PrometheusTextWriter.Write([Gauge("gateway_epoch", Sample(0))]));
    }

    [Fact]
    public void Label_values_escape_backslash_quote_and_newline()
    {
        var text = PrometheusTextWriter.Write([Gauge("g", Sample(1, ("path", "C:\\dir \"x\"\nnext")))]);

        Assert.Contains("g{path=\"C:\\\\dir \\\"x\\\"\\nnext\"} 1\n", text);
    }

    [Fact]
    public void Help_escapes_backslash_and_newline_but_not_quotes()
    {
        var family = new MetricSnapshot("g", "a \\ b\n\"c\"", MetricType.Gauge, [Sample(1)]);

        Assert.StartsWith("# HELP g a \\\\ b\\n\"c\"\n", PrometheusTextWriter.Write([family]));
    }

    [Fact]
    public void A_histogram_writes_cumulative_buckets_ending_with_inf_then_sum_and_count()
    {
        var series = SeriesSnapshot.Histogram([new Label("site", "A")], [new Bucket(0.1, 2), new Bucket(1, 5), new Bucket(double.PositiveInfinity, 6)], 4.25);
        var family = new MetricSnapshot("gateway_request_duration_seconds", "Latency.", MetricType.Histogram, [series]);

        var text = PrometheusTextWriter.Write([family]);

        Assert.Equal(
            "# HELP gateway_request_duration_seconds Latency.\n" +
            "# TYPE gateway_request_duration_seconds histogram\n" +
            "gateway_request_duration_seconds_bucket{site=\"A\",le=\"0.1\"} 2\n" +
            "gateway_request_duration_seconds_bucket{site=\"A\",le=\"1\"} 5\n" +
            "gateway_request_duration_seconds_bucket{site=\"A\",le=\"+Inf\"} 6\n" +
            "gateway_request_duration_seconds_sum{site=\"A\"} 4.25\n" +
            "gateway_request_duration_seconds_count{site=\"A\"} 6\n",
            text);
    }

    [Fact]
    public void Families_series_and_labels_are_written_in_a_stable_order_whatever_the_input_order()
    {
        var b = Gauge("b_metric", Sample(1, ("site", "B"), ("instance", "b1")), Sample(2, ("site", "A"), ("instance", "a2")), Sample(3, ("instance", "a1"), ("site", "A")));
        var a = Gauge("a_metric", Sample(4));

        var lines = PrometheusTextWriter.Write([b, a]).Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(line => !line.StartsWith('#'));

        Assert.Equal(
            ["a_metric 4", "b_metric{instance=\"a1\",site=\"A\"} 3", "b_metric{instance=\"a2\",site=\"A\"} 2", "b_metric{instance=\"b1\",site=\"B\"} 1"],
            lines);
    }

    [Theory]
    [InlineData(double.PositiveInfinity, "+Inf")]
    [InlineData(double.NegativeInfinity, "-Inf")]
    [InlineData(double.NaN, "NaN")]
    [InlineData(0.0005, "0.0005")]
    [InlineData(1e21, "1E+21")]
    [InlineData(-2.5, "-2.5")]
    public void Values_use_the_syntax_prometheus_parses(double value, string expected)
    {
        Assert.Equal(expected, PrometheusTextWriter.FormatValue(value));
    }

    [Theory]
    [InlineData("gateway.requests", "{request}", true, "gateway_requests_total")]
    [InlineData("gateway.request.duration", "s", false, "gateway_request_duration_seconds")]
    [InlineData("gateway.db.replication.lag", "By", false, "gateway_db_replication_lag_bytes")]
    [InlineData("process.cpu", "s", true, "process_cpu_seconds_total")]
    [InlineData("gateway.failovers_total", "{failover}", true, "gateway_failovers_total")]
    [InlineData("gateway.wait_seconds", "s", false, "gateway_wait_seconds")]
    [InlineData("gateway.ratio", "1", false, "gateway_ratio")]
    [InlineData("9lives-count", null, false, "_9lives_count")]
    public void Instrument_names_and_units_become_prometheus_names(string instrument, string? unit, bool isCounter, string expected)
    {
        Assert.Equal(expected, PrometheusNames.Metric(instrument, unit, isCounter));
    }

    [Theory]
    [InlineData("gc.heap.generation", "gc_heap_generation")]
    [InlineData("status_class", "status_class")]
    [InlineData("__name__", "_name__")]
    public void Tag_keys_become_valid_unreserved_label_names(string tag, string expected)
    {
        Assert.Equal(expected, PrometheusNames.Label(tag));
    }
}
