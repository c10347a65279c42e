using System.Text.Json;
using System.Text.Json.Serialization;

namespace Gateway.Cli.Api;

/// <summary>
/// The common part of every report the admin API returns (database promotion, rejoin, switchover, failover,
/// failback, drain) and of the entries of both histories: a verdict, a sentence, the steps. Whatever else a
/// report carries (epoch, RTO, unreplicated bytes or files, hook output...) stays in <see cref="Details"/>.
/// </summary>
public sealed class OperationReport
{
    public string? Kind { get; init; }
    public bool? Succeeded { get; init; }
    public string? Summary { get; init; }
    public List<StepRow>? Steps { get; init; }

    [JsonExtensionData]
    public Dictionary<string, JsonElement>? Details { get; init; }

    /// <summary>False for JSON that only happens to be an object (an ASP.NET problem document, say): it is not shown as a report.</summary>
    [JsonIgnore]
    public bool IsReport => Succeeded is not null || Summary is not null || Steps is not null;

    /// <summary>A detail as text for tables ("-" when absent), e.g. "epoch", "from", "to".</summary>
    public string Detail(string name) => Details is not null && Details.TryGetValue(name, out var value) ? Rendering.Format.Scalar(value) : "-";

    public bool HasDetail(string name) => Details?.ContainsKey(name) == true;
}

/// <summary>One journaled step: what it was, when it began, how long it took, how it ended (null while it runs).</summary>
public sealed class StepRow
{
    public string? Step { get; init; }
    public DateTimeOffset? StartedAt { get; init; }

    /// <summary>A .NET time span ("00:00:00.1420000") as the gateway writes it; kept raw so another encoding shows as it is.</summary>
    public JsonElement? Duration { get; init; }

    public string? Outcome { get; init; }
}

/// <summary>What <c>currentOperation</c> in the status says about the operation running now.</summary>
public sealed class CurrentOperation
{
    public string? Kind { get; init; }
    public DateTimeOffset? StartedAt { get; init; }
    public List<StepRow>? Steps { get; init; }
}
