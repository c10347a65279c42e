using System.Text.Json.Nodes;

namespace Gateway.Tests.Observability;

/// <summary>A query the dashboard runs: a panel's target or an annotation.</summary>
public sealed record DashboardQuery(string Where, string Expression, JsonNode? Datasource);

/// <summary>The panels and queries of dashboards/gateway.json.</summary>
public sealed class GrafanaDashboard
{
    private GrafanaDashboard(JsonObject json) => Json = json;

    public JsonObject Json { get; }

    public static GrafanaDashboard Load() => new(JsonNode.Parse(File.ReadAllText(RepositoryFiles.Dashboard))!.AsObject());

    /// <summary>Every panel and row, those nested in collapsed rows too.</summary>
    public IReadOnlyList<JsonObject> PanelsAndRows =>
        Json["panels"]!.AsArray().Select(panel => panel!.AsObject())
            .SelectMany(panel => panel["panels"] is JsonArray nested ? [panel, .. nested.Select(p => p!.AsObject())] : new[] { panel })
            .ToList();

    /// <summary>The panels that show data; rows are layout.</summary>
    public IReadOnlyList<JsonObject> Panels => PanelsAndRows.Where(panel => (string?)panel["type"] != "row").ToList();

    public static string Title(JsonObject panel) => (string?)panel["title"] ?? "(untitled)";

    public static IReadOnlyList<DashboardQuery> QueriesOf(JsonObject panel) =>
        (panel["targets"] as JsonArray ?? [])
            .Select(target => target!.AsObject())
            .Select(target => new DashboardQuery($"panel '{Title(panel)}' target {target["refId"]}", (string?)target["expr"] ?? "", target["datasource"]))
            .ToList();

    public IReadOnlyList<DashboardQuery> Annotations =>
        (Json["annotations"]?["list"] as JsonArray ?? [])
            .Select(annotation => annotation!.AsObject())
            .Select(annotation => new DashboardQuery($"annotation '{annotation["name"]}'", (string?)annotation["expr"] ?? "", annotation["datasource"]))
            .ToList();

    public IReadOnlyList<DashboardQuery> AllQueries => [.. Panels.SelectMany(QueriesOf), .. Annotations];

    /// <summary>
    /// Grafana's own variables, as the dashboard's Prometheus would receive them for a short, recent range. A 1 m rate
    /// window holds enough 1 s scrapes for rate() to have two samples.
    /// </summary>
    public static string AsPrometheusQuery(string expression) =>
        expression.Replace("$__rate_interval", "1m").Replace("$__interval", "15s").Replace("$__range", "5m");
}
