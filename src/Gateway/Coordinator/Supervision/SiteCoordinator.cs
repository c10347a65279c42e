using Gateway.Configuration;
using Gateway.Coordinator.State;
using Gateway.Coordinator.Switching;
using Gateway.Database;
using Gateway.Database.Failover;
using Gateway.Database.Observation;
using Gateway.Routing;
using Microsoft.Extensions.Options;
using Yarp.ReverseProxy;
using Yarp.ReverseProxy.Model;

namespace Gateway.Coordinator.Supervision;

/// <summary>
/// Watches both sites every ObserveInterval (instances, database node, SAN), keeps their damped health, and acts on
/// <see cref="CoordinatorDecision"/>: fails over when the active site stays down and the other is trusted, follows
/// an automatic database failover with the filestore and the writes, and finishes a switch a restart interrupted.
/// </summary>
public sealed partial class SiteCoordinator(
    SiteSwitch siteSwitch,
    GatewayState state,
    ActiveSiteState activeSite,
    DatabaseRoutingTable databaseRouting,
    DatabaseObserver databaseObserver,
    IProxyStateLookup proxyState,
    SiteTopology topology,
    Alarms alarms,
    IOptions<GatewayOptions> options,
    TimeProvider time,
    ILogger<SiteCoordinator> logger) : BackgroundService
{
    public const string FailoverRefusedAlarm = "site-failover-refused";

    /// <summary>How long an interrupted switch that could not be finished waits before it is tried again.</summary>
    private static readonly TimeSpan ResumeRetryInterval = TimeSpan.FromSeconds(2);

    private readonly CoordinatorOptions _policy = options.Value.Coordinator;
    private readonly Dictionary<string, SiteHealth> _health = [];
    private string? _lastReason;

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

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await FinishInterruptedSwitchAsync(stoppingToken);
        using var timer = new PeriodicTimer(_policy.ObserveInterval, time);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                await SuperviseAsync(stoppingToken);
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                Log.CycleFailed(logger, e.Message, e);
            }
        }
    }

    /// <summary>
    /// A gateway killed in the middle of a site switch restarts with the new active site persisted and writes held
    /// (see GatewayHost), and runs the switch again from the start, as a failover: every step is idempotent (the
    /// database step finds the primary already moved, or moves it; the links flip once), and the gate was passed
    /// before the epoch was written. Until the switch has finished it is retried; writes stay held meanwhile.
    /// An interrupted promotion alone is the database supervisor's; the site then follows it as usual.
    /// </summary>
    private async Task FinishInterruptedSwitchAsync(CancellationToken cancellation)
    {
        while (state.Current.SiteSwitchInterrupted)
        {
            var target = state.Current.ActiveSite;
            Log.Resuming(logger, target, state.Current.Epoch);
            try
            {
                var report = await siteSwitch.SwitchAsync(target, SwitchKind.Failover, force: true, $"resuming the switch to {target} interrupted by a gateway restart", cancellation);
                if (report.Succeeded)
                {
                    return;
                }

                Log.ResumeFailed(logger, target, report.Summary);
            }
            catch (SwitchInProgressException)
            {
                // An operator's switch got in first; it decides, and leaves the state switching only if it failed too.
            }

            await Task.Delay(ResumeRetryInterval, time, cancellation);
        }
    }

    private async Task SuperviseAsync(CancellationToken cancellation)
    {
        var now = time.GetUtcNow();
        var snapshot = new CoordinatorSnapshot(activeSite.ActiveSite, state.Current.Switching, databaseRouting.Current.Primary, Observe(now));
        var verdict = CoordinatorDecision.Decide(snapshot, _policy, now);
        if (verdict.Reason != _lastReason && verdict.Action != CoordinatorAction.None)
        {
            Log.Verdict(logger, verdict.Action, verdict.Reason);
        }

        _lastReason = verdict.Reason;
        switch (verdict.Action)
        {
            case CoordinatorAction.FailOver:
            case CoordinatorAction.FollowDatabase:
                alarms.Clear(FailoverRefusedAlarm);
                await SwitchAsync(verdict, cancellation);
                break;
            case CoordinatorAction.Refuse:
                alarms.Raise(FailoverRefusedAlarm, verdict.Reason);
                break;
            case CoordinatorAction.None:
                alarms.Clear(FailoverRefusedAlarm);
                break;
        }
    }

    private async Task SwitchAsync(CoordinatorVerdict verdict, CancellationToken cancellation)
    {
        try
        {
            var report = await siteSwitch.SwitchAsync(verdict.Target!, SwitchKind.Failover, force: false, "automatic: " + verdict.Reason, cancellation);
            if (!report.Succeeded)
            {
                alarms.Raise(FailoverRefusedAlarm, report.Summary);
            }
        }
        catch (SwitchInProgressException)
        {
            // An operator's switch is running; it decides.
        }
    }

    private IReadOnlyDictionary<string, SiteHealth> Observe(DateTimeOffset now)
    {
        var database = databaseObserver.Current;
        var healthyInstances = HealthyInstancesBySite();
        lock (_health)
        {
            foreach (var site in topology.Sites)
            {
                var observation = new SiteObservation(
                    site.Id,
                    healthyInstances.GetValueOrDefault(site.Id),
                    database.Node(site.Id) is { Reachable: true },
                    IsReadable(site.SanPath));
                _health[site.Id] = SiteHealth.Next(_health.GetValueOrDefault(site.Id), observation, _policy.MinHealthyInstances, now);
            }

            return new Dictionary<string, SiteHealth>(_health);
        }
    }

    private Dictionary<string, int> HealthyInstancesBySite() =>
        proxyState.TryGetCluster(ProxyConfigFactory.ClusterId, out var cluster)
            ? cluster.Destinations.Values
                .Where(d => Admin.GatewayStatusReader.HealthOf(d.Health) == DestinationHealth.Healthy)
                .GroupBy(SiteSelectionMiddleware.SiteOf)
                .ToDictionary(group => group.Key, group => group.Count())
            : [];

    private static bool IsReadable(string directory)
    {
        try
        {
            using var entries = Directory.EnumerateFileSystemEntries(directory).GetEnumerator();
            entries.MoveNext();
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 1, Level = LogLevel.Warning, Message = "Coordinator: {Action}: {Reason}")]
        public static partial void Verdict(ILogger logger, CoordinatorAction action, string reason);

        [LoggerMessage(EventId = 2, Level = LogLevel.Warning, Message = "Resuming the switch to site {Site} of epoch {Epoch}, interrupted by a gateway restart")]
        public static partial void Resuming(ILogger logger, string site, long epoch);

        [LoggerMessage(EventId = 4, Level = LogLevel.Error, Message = "The interrupted switch to site {Site} could not be finished; retrying: {Summary}")]
        public static partial void ResumeFailed(ILogger logger, string site, string summary);

        [LoggerMessage(EventId = 3, Level = LogLevel.Error, Message = "Coordinator cycle failed: {Message}")]
        public static partial void CycleFailed(ILogger logger, string message, Exception exception);
    }
}
