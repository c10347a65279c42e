using System.Text.Json.Serialization;

namespace Broker.Health;

/// <summary>The /healthz body: <c>{"status":"ok"}</c> or <c>{"status":"unhealthy","reason":"..."}</c>.</summary>
internal sealed record HealthReport(string Status, [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? Reason)
{
    public static HealthReport Ok { get; } = new("ok", null);

    public static HealthReport Unhealthy(string reason) => new("unhealthy", reason);
}
