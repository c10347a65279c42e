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
    /// A gateway killed in the middle of a site switch restarts with the new active site persisted: once the
    /// database supervisor has finished its part (a primary is designated again), the switch is run again to flip
    /// the links and release writes. Every step is idempotent.
    /// </summary>
    private async Task FinishInterruptedSwitchAsync(CancellationToken cancellation)
    {
        if (!state.Current.Switching)
        {
            return;
        }

        while (databaseRouting.Current.Primary is null)
        {
            await Task.Delay(_policy.ObserveInterval, time, cancellation);
        }

        var target = state.Current.ActiveSite;
        Log.Resuming(logger, target, state.Current.Epoch);
        await siteSwitch.SwitchAsync(target, SwitchKind.Failover, force: true, $"resuming the switch to {target} interrupted by a gateway restart", cancellation);
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

        [LoggerMessage(EventId = 3, Level = LogLevel.Error, Message = "Coordinator cycle failed: {Message}")]
        public static partial void CycleFailed(ILogger logger, string message, Exception exception);
    }
}
