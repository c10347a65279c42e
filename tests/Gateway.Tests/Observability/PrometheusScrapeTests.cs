using System.Text.RegularExpressions;
using Xunit.Abstractions;

namespace Gateway.Tests.Observability;

/// <summary>
/// Every query of the dashboard and of the alert rules, evaluated by a real Prometheus that scrapes a real gateway
/// with traffic. A query that is not valid PromQL, a panel that shows nothing, or a name that no scrape holds fails.
/// </summary>
[Integration]
public sealed partial class PrometheusScrapeTests(ObservedGateway observed, ITestOutputHelper output) : IClassFixture<ObservedGateway>
{
    /// <summary>
    /// Metrics the dashboard and the rules use before their components emit them. When a component starts emitting
    /// one, the test below fails until it is removed from here and its panels are added to <see cref="PanelsWithData"/>.
    /// </summary>
    public static readonly IReadOnlySet<string> NotYetEmitted = new HashSet<string>
    {
    };

    /// <summary>The panels that must show data now; every other panel must query a metric of <see cref="NotYetEmitted"/>.</summary>
    public static readonly IReadOnlyList<string> PanelsWithData =
    [
        "Requests per second by site", "5xx ratio by site", "Latency percentiles", "p99 latency by site", "Requests by status class",
        "Instance health", "In-flight requests by instance", "Active site", "Epoch", "Replication lag (bytes)", "Replication lag (seconds)", "Writable databases", "Failovers", "SAN replication backlog", "Oldest unreplicated file", "PostgreSQL endpoint connections",
        "Admin API calls", "CPU", "Memory", "Garbage collections", "Thread pool", "Alarms", "Streaming standbys", "SAN replication running",
        "Last good backup", "Last passed restore drill", "Backup duration and write hold", "Backup size", "Backups and drills",
        "Leader per gateway", "Session valid", "Routed epoch per gateway", "Lease renewal latency", "Writes fenced", "etcd request failures",
    ];

    private readonly GrafanaDashboard _dashboard = GrafanaDashboard.Load();

    [Fact]
    public async Task Every_dashboard_query_is_valid_promql()
    {
        foreach (var query in _dashboard.AllQueries)
        {
            var answer = await observed.Prometheus.QueryAsync(GrafanaDashboard.AsPrometheusQuery(query.Expression));
            Assert.True(answer.GetProperty("status").GetString() == "success", $"{query.Where}: {query.Expression}\n{answer}");
        }
    }

    [Fact]
    public async Task The_panels_on_emitted_metrics_show_data()
    {
        foreach (var title in PanelsWithData)
        {
            var panel = _dashboard.Panels.Single(p => GrafanaDashboard.Title(p) == title);
            var series = 0;
            foreach (var query in GrafanaDashboard.QueriesOf(panel))
            {
                series += (await observed.Prometheus.ResultAsync(GrafanaDashboard.AsPrometheusQuery(query.Expression))).Count;
            }

            output.WriteLine($"data-checked: {title}: {series} series");
            Assert.True(series > 0, $"panel '{title}' shows no data");
        }
    }

    [Fact]
    public void Every_panel_not_checked_for_data_waits_for_a_metric_not_emitted_yet()
    {
        foreach (var panel in _dashboard.Panels.Where(p => !PanelsWithData.Contains(GrafanaDashboard.Title(p))))
        {
            var names = GrafanaDashboard.QueriesOf(panel).SelectMany(q => PromQl.MetricNames(q.Expression)).ToHashSet();
            output.WriteLine($"valid only (waits for {string.Join(", ", names)}): {GrafanaDashboard.Title(panel)}");
            Assert.True(names.Overlaps(NotYetEmitted), $"panel '{GrafanaDashboard.Title(panel)}' uses only emitted metrics: check it for data");
        }
    }

    [Fact]
    public async Task Every_metric_the_dashboard_and_the_rules_select_is_in_a_scrape_or_listed_as_not_emitted_yet()
    {
        var scraped = (await observed.ScrapeAsync()).Names;
        var rules = await observed.Prometheus.RulesAsync();
        var selected = _dashboard.AllQueries.Select(q => (q.Where, q.Expression))
            .Concat(rules.Select(rule => ($"rule {rule.GetProperty("name")}", rule.GetProperty("query").GetString()!)));

        foreach (var (where, expression) in selected)
        {
            foreach (var name in PromQl.MetricNames(expression).Where(name => name != "up"))
            {
                Assert.True(scraped.Contains(name) || NotYetEmitted.Contains(name), $"{where} selects {name}, which no scrape holds");
            }
        }

        Assert.Empty(NotYetEmitted.Intersect(scraped));
    }

    [Fact]
    public async Task Every_alert_rule_is_loaded_and_evaluates_without_error()
    {
        var rules = await observed.Prometheus.RulesAsync();

        Assert.Equal(AlertNamesInRuleFile().Order(), rules.Select(rule => rule.GetProperty("name").GetString()!).Order());
        foreach (var rule in rules)
        {
            Assert.True(rule.GetProperty("health").GetString() == "ok", $"rule {rule.GetProperty("name")}: {rule}");
            await observed.Prometheus.ResultAsync(rule.GetProperty("query").GetString()!);
        }
    }

    [Fact]
    public async Task Prometheus_sees_the_gateway_up_and_no_alert_fires_on_a_healthy_system()
    {
        var up = await observed.Prometheus.ResultAsync("up{job=\"gateway\"}");
        var firing = await observed.Prometheus.ResultAsync("ALERTS{alertstate=\"firing\"}");

        Assert.Equal("1", up.Single().GetProperty("value")[1].GetString());
        Assert.Empty(firing);
    }

    [Fact]
    public async Task The_gateways_instance_label_arrives_under_its_own_name_beside_the_scrape_targets()
    {
        var healthy = await observed.Prometheus.ResultAsync("gateway_instance_healthy");

        Assert.NotEmpty(healthy);
        foreach (var series in healthy)
        {
            var labels = series.GetProperty("metric");
            Assert.True(labels.TryGetProperty("service_instance", out _), $"no service_instance label: {labels}");
            Assert.False(labels.TryGetProperty("exported_instance", out _), $"a label clashed with the target's: {labels}");
            Assert.Equal($"127.0.0.1:{observed.AdminPort}", labels.GetProperty("instance").GetString());
        }
    }

    [Fact]
    public async Task Every_catalogued_alarm_is_a_series_prometheus_stores_at_zero_on_a_healthy_system()
    {
        var alarms = await observed.Prometheus.ResultAsync("gateway_alarm");

        Assert.Equal(
            Gateway.Model.AlarmCatalogue.All.Select(alarm => alarm.Key).Order(),
            alarms.Select(series => series.GetProperty("metric").GetProperty("alarm").GetString()!).Order());
        Assert.All(alarms, series => Assert.Equal("0", series.GetProperty("value")[1].GetString()));
    }

    private static IEnumerable<string> AlertNamesInRuleFile() =>
        AlertName().Matches(File.ReadAllText(RepositoryFiles.AlertRules)).Select(match => match.Groups[1].Value);

    [GeneratedRegex(@"^\s*- alert:\s*(\S+)\s*$", RegexOptions.Multiline)]
    private static partial Regex AlertName();
}
