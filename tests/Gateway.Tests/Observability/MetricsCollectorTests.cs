using System.Diagnostics;
using System.Diagnostics.Metrics;
using Gateway.Observability;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;

namespace Gateway.Tests.Observability;

/// <summary>The collector against real instruments on a real meter factory, as the gateway's components create them.</summary>
public sealed class MetricsCollectorTests : IDisposable
{
    private readonly ServiceProvider _services = new ServiceCollection().AddMetrics().BuildServiceProvider();
    private readonly MetricsCollector _collector;
    private readonly Meter _meter;

    public MetricsCollectorTests()
    {
        var factory = _services.GetRequiredService<IMeterFactory>();
        _collector = new MetricsCollector(factory, NullLogger<MetricsCollector>.Instance);
        _meter = _collector.Meter;
    }

    public void Dispose()
    {
        _collector.Dispose();
        _services.Dispose();
    }

    private MetricSnapshot Family(string name) => _collector.Collect().Single(family => family.Name == name);

    private static string Labels(SeriesSnapshot series) => string.Join(",", series.Labels.OrderBy(l => l.Name).Select(l => $"{l.Name}={l.Value}"));

    [Fact]
    public void Counter_adds_per_label_set_whatever_the_order_of_the_tags()
    {
        var counter = _meter.CreateCounter<long>("test.requests", "{request}", "Requests.");
        counter.Add(1, new("site", "A"), new("instance", "a1"));
        counter.Add(2, new("instance", "a1"), new("site", "A"));
        counter.Add(5, new("site", "B"), new("instance", "b1"));

        var family = Family("test_requests_total");

        Assert.Equal(MetricType.Counter, family.Type);
        Assert.Equal("Requests.", family.Help);
        Assert.Equal(
            ["instance=a1,site=A:3", "instance=b1,site=B:5"],
            family.Series.Select(s => $"{Labels(s)}:{s.Value}").Order());
    }

    [Fact]
    public void Up_down_counter_is_a_gauge_that_goes_down()
    {
        var sessions = _meter.CreateUpDownCounter<int>("test.sessions", "{session}", "Sessions.");
        sessions.Add(3);
        sessions.Add(-1);

        var family = Family("test_sessions");

        Assert.Equal(MetricType.Gauge, family.Type);
        Assert.Equal(2, family.Series.Single().Value);
    }

    [Fact]
    public void Histogram_counts_each_observation_in_the_first_bucket_whose_bound_is_at_least_the_value()
    {
        var duration = _meter.CreateHistogram<double>("test.duration", "s", "Latency.");
        foreach (var seconds in new[] { 0.0001, 0.0005, 0.003, 0.003, 42.0 })
        {
            duration.Record(seconds);
        }

        var series = Family("test_duration_seconds").Series.Single();

        var bucket = series.Buckets.ToDictionary(b => b.UpperBound, b => b.CumulativeCount);
        Assert.Equal(MetricFamily.LatencyBucketsSeconds.Length + 1, series.Buckets.Count);
        Assert.Equal(2, bucket[0.0005]);
        Assert.Equal(2, bucket[0.0025]);
        Assert.Equal(4, bucket[0.005]);
        Assert.Equal(4, bucket[30]);
        Assert.Equal(5, bucket[double.PositiveInfinity]);
        Assert.Equal(5, series.Count);
        Assert.Equal(42.0066, series.Sum, precision: 9);
    }

    [Fact]
    public void Histogram_uses_the_bucket_boundaries_the_instrument_advises()
    {
        var lag = _meter.CreateHistogram<long>("test.lag", "By", "Lag.", tags: null, advice: new InstrumentAdvice<long> { HistogramBucketBoundaries = [1024, 1_048_576] });
        lag.Record(2000);

        var series = Family("test_lag_bytes").Series.Single();

        Assert.Equal([(1024.0, 0L), (1_048_576.0, 1L), (double.PositiveInfinity, 1L)], series.Buckets.Select(b => (b.UpperBound, b.CumulativeCount)));
    }

    [Fact]
    public void Observable_gauge_reports_only_what_its_callback_returns_at_this_scrape()
    {
        var instances = new List<string> { "a1", "a2" };
        _meter.CreateObservableGauge("test.healthy", () => instances.Select(id => new Measurement<int>(1, new KeyValuePair<string, object?>("instance", id))), description: "Health.");

        var first = Family("test_healthy").Series.Select(Labels).Order().ToList();
        instances.Remove("a2");
        var second = Family("test_healthy").Series.Select(Labels).ToList();

        Assert.Equal(["instance=a1", "instance=a2"], first);
        Assert.Equal(["instance=a1"], second);
    }

    [Fact]
    public void A_failing_observable_instrument_leaves_only_its_own_series_out()
    {
        Func<int> broken = () => throw new InvalidOperationException("probe failed");
        _meter.CreateObservableGauge("test.broken", broken, description: "Broken.");
        _meter.CreateObservableGauge("test.working", () => 1, description: "Working.");

        Assert.Equal(["test_working"], _collector.Collect().Select(family => family.Name));
    }

    [Fact]
    public void Observable_counter_is_a_counter_holding_the_reported_total()
    {
        var total = 7.5;
        _meter.CreateObservableCounter("test.cpu", () => total, "s", "CPU.");

        var family = Family("test_cpu_seconds_total");

        Assert.Equal(MetricType.Counter, family.Type);
        Assert.Equal(7.5, family.Series.Single().Value);
    }

    [Fact]
    public void Instruments_of_another_meter_or_another_hosts_factory_are_not_collected()
    {
        using var otherMeter = new Meter(GatewayTelemetry.MeterName);
        using var otherHost = new ServiceCollection().AddMetrics().BuildServiceProvider();
        otherMeter.CreateCounter<long>("test.foreign").Add(1);
        otherHost.GetRequiredService<IMeterFactory>().Create(GatewayTelemetry.MeterName).CreateCounter<long>("test.other_host").Add(1);
        _services.GetRequiredService<IMeterFactory>().Create("NotGateway").CreateCounter<long>("test.not_gateway").Add(1);
        _meter.CreateCounter<long>("test.own", description: "Own.").Add(1);

        Assert.Equal(["test_own_total"], _collector.Collect().Select(family => family.Name));
    }

    [Fact]
    public void A_second_instrument_with_the_same_prometheus_name_is_left_out_so_the_exposition_stays_valid()
    {
        _meter.CreateCounter<long>("test.items", description: "First.").Add(1);
        _meter.CreateObservableCounter("test.items", () => 99L, description: "Second.");

        var family = Family("test_items_total");

        Assert.Equal("First.", family.Help);
        Assert.Equal(1, family.Series.Single().Value);
    }

    [Fact]
    public void Non_string_tag_values_are_formatted_invariantly()
    {
        _meter.CreateCounter<long>("test.typed").Add(1, new TagList { { "attempt", 2 }, { "retry", true } });

        Assert.Equal("attempt=2,retry=True", Labels(Family("test_typed_total").Series.Single()));
    }

    [Fact]
    public void Nothing_is_collected_for_an_instrument_that_recorded_nothing()
    {
        _meter.CreateCounter<long>("test.idle");

        Assert.DoesNotContain(_collector.Collect(), family => family.Name == "test_idle_total");
    }

    [Fact]
    public void Concurrent_adds_are_all_counted()
    {
        var counter = _meter.CreateCounter<long>("test.concurrent");
        var histogram = _meter.CreateHistogram<double>("test.concurrent.duration", "s");

        Parallel.For(0, 20_000, i =>
        {
            var site = (i % 2 == 0) ? "A" : "B";
            counter.Add(1, new KeyValuePair<string, object?>("site", site));
            histogram.Record(0.5, new KeyValuePair<string, object?>("site", site));
        });

        Assert.All(Family("test_concurrent_total").Series, series => Assert.Equal(10_000, series.Value));
        Assert.All(Family("test_concurrent_duration_seconds").Series, series => Assert.Equal((10_000L, 5000.0), (series.Count, series.Sum)));
    }
}
