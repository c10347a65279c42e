using System.Text.Json;
using Gateway.Configuration;
using Gateway.Coordinator.Admin;
using Gateway.Coordinator.Audit;
using Gateway.Coordinator.Pausing;
using Gateway.Coordinator.Switching;
using Gateway.Database;
using Gateway.Database.Failover;
using Gateway.Database.Observation;
using Gateway.Filestore;
using Gateway.Hosting;
using Gateway.Model;
using Gateway.Operations;
using Gateway.Routing;
using Microsoft.Extensions.Options;
using Polly;
using Yarp.ReverseProxy;
using Yarp.ReverseProxy.Model;

namespace Gateway.Coordinator.Supervision;

/// <summary>
/// The one HA loop: every ObserveInterval it observes both sites (instances, database node, SAN), the database
/// routes, the file replication and the pause; asks <see cref="CoordinatorDecision"/> what to do; and does it: a
/// site failover, a database-only promotion, a rejoin, or an alarm. It also finishes a switch a restart interrupted.
/// Each cycle returns the sentence it logs; automatic moves (and moves a pause stopped) go to the audit log.
/// </summary>
public sealed partial class SiteCoordinator(
    SiteSwitch siteSwitch,
    DatabaseOperations databaseOperations,
    GatewayState state,
    ActiveSiteState activeSite,
    DatabaseRoutingTable databaseRouting,
    DatabaseObserver databaseObserver,
    FilestoreReplication filestore,
    SanProbes sanProbes,
    AutomaticFailoverPause pause,
    AuditLog audit,
    IOperationPublisher operations,
    IProxyStateLookup proxyState,
    SiteTopology topology,
    Alarms alarms,
    IOptions<GatewayOptions> options,
    TimeProvider time,
    ILogger<SiteCoordinator> logger,
    ISiteDeathAgreement? deathAgreement = null) : BackgroundService, IObserveWhileFollowing
{
    public const string FailoverRefusedAlarm = "site-failover-refused";
    public const string SanUnresponsiveAlarm = "filestore-san-unresponsive";
    public const string DeletesHeldAlarm = "filestore-deletes-held";
    public const string PauseOverdueAlarm = "automatic-failover-paused-overdue";

    private readonly CoordinatorOptions _coordinator = options.Value.Coordinator;
    private readonly FailoverPolicy _policy = FailoverPolicy.From(options.Value);
    private readonly ResiliencePipeline<bool> _resumeRetry = ResumeRetry.Create(time);
    private readonly Dictionary<string, SiteHealth> _health = [];
    private (CoordinatorAction, string?)? _lastVerdict;

    // A move a pause stopped is audited once per pause and target, however often the verdict wavers in between.
    private (DateTimeOffset PausedSince, string? Target)? _pausedAudited;

    public IReadOnlyDictionary<string, SiteHealth> Health
    {
        get
        {
            lock (_health)
            {
                return new Dictionary<string, SiteHealth>(_health);
            }
        }
    }

    /// <summary>The snapshot of the last cycle (the status' "if you fail over now" is computed from it); null before the first.</summary>
    public CoordinatorSnapshot? LastSnapshot { get; private set; }

    /// <summary>"If you fail over now": the joint gate for a move to the other site, from the last cycle's snapshot.</summary>
    public FailoverGateResult? Forecast() =>
        LastSnapshot is { } snapshot ? CoordinatorDecision.Gate(snapshot, _policy, snapshot.ActiveSite, topology.PeerOf(snapshot.ActiveSite).Id) : null;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await FinishInterruptedSwitchAsync(stoppingToken);
        using var timer = new PeriodicTimer(_coordinator.ObserveInterval, time);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                await SuperviseOnceAsync(stoppingToken);
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                Log.CycleFailed(logger, e.Message, e);
            }
        }
    }

    /// <summary>
    /// In cluster mode, while another gateway leads: the sites' health is tracked as the leader tracks it, and nothing
    /// is decided. A gateway that starts to lead when a site has just been lost then sees that site as down since it
    /// went down, and as up before, not as a site that was never seen healthy (the start-up grace) from its first look.
    /// </summary>
    public async Task ObserveWhileFollowingAsync(CancellationToken cancellation)
    {
        using var timer = new PeriodicTimer(_coordinator.ObserveInterval, time);
        while (await timer.WaitForNextTickAsync(cancellation))
        {
            Observe(time.GetUtcNow());
        }
    }

    /// <summary>
    /// A gateway killed in the middle of a site switch restarts with the new active site persisted and writes held
    /// (see GatewayHost), and runs the switch again from the start, as a forced failover: every step is idempotent
    /// (the database step finds the primary already moved, or moves it; the links flip once), and the gate was passed
    /// before the epoch was written; its readiness check still catches the filestore up first. Until the switch has
    /// finished it is retried; writes stay held meanwhile. An interrupted promotion alone is the database supervisor's.
    /// </summary>
    private async Task FinishInterruptedSwitchAsync(CancellationToken cancellation)
    {
        if (state.Current.SiteSwitchInterrupted)
        {
            await _resumeRetry.ExecuteAsync(TryFinishInterruptedSwitchAsync, cancellation);
        }
    }

    /// <summary>One attempt (see <see cref="ResumeRetry"/>); true once the state no longer says an interrupted switch runs.</summary>
    private async ValueTask<bool> TryFinishInterruptedSwitchAsync(CancellationToken cancellation)
    {
        var target = state.Current.ActiveSite;
        Log.Resuming(logger, target, state.Current.Epoch);
        try
        {
            // In a cluster the gateway that started the switch published how far it got: the report says where it stopped.
            var where = operations.Latest is { Ended: false } left ? $" ({left.Where})" : "";
            var report = await siteSwitch.SwitchAsync(target, SwitchKind.Failover, force: true, $"resuming the switch to {target} left unfinished by a gateway restart or a lost leader{where}", cancellation);
            if (report.Succeeded)
            {
                return true;
            }

            Log.ResumeFailed(logger, target, report.Summary);
        }
        catch (OperationInProgressException)
        {
            // An operator's switch got in first; it decides, and leaves the state switching only if it failed too.
        }

        return !state.Current.SiteSwitchInterrupted;
    }

    /// <summary>One cycle: observe, decide, act. Returns the sentence that describes what it decided and did.</summary>
    public async Task<string> SuperviseOnceAsync(CancellationToken cancellation)
    {
        var now = time.GetUtcNow();
        var snapshot = Observe(now);
        LastSnapshot = snapshot;
        KeepConditionAlarms(snapshot, now);
        var verdict = CoordinatorDecision.Decide(snapshot, _policy, now);
        // Logged when what it decides changes, not every time the seconds in its sentence do.
        var changed = (verdict.Action, verdict.Target) != _lastVerdict;
        _lastVerdict = (verdict.Action, verdict.Target);
        var sentence = $"{verdict.Action}: {verdict.Reason}";
        if (await DisagreementAsync(verdict, snapshot, cancellation) is { } disagreement)
        {
            sentence += " => not done: " + disagreement;
            if (changed)
            {
                Log.Cycle(logger, sentence);
            }

            return sentence;
        }

        switch (verdict.Action)
        {
            case CoordinatorAction.FailOver:
            case CoordinatorAction.FollowDatabase:
                alarms.Clear(FailoverRefusedAlarm);
                sentence += " => " + await FailOverAsync(verdict, cancellation);
                break;
            case CoordinatorAction.PromoteDatabase:
                alarms.Clear(DatabaseSupervisor.FailoverRefusedAlarm);
                sentence += " => " + await PromoteAsync(verdict, cancellation);
                break;
            case CoordinatorAction.Rejoin:
                sentence += " => " + await RejoinAsync(verdict, cancellation);
                break;
            case CoordinatorAction.Refuse:
                alarms.Raise(snapshot.DatabasePrimary is { } primary && primary != snapshot.ActiveSite ? DatabaseSupervisor.FailoverRefusedAlarm : FailoverRefusedAlarm, verdict.Reason);
                break;
            case CoordinatorAction.Paused when snapshot.Pause is { } paused && _pausedAudited != (paused.Since, verdict.Target):
                _pausedAudited = (paused.Since, verdict.Target);
                Audit("paused", verdict.Target, verdict.Reason, StatusCodes.Status409Conflict, $"not done: {verdict.Reason}");
                break;
            case CoordinatorAction.None:
                alarms.Clear(FailoverRefusedAlarm);
                alarms.Clear(DatabaseSupervisor.FailoverRefusedAlarm);
                break;
        }

        if (changed && verdict.Action != CoordinatorAction.None)
        {
            Log.Cycle(logger, sentence);
        }

        return sentence;
    }

    /// <summary>
    /// A failover or a promotion accuses a site of being dead (the active site, or the primary's): with other gateways
    /// it is done only when those holding a session agree. Null when the move may go ahead.
    /// </summary>
    private async Task<string?> DisagreementAsync(CoordinatorVerdict verdict, CoordinatorSnapshot snapshot, CancellationToken cancellation)
    {
        var accused = verdict.Action switch
        {
            CoordinatorAction.FailOver => snapshot.ActiveSite,
            CoordinatorAction.PromoteDatabase => snapshot.DatabasePrimary ?? topology.PeerOf(verdict.Target!).Id,
            _ => null,
        };
        if (accused is null || deathAgreement is null)
        {
            return null;
        }

        var (agreed, why) = await deathAgreement.AgreeDeadAsync(accused, cancellation);
        return agreed ? null : why;
    }

    private async Task<string> FailOverAsync(CoordinatorVerdict verdict, CancellationToken cancellation)
    {
        try
        {
            var report = await siteSwitch.SwitchAsync(verdict.Target!, SwitchKind.Failover, force: false, "automatic: " + verdict.Reason, cancellation);
            Audit("failover", verdict.Target, verdict.Reason, report.Succeeded ? StatusCodes.Status200OK : StatusCodes.Status409Conflict, report.Summary);
            if (!report.Succeeded)
            {
                alarms.Raise(FailoverRefusedAlarm, report.Summary);
            }

            return report.Summary;
        }
        catch (OperationInProgressException e)
        {
            // An operator's operation runs; it decides.
            return e.Message;
        }
    }

    private async Task<string> PromoteAsync(CoordinatorVerdict verdict, CancellationToken cancellation)
    {
        try
        {
            var report = await databaseOperations.PromoteAsync(verdict.Target!, force: false, "automatic: " + verdict.Reason, cancellation);
            Audit("database/promote", verdict.Target, verdict.Reason, report.Succeeded ? StatusCodes.Status200OK : StatusCodes.Status409Conflict, report.Summary);
            if (!report.Succeeded)
            {
                alarms.Raise(DatabaseSupervisor.FailoverRefusedAlarm, report.Summary);
            }

            return report.Summary;
        }
        catch (OperationInProgressException e)
        {
            return e.Message;
        }
    }

    private async Task<string> RejoinAsync(CoordinatorVerdict verdict, CancellationToken cancellation)
    {
        try
        {
            var report = await databaseOperations.RejoinAsync(verdict.Target!, RejoinMethod.Auto, cancellation);
            Audit("database/rejoin", verdict.Target, verdict.Reason, report.Succeeded ? StatusCodes.Status200OK : StatusCodes.Status409Conflict,
                report.WhatItHad is { } had ? $"{report.Summary} (before the rebuild: {had})" : report.Summary);
            return report.Summary;
        }
        catch (OperationInProgressException e)
        {
            return e.Message;
        }
    }

    /// <summary>Conditions that are alarms while they last, whatever the verdict: a SAN not answering, deletes held, a pause past its end.</summary>
    private void KeepConditionAlarms(CoordinatorSnapshot snapshot, DateTimeOffset now)
    {
        var unresponsive = topology.Sites.Where(site => sanProbes.StateOf(site.Id) == SanState.Unresponsive).Select(site => $"{site.Id} ({site.SanPath})").ToList();
        Toggle(SanUnresponsiveAlarm, unresponsive.Count > 0,
            () => $"SAN {string.Join(", ", unresponsive)} has not answered a listing for more than {_coordinator.SanProbeTimeout.TotalSeconds:0.#} s (a hung mount?): its state is unknown");
        Toggle(DeletesHeldAlarm, filestore.Status?.HeldDeletes is not null,
            () => filestore.Status?.HeldDeletes is { } held
                ? $"{held.Count} delete(s) held since {held.Since:u}: more than {held.MaxPerMinute} in a minute (first: {string.Join(", ", held.FirstPaths)}); check the source SAN, then POST /admin/filestore/release-deletes"
                : "deletes held");
        Toggle(PauseOverdueAlarm, snapshot.Pause is { } p && now > p.Until,
            () => $"automatic failover is still paused past its planned end {snapshot.Pause!.Until:u} ({snapshot.Pause.Reason}, by {snapshot.Pause.By}); POST /admin/resume when done");
    }

    private void Toggle(string key, bool raised, Func<string> message)
    {
        if (raised)
        {
            alarms.Raise(key, message());
        }
        else
        {
            alarms.Clear(key);
        }
    }

    /// <summary>An automatic decision that moved something, or that a pause stopped, recorded as an operator's call would be, with caller "coordinator".</summary>
    private void Audit(string what, string? target, string why, int status, string result) =>
        audit.Append(new AuditEntry(
            time.GetUtcNow(), "coordinator", "AUTO", "/admin/" + what,
            JsonSerializer.Serialize(new { to = target, why }, AdminRequests.Json), false, status, result));

    private CoordinatorSnapshot Observe(DateTimeOffset now)
    {
        var database = databaseObserver.Current;
        var healthyInstances = HealthyInstancesBySite();
        Dictionary<string, SiteHealth> sites;
        lock (_health)
        {
            foreach (var site in topology.Sites)
            {
                var observation = new SiteObservation(
                    site.Id,
                    healthyInstances.GetValueOrDefault(site.Id),
                    database.Node(site.Id) is { Reachable: true },
                    sanProbes.StateOf(site.Id));
                _health[site.Id] = SiteHealth.Next(_health.GetValueOrDefault(site.Id), observation, _coordinator.MinHealthyInstances, now);
            }

            sites = new Dictionary<string, SiteHealth>(_health);
        }

        var routes = databaseRouting.Current;
        var replication = filestore.Status;
        var files = replication is null
            ? FilestoreFacts.NotRunning
            : new FilestoreFacts(replication.Direction.SourceSite, replication.InitialSync.Completed, replication.PendingFiles, replication.PendingBytes, replication.ChangeEventsComplete);
        var durable = state.Current;
        return new CoordinatorSnapshot(activeSite.ActiveSite, durable.Switching, routes.Primary, routes.Fenced, database, sites, files, pause.Current, durable.AwaitingRejoin, durable.Planned);
    }

    private Dictionary<string, int> HealthyInstancesBySite() =>
        proxyState.TryGetCluster(ProxyDestinations.ClusterId, out var cluster)
            ? cluster.Destinations.Values
                .Where(d => ProxyDestinations.HealthOf(d.Health) == DestinationHealth.Healthy)
                .GroupBy(ProxyDestinations.SiteOf)
                .ToDictionary(group => group.Key, group => group.Count())
            : [];

    private static partial class Log
    {
        [LoggerMessage(EventId = 1, Level = LogLevel.Warning, Message = "Coordinator: {Sentence}")]
        public static partial void Cycle(ILogger logger, string sentence);

        [LoggerMessage(EventId = 2, Level = LogLevel.Warning, Message = "Resuming the switch to site {Site} of epoch {Epoch}, interrupted by a gateway restart")]
        public static partial void Resuming(ILogger logger, string site, long epoch);

        [LoggerMessage(EventId = 4, Level = LogLevel.Error, Message = "The interrupted switch to site {Site} could not be finished; retrying: {Summary}")]
        public static partial void ResumeFailed(ILogger logger, string site, string summary);

        [LoggerMessage(EventId = 3, Level = LogLevel.Error, Message = "Coordinator cycle failed: {Message}")]
        public static partial void CycleFailed(ILogger logger, string message, Exception exception);
    }
}
