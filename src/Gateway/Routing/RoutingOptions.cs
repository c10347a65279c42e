using Gateway.Configuration;
using Microsoft.Extensions.Options;

namespace Gateway.Routing;

public enum WritePolicy
{
    /// <summary>Writes go to the active site while it has a healthy instance, otherwise to the other site.</summary>
    Prefer,

    /// <summary>Writes go to the active site only; with none healthy there they are refused (503).</summary>
    Require,
}

/// <summary>How requests are routed to the sites' instances: the <c>Gateway:Routing</c> section.</summary>
public sealed class RoutingOptions
{
    [Defined]
    public WritePolicy WritePolicy { get; set; } = WritePolicy.Prefer;

    [ValidateObjectMembers]
    public HealthCheckOptions HealthCheck { get; set; } = new();

    /// <summary>
    /// Host names the public listener answers to; empty accepts any. (Empty rather than ["*"] by default because the
    /// configuration binder appends to a list's initial items instead of replacing them.)
    /// </summary>
    [NoBlankEntries("must list host names (or \"*\"), no empty entries; leave it out to accept any host")]
    public List<string> AllowedHosts { get; set; } = [];
}

public sealed class HealthCheckOptions
{
    [Positive]
    public TimeSpan Interval { get; set; } = TimeSpan.FromMilliseconds(500);

    [Positive]
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(1);

    [StartsWith("/")]
    public string Path { get; set; } = "/healthz";

    /// <summary>Consecutive failed probes before an instance leaves rotation.</summary>
    [AtLeast(1)]
    public int UnhealthyAfterProbeFailures { get; set; } = 2;

    /// <summary>Consecutive failed proxied requests (connection refused, reset, timeout) before an instance leaves rotation.</summary>
    [AtLeast(1)]
    public int UnhealthyAfterRequestFailures { get; set; } = 1;

    /// <summary>
    /// Consecutive 5xx answers before an instance leaves rotation (an instance failing every request at once would
    /// otherwise stay in, its probe path still answering); any other answer starts the count again; 0 turns this off.
    /// </summary>
    [AtLeast(0, Requirement = "must be 0 (off) or more")]
    public int UnhealthyAfterConsecutive5xx { get; set; } = 5;

    /// <summary>How long an instance taken out by failed requests or 5xx answers stays out before active probes may bring it back.</summary>
    [Positive]
    public TimeSpan PassiveReactivationPeriod { get; set; } = TimeSpan.FromSeconds(2);
}

/// <summary>The per-field rules of <see cref="RoutingOptions"/>, generated from their attributes.</summary>
[OptionsValidator]
public sealed partial class RoutingOptionsValidator : IValidateOptions<RoutingOptions>
{
}
