using System.Text.Json.Nodes;

namespace Gateway.Tests.Observability;

/// <summary>The shape of dashboards/gateway.json: what Grafana needs to show every panel from the provisioned datasource.</summary>
public sealed class DashboardTests
{
    private const string DatasourceVariable = "${DS_PROMETHEUS}";

    private readonly GrafanaDashboard _dashboard = GrafanaDashboard.Load();

    [Fact]
    public void Panel_ids_are_unique()
    {
        var ids = _dashboard.PanelsAndRows.Select(panel => (int)panel["id"]!).ToList();

        Assert.Equal(ids.Count, ids.Distinct().Count());
    }

    [Fact]
    public void No_two_panels_cover_the_same_cell_of_the_grid()
    {
        var owner = new Dictionary<(int X, int Y), string>();
        foreach (var panel in _dashboard.PanelsAndRows)
        {
            var grid = panel["gridPos"]!;
            var (x, y, w, h) = ((int)grid["x"]!, (int)grid["y"]!, (int)grid["w"]!, (int)grid["h"]!);
            for (var row = y; row < y + h; row++)
            {
                for (var column = x; column < x + w; column++)
                {
                    var title = GrafanaDashboard.Title(panel);
                    Assert.True(owner.TryAdd((column, row), title), $"'{title}' overlaps '{owner.GetValueOrDefault((column, row))}' at x={column}, y={row}");
                }
            }
        }
    }

    [Fact]
    public void Every_panel_has_a_prometheus_datasource_and_at_least_one_query()
    {
        foreach (var panel in _dashboard.Panels)
        {
            var title = GrafanaDashboard.Title(panel);
            AssertPrometheusDatasource(panel["datasource"], $"panel '{title}'");
            var queries = GrafanaDashboard.QueriesOf(panel);
            Assert.True(queries.Count > 0, $"panel '{title}' has no query");
            Assert.All(queries, query =>
            {
                Assert.False(string.IsNullOrWhiteSpace(query.Expression), $"{query.Where} has no expression");
                AssertPrometheusDatasource(query.Datasource, query.Where);
            });
        }
    }

    [Fact]
    public void Every_annotation_queries_the_prometheus_datasource()
    {
        Assert.NotEmpty(_dashboard.Annotations);
        Assert.All(_dashboard.Annotations, annotation =>
        {
            Assert.False(string.IsNullOrWhiteSpace(annotation.Expression), $"{annotation.Where} has no expression");
            AssertPrometheusDatasource(annotation.Datasource, annotation.Where);
        });
    }

    [Fact]
    public void The_datasource_variable_defaults_to_the_provisioned_datasource()
    {
        var variable = _dashboard.Json["templating"]!["list"]!.AsArray().Single(v => (string?)v!["name"] == "DS_PROMETHEUS")!;
        var provisioning = File.ReadAllText(Path.Combine(RepositoryFiles.Root, "deploy", "grafana", "provisioning", "datasources", "prometheus.yml"));

        Assert.Equal("datasource", (string?)variable["type"]);
        Assert.Equal("prometheus", (string?)variable["query"]);
        Assert.Contains($"uid: {(string?)variable["current"]!["value"]}\n", provisioning);
    }

    [Fact]
    public void Every_panel_has_a_place_on_the_24_column_grid()
    {
        foreach (var panel in _dashboard.PanelsAndRows)
        {
            var grid = panel["gridPos"]!;
            var (x, width) = ((int)grid["x"]!, (int)grid["w"]!);
            Assert.True(x >= 0 && width > 0 && x + width <= 24 && (int)grid["h"]! > 0, $"panel '{GrafanaDashboard.Title(panel)}' at x={x} w={width}");
        }
    }

    private static void AssertPrometheusDatasource(JsonNode? datasource, string where)
    {
        Assert.True(
            (string?)datasource?["type"] == "prometheus" && (string?)datasource?["uid"] == DatasourceVariable,
            $"{where}: datasource must be {{type: prometheus, uid: {DatasourceVariable}}}, is {datasource?.ToJsonString() ?? "missing"}");
    }
}
