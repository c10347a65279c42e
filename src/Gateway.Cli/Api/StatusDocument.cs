using System.Text.Json;
using System.Text.Json.Serialization;

namespace Gateway.Cli.Api;

// Mirrors of GET /admin/status. Every field is optional: an older or newer gateway may lack one, and the table then
// shows "-" rather than the command failing. Sections this CLI does not know land in OtherSections and are shown generically.

public sealed class StatusDocument
{
    public long? Epoch { get; init; }
    public string? ActiveSite { get; init; }
    public bool? Switching { get; init; }
    public List<InstanceRow>? Instances { get; init; }
    public DatabaseSection? Database { get; init; }
    public List<AlarmRow>? Alarms { get; init; }
    public DrainedSection? Drained { get; init; }
    public PauseSection? Paused { get; init; }
    public FailoverForecast? IfFailoverNow { get; init; }

    [JsonExtensionData]
    public Dictionary<string, JsonElement>? OtherSections { get; init; }
}

public sealed class InstanceRow
{
    public string? Id { get; init; }
    public string? Site { get; init; }
    public string? Url { get; init; }
    public string? Health { get; init; }
    public int? InFlight { get; init; }

    /// <summary>True while the instance takes no new request (it or its site is drained).</summary>
    public bool? Drained { get; init; }
}

/// <summary>An operator's pause of automatic failover.</summary>
public sealed class PauseSection
{
    public string? Reason { get; init; }
    public string? By { get; init; }
    public DateTimeOffset? Since { get; init; }
    public DateTimeOffset? Until { get; init; }
}

/// <summary>"If you fail over now": what a failover to the other site would lose, and whether the automatic gate would let it.</summary>
public sealed class FailoverForecast
{
    public string? To { get; init; }
    public bool? GatePasses { get; init; }
    public string? Reason { get; init; }
    public long? DatabaseBytesBehind { get; init; }
    public double? DatabaseSecondsBehind { get; init; }
    public int? FilesNotReplicated { get; init; }
    public long? BytesNotReplicated { get; init; }
    public bool? FilesKnown { get; init; }
    public double? ExpectedRecoverySeconds { get; init; }
    public string? ExpectedRecoveryBasis { get; init; }
}

/// <summary>What operators drained, as they named it.</summary>
public sealed class DrainedSection
{
    public List<string>? Sites { get; init; }
    public List<string>? Instances { get; init; }
}

public sealed class DatabaseSection
{
    public string? Primary { get; init; }
    public List<string>? Fenced { get; init; }
    public EndpointDecision? Write { get; init; }
    public EndpointDecision? Read { get; init; }
    public List<DatabaseNodeRow>? Nodes { get; init; }
}

public sealed class EndpointDecision
{
    public string? Action { get; init; }
    public string? Site { get; init; }
    public string? Host { get; init; }
    public int? Port { get; init; }
    public string? Reason { get; init; }
}

public sealed class DatabaseNodeRow
{
    public string? Site { get; init; }
    public bool? Reachable { get; init; }
    public string? Error { get; init; }
    public string? Role { get; init; }
    public int? Timeline { get; init; }
    public long? ReplayLagBytes { get; init; }
    public double? ReplayLagSeconds { get; init; }
    public bool? ReplayPaused { get; init; }
    public bool? ReadOnly { get; init; }
    public bool? Fenced { get; init; }
    public string? SynchronousStandbyNames { get; init; }
}

public sealed class AlarmRow
{
    public string? Key { get; init; }
    public string? Message { get; init; }
    public DateTimeOffset? RaisedAt { get; init; }
}
