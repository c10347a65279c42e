using Gateway.Configuration;
using Gateway.Database.Nodes;
using Gateway.Database.Observation;
using Gateway.Model;
using Gateway.Operations;
using Microsoft.Extensions.Options;

namespace Gateway.Database.Failover;

/// <summary>
/// Acts on every snapshot: keeps at most one writable node behind the gateway (startup reconciliation and split-brain
/// fencing) and keeps synchronous replication as the policy says. It never chooses to move the primary: that is the
/// site coordinator's one decision (CoordinatorDecision), which this observes for. Each cycle returns its sentence.
/// </summary>
public sealed partial class DatabaseSupervisor(
    DatabaseObserver observer,
    DatabaseFailover failover,
    ExclusiveOperation operations,
    DatabaseRoutingTable routing,
    GatewayState state,
    PgSessions sessions,
    NodeConnections nodes,
    Alarms alarms,
    IOptions<GatewayOptions> options,
    TimeProvider time,
    ILogger<DatabaseSupervisor> logger,
    ISiteDeathAgreement? deathAgreement = null) : BackgroundService
{
    public const string SplitBrainAlarm = "database-two-primaries";
    public const string FailoverRefusedAlarm = "database-failover-refused";
    public const string SyncDegradedAlarm = "database-synchronous-degraded";

    private readonly DatabaseOptions _options = options.Value.Database;
    private DateTimeOffset? _standbyAbsentSince;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await ResumeInterruptedSwitchAsync(stoppingToken);
        while (!stoppingToken.IsCancellationRequested)
        {
            var snapshot = await observer.NextAsync(stoppingToken);
            try
            {
                await SuperviseAsync(snapshot, stoppingToken);
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                Log.CycleFailed(logger, e.Message, e);
            }
        }
    }

    /// <summary>
    /// A gateway killed in the middle of a promotion restarts with writes held (see GatewayHost) and finishes the
    /// promotion its persisted state names: every step is idempotent, and the gate was passed before the epoch was
    /// written. An interrupted whole-site switch is the site coordinator's to finish: were the promotion finished here,
    /// it would mark the switch done while the filestore links still point at the old site.
    /// </summary>
    private async Task ResumeInterruptedSwitchAsync(CancellationToken cancellation)
    {
        if (state.Current is { Switching: true, SiteSwitchInterrupted: false } interrupted)
        {
            Log.Resuming(logger, interrupted.DatabasePrimary, interrupted.Epoch);
            await observer.NextAsync(cancellation);
            await operations.RunAsync(OperationSpec.ResumedPromotion(interrupted.DatabasePrimary), logger, operation =>
                failover.PromoteAsync(interrupted.DatabasePrimary, force: true, $"resuming the switch of epoch {interrupted.Epoch} interrupted by a gateway restart", operation, cancellation));
        }
    }

    /// <summary>One cycle; returns its sentence (what it fenced, what synchronous mode it keeps).</summary>
    public async Task<string> SuperviseAsync(DatabaseSnapshot snapshot, CancellationToken cancellation)
    {
        var fenced = await FenceUndesignatedPrimariesAsync(snapshot, cancellation);
        var synchronous = await KeepSynchronousModeAsync(snapshot, cancellation);
        return $"{fenced}; {synchronous}";
    }

    /// <summary>
    /// Invariant 1: a writable node that is not the designated primary (both claim primary after a restart, or
    /// someone promoted a standby by hand) is fenced at once and the alarm raised. The alarm stays until an operator
    /// rejoins that node: it records that two nodes took writes.
    /// </summary>
    private async Task<string> FenceUndesignatedPrimariesAsync(DatabaseSnapshot snapshot, CancellationToken cancellation)
    {
        // During a switch the failover runner owns both nodes (the new primary is promoted before it is designated).
        if (routing.Current.Primary is not { } designated)
        {
            return "a switch owns the nodes";
        }

        var rogue = snapshot.Nodes.Values.Where(n => n.IsPrimary && !n.DefaultReadOnly && n.SiteId != designated).ToList();
        foreach (var node in rogue)
        {
            routing.Fence(node.SiteId);
            sessions.CloseAll(node.SiteId, $"site {node.SiteId} claims primary but is not the designated one");
            await NodeSql.MakeReadOnlyAsync(nodes.For(node.SiteId), cancellation);
            alarms.Raise(SplitBrainAlarm,
                $"site {node.SiteId} was a writable primary although the gateway's persisted state names {designated} (epoch {routing.Current.Epoch}): {node.SiteId} fenced and made read-only; writes go only to {designated}");
        }

        return rogue.Count == 0 ? $"primary {designated} is the only writable node" : $"fenced {string.Join(", ", rogue.Select(n => n.SiteId))}: writable but not the designated primary {designated}";
    }

    private async Task<string> KeepSynchronousModeAsync(DatabaseSnapshot snapshot, CancellationToken cancellation)
    {
        var primary = routing.Current.Primary is { } site ? snapshot.Node(site) : null;
        var streaming = primary?.Peers.Any(peer => peer.IsStreaming) == true;
        _standbyAbsentSince = streaming ? null : _standbyAbsentSince ?? time.GetUtcNow();

        var verdict = SynchronousModeDecision.Decide(_options.SynchronousMode, primary, _standbyAbsentSince, _options.DegradeAfter, time.GetUtcNow());
        if (verdict is { Degraded: true, StandbyNames: "" } && primary is not null && primary.SynchronousStandbyNames != "")
        {
            verdict = await HoldDegradeUnlessAgreedAsync(verdict, primary.SiteId, cancellation);
        }

        if (verdict.Degraded)
        {
            alarms.Raise(SyncDegradedAlarm, verdict.Reason);
        }
        else
        {
            alarms.Clear(SyncDegradedAlarm);
        }

        if (primary is not null && verdict.StandbyNames is { } names && names != primary.SynchronousStandbyNames)
        {
            await NodeSql.SetSynchronousStandbysAsync(nodes.For(primary.SiteId), names, cancellation);
            Log.SynchronousChanged(logger, primary.SiteId, names, verdict.Reason);
        }

        return verdict.Reason;
    }

    /// <summary>
    /// In cluster mode, a primary acknowledging alone risks more than a standby's death: this gateway may be the one cut
    /// off (from the standby's site and from etcd's majority, still trusting its lease for a moment), while the other
    /// gateways, seeing the primary's site down, are about to fail over to that standby, losing every commit acknowledged
    /// alone meanwhile. So the primary goes asynchronous only when every gateway holding a session sees its site healthy
    /// (which this gateway can read only from etcd's majority); until then commits keep waiting for a standby.
    /// </summary>
    private async Task<SynchronousVerdict> HoldDegradeUnlessAgreedAsync(SynchronousVerdict verdict, string primarySite, CancellationToken cancellation)
    {
        if (deathAgreement is null)
        {
            return verdict;
        }

        var (agreed, why) = await deathAgreement.AgreeHealthyAsync(primarySite, cancellation);
        return agreed ? verdict : new(null, false, $"no standby streams from {primarySite}, but commits keep waiting for one (not degraded): {why}");
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 2, Level = LogLevel.Warning, Message = "synchronous_standby_names on {Site} set to '{Names}': {Reason}")]
        public static partial void SynchronousChanged(ILogger logger, string site, string names, string reason);

        [LoggerMessage(EventId = 4, Level = LogLevel.Warning, Message = "Resuming the switch to {Site} of epoch {Epoch}, interrupted by a gateway restart")]
        public static partial void Resuming(ILogger logger, string site, long epoch);

        [LoggerMessage(EventId = 3, Level = LogLevel.Error, Message = "Database supervisor cycle failed: {Message}")]
        public static partial void CycleFailed(ILogger logger, string message, Exception exception);
    }
}
