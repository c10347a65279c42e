using Gateway.Configuration;
using Gateway.Coordinator.Switching;
using Microsoft.Extensions.Options;

namespace Gateway.Coordinator;

/// <summary>Site health, automatic failover and site switches: the <c>Gateway:Coordinator</c> section.</summary>
public sealed class CoordinatorOptions
{
    /// <summary>Fail over to the other site by itself when the active site stays unhealthy for FailoverAfter.</summary>
    public bool AutoFailover { get; set; } = true;

    /// <summary>Flap damping: how long the active site must be unhealthy, without a break, before an automatic failover.</summary>
    [Positive]
    public TimeSpan FailoverAfter { get; set; } = TimeSpan.FromSeconds(3);

    /// <summary>Flap damping: how long a site must be healthy, without a break, before it is trusted as a failover target.</summary>
    [Positive]
    public TimeSpan RecoverAfter { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>A site with fewer healthy service instances than this is unhealthy.</summary>
    [AtLeast(1)]
    public int MinHealthyInstances { get; set; } = 1;

    [Positive]
    public TimeSpan ObserveInterval { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>New writes held during a site switch, at most; more get 503 with Retry-After.</summary>
    [AtLeast(1)]
    public int MaxHeldWrites { get; set; } = 1000;

    /// <summary>How long a write may be held during a site switch before it gets 503 with Retry-After.</summary>
    [Positive]
    public TimeSpan MaxHoldTime { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How long a switch waits for in-flight writes to finish before it moves the database anyway.</summary>
    [Positive]
    public TimeSpan DrainTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How long a switch may spend replicating the filestore's remaining backlog before it flips the link.</summary>
    [Positive]
    public TimeSpan FinalSyncDeadline { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Before a switch changes anything, how long it may wait for the target's SAN to catch up with the source's (file
    /// replication started towards it, its initial sync done, nothing pending); past it the switch is refused.
    /// </summary>
    [Positive]
    public TimeSpan CatchUpTimeout { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>
    /// A site not yet seen healthy since the gateway started is still starting (its instances come up after the
    /// gateway): it is failed over only once it has stayed unhealthy this long, not after FailoverAfter.
    /// </summary>
    [Positive]
    public TimeSpan StartupGrace { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>A listing of a SAN directory unanswered for longer than this makes that SAN unresponsive (a hung mount), with an alarm.</summary>
    [Positive]
    public TimeSpan SanProbeTimeout { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Commands run before and after steps of a site switch (stop test servers, update DNS, page someone), in the order listed.</summary>
    [ValidateEnumeratedItems]
    public List<HookOptions> Hooks { get; set; } = [];
}

public enum HookWhen
{
    Before,
    After,
}

/// <summary>
/// One command run by /bin/sh -c before or after a step of a site switch, with GATEWAY_SWITCH_KIND, GATEWAY_FROM_SITE,
/// GATEWAY_TO_SITE, GATEWAY_EPOCH, GATEWAY_STEP and GATEWAY_HOOK_WHEN in its environment. Its exit code, duration and
/// the last 4 KiB of its output go into the switch's report. A failing Before hook aborts a planned switchover while
/// the database has not moved yet; every other failure is recorded and alarmed, and the switch goes on.
/// </summary>
public sealed class HookOptions
{
    /// <summary>A step id (persist-epoch, move-database, ..., or "switch" for the whole switch); see SwitchSteps.</summary>
    [HookableStep]
    public string Step { get; set; } = "";

    [RequiredValue(Requirement = "is required: Before or After")]
    public HookWhen? When { get; set; }

    [RequiredValue(Requirement = "is required (run by /bin/sh -c)")]
    public string Command { get; set; } = "";

    /// <summary>Past this the hook's whole process group is killed and the hook counts as failed.</summary>
    [Positive]
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(10);
}

/// <summary>A step a hook can be attached to: one of <see cref="SwitchSteps.Hookable"/>.</summary>
public sealed class HookableStepAttribute : OptionRuleAttribute
{
    protected override string? Problem(object? value)
    {
        var step = value as string ?? "";
        var valid = string.Join(", ", SwitchSteps.Hookable);
        return SwitchSteps.Hookable.Contains(step) ? null
            : step.Length == 0 ? $"is required; one of {valid}"
            : $"unknown step '{step}'; the steps are {valid}";
    }
}

/// <summary>The per-field rules of <see cref="CoordinatorOptions"/>, generated from their attributes.</summary>
[OptionsValidator]
public sealed partial class CoordinatorOptionsValidator : IValidateOptions<CoordinatorOptions>
{
}
