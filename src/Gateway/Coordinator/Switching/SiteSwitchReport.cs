using Gateway.Coordinator.Hooks;
using Gateway.Database.Failover;
using Gateway.Operations;

namespace Gateway.Coordinator.Switching;

public enum SwitchKind
{
    /// <summary>Operator-driven, both sites healthy: writes held and drained, zero lag required, nothing lost, no request fails.</summary>
    Switchover,

    /// <summary>The active site is lost (or the operator says so): the gates decide unless forced, and the report says what was not replicated.</summary>
    Failover,

    /// <summary>After a failover: the old site rebuilt as a replica (database standby, SAN caught up), ready for a switchover back. Never switches by itself.</summary>
    Failback,

    /// <summary>The database alone moved to the other node (an operator's promote, or the coordinator bringing it back to the active site); its hooks run on step "promote".</summary>
    Promotion,

    /// <summary>A node rebuilt as a standby of the primary, and file replication started towards its site; its hooks run on step "rejoin".</summary>
    Rejoin,
}

/// <summary>
/// What a whole-site switch did: its epoch, each step with start and duration, the database promotion's own report
/// (WAL not replicated), the files not replicated, the total time (the RTO as the gateway saw it), and every hook
/// run with its exit code, duration and output.
/// </summary>
public sealed record SiteSwitchReport(
    long Epoch,
    SwitchKind Kind,
    string From,
    string To,
    bool Succeeded,
    string Summary,
    IReadOnlyList<StepRecord> Steps,
    PromotionReport? Database,
    IReadOnlyList<string> UnreplicatedFiles,
    DateTimeOffset StartedAt,
    TimeSpan Total,
    IReadOnlyList<HookRun> Hooks) : IOperationReport;
