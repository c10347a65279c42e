using Gateway.Configuration;
using Gateway.Coordinator.State;
using Gateway.Database;
using Gateway.Database.Failover;
using Gateway.Database.Observation;
using Gateway.Filestore;
using Gateway.Routing;
using Microsoft.Extensions.Options;

namespace Gateway.Coordinator.Switching;

/// <summary>
/// Moves the whole service to the other site, as DESIGN.md §3 lays it out: persist the new epoch, hold and drain
/// writes, move the database (fence, catch up, promote), finish or account for the filestore replication, flip the
/// filestore links, route writes to the new site, release the held writes, report. One switch at a time.
/// </summary>
public sealed partial class SiteSwitch(
    GatewayState state,
    ActiveSiteState activeSite,
    WriteGate writeGate,
    DatabaseFailover database,
    DatabaseObserver databaseObserver,
    DatabaseRoutingTable databaseRouting,
    FilestoreReplication filestore,
    SwitchMetrics metrics,
    SiteTopology topology,
    IOptions<GatewayOptions> options,
    TimeProvider time,
    ILogger<SiteSwitch> logger)
{
    private readonly SemaphoreSlim _oneAtATime = new(1, 1);
    private readonly CoordinatorOptions _options = options.Value.Coordinator;
    private readonly List<SiteSwitchReport> _history = [];
    private volatile StepJournal? _current;

    /// <summary>The steps of the switch under way, for live progress in the admin status; null when none runs.</summary>
    public IReadOnlyList<StepRecord>? CurrentSteps => _current?.Steps.ToList();

    public IReadOnlyList<SiteSwitchReport> History
    {
        get
        {
            lock (_history)
            {
                return _history.ToList();
            }
        }
    }

    public async Task<SiteSwitchReport> SwitchAsync(string to, SwitchKind kind, bool force, string why, CancellationToken cancellation)
    {
        if (!await _oneAtATime.WaitAsync(TimeSpan.Zero, cancellation))
        {
            throw new SwitchInProgressException("a site switch is already running");
        }

        var journal = new StepJournal(time, logger, $"{kind.ToString().ToLowerInvariant()} to {to}");
        using var span = Gateway.Observability.GatewayTelemetry.Source.StartActivity("site switch");
        span?.SetTag("gateway.to", to);
        _current = journal;
        try
        {
            var report = await RunSafelyAsync(journal, to, kind, force, why, cancellation);
            lock (_history)
            {
                _history.Add(report);
            }

            metrics.Record(report);
            Log.Finished(logger, report.Summary);
            return report;
        }
        finally
        {
            _current = null;
            _oneAtATime.Release();
        }
    }

    /// <summary>
    /// A step that throws leaves the switch half done: writes are released whatever happens (held writes must never
    /// wait forever), the persisted state still says "switching" so a restart resumes it, and the report says where
    /// it stopped.
    /// </summary>
    private async Task<SiteSwitchReport> RunSafelyAsync(StepJournal journal, string to, SwitchKind kind, bool force, string why, CancellationToken cancellation)
    {
        try
        {
            return await RunAsync(journal, to, kind, force, why, cancellation);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            writeGate.Open();
            var failedStep = journal.Steps.LastOrDefault()?.Step ?? "start";
            return new SiteSwitchReport(state.Current.Epoch, kind, topology.PeerOf(to).Id, to, false,
                $"{kind.ToString().ToLowerInvariant()} to {to} stopped at '{failedStep}': {e.Message}; the state stays 'switching' (epoch {state.Current.Epoch}) until the switch is retried",
                journal.Steps, null, [], journal.Steps.FirstOrDefault()?.StartedAt ?? time.GetUtcNow(), TimeSpan.Zero);
        }
    }

    private async Task<SiteSwitchReport> RunAsync(StepJournal journal, string to, SwitchKind kind, bool force, string why, CancellationToken cancellation)
    {
        var startedAt = time.GetUtcNow();
        var from = topology.PeerOf(to).Id;
        SiteSwitchReport Report(bool succeeded, string summary, PromotionReport? db = null, IReadOnlyList<string>? files = null) =>
            new(state.Current.Epoch, kind, from, to, succeeded, summary, journal.Steps, db, files ?? [], startedAt, time.GetUtcNow() - startedAt);

        if (activeSite.ActiveSite == to && databaseRouting.Current.Primary == to && !state.Current.Switching)
        {
            return Report(true, $"site {to} is already active (epoch {state.Current.Epoch}): nothing to do");
        }

        if (kind == SwitchKind.Switchover)
        {
            var database = await databaseObserver.ObserveNowAsync(cancellation);
            if (database.Node(from) is not { IsPrimary: true })
            {
                return Report(false, $"switchover to {to} refused: the database of site {from} is not a reachable primary; a planned switchover needs it (use failover)");
            }

            if (database.WhyNotFollowing(from, to) is { } notFollowing)
            {
                return Report(false, $"switchover to {to} refused: {notFollowing}; a planned switchover needs a standby that streams from the primary");
            }
        }

        var epoch = await journal.RunAsync("persist new epoch", () =>
        {
            var next = state.Change(s => s with { Epoch = s.Epoch + 1, ActiveSite = to, DatabasePrimary = to, Switching = true, ChangedAt = time.GetUtcNow(), Reason = why });
            return Task.FromResult((next.Epoch, $"epoch {next.Epoch}: active site will be {to} ({why})"));
        });

        await journal.RunAsync("hold writes", () =>
        {
            writeGate.Close();
            return Task.FromResult("new write requests wait for the new active site");
        });
        await journal.RunAsync("drain in-flight writes", async () =>
            await writeGate.DrainAsync(_options.DrainTimeout, cancellation) ? "none in flight" : $"{writeGate.InFlight} still in flight after {_options.DrainTimeout.TotalSeconds:0} s; moving on");

        var promotion = await journal.RunAsync($"move the database to {to}", async () =>
        {
            var report = await database.PromoteAsync(to, force, why, cancellation, epochPersisted: true);
            return (report, report.Summary);
        });
        if (!promotion.Succeeded)
        {
            await journal.RunAsync("roll back", () => RollBackAsync(from));
            return Report(false, $"{kind.ToString().ToLowerInvariant()} to {to} abandoned: {promotion.Summary}", promotion);
        }

        var unreplicated = await journal.RunAsync("finish filestore replication", () => FinalSyncAsync(cancellation));
        await journal.RunAsync($"flip filestore links to {to}", () => Task.FromResult(FlipLinks(to, unreplicated.Complete, kind == SwitchKind.Failover || force)));
        await journal.RunAsync($"route writes to {to}", () =>
        {
            activeSite.Set(to);
            state.Change(s => s with { Switching = false, ChangedAt = time.GetUtcNow() });
            writeGate.Open();
            return Task.FromResult($"held writes released ({writeGate.Held} waiting)");
        });

        if (kind == SwitchKind.Switchover)
        {
            // Both sites are healthy: keep the old one a replica right away (failback needs it anyway).
            await journal.RunAsync($"replicate the filestore {to} -> {from}", async () =>
            {
                await filestore.ReplicateFromAsync(to, cancellation);
                return "started";
            });
        }

        var files = unreplicated.Files;
        return Report(true,
            $"site {to} is active (epoch {epoch}, {kind.ToString().ToLowerInvariant()}); {promotion.Summary}; {(files.Count == 0 ? "every file replicated" : $"{files.Count} file(s) not replicated")}",
            promotion, files);
    }

    private async Task<((bool Complete, IReadOnlyList<string> Files), string)> FinalSyncAsync(CancellationToken cancellation)
    {
        try
        {
            var result = await filestore.FinalSyncAndStopAsync(_options.FinalSyncDeadline, cancellation);
            var outcome = result.TargetIsCompleteReplica
                ? $"complete replica after {result.Elapsed.TotalMilliseconds:0} ms"
                : $"{result.NotReplicated.Count} file(s) not replicated within {_options.FinalSyncDeadline.TotalSeconds:0} s{(result.Failure is null ? "" : ": " + result.Failure)}";
            return ((result.TargetIsCompleteReplica, result.NotReplicated), outcome);
        }
        catch (InvalidOperationException e)
        {
            return ((false, []), $"not replicated: {e.Message}");
        }
    }

    private string FlipLinks(string to, bool targetComplete, bool force)
    {
        var san = topology.Site(to).SanPath;
        var flips = options.Value.Filestore.Links.Select(link => FilestoreLink.Flip(link, san, targetComplete, force));
        return string.Join("; ", flips.Select(flip => flip.Description));
    }

    private Task<string> RollBackAsync(string from)
    {
        var primary = databaseRouting.Current.Primary ?? from;
        state.Change(s => s with { ActiveSite = from, DatabasePrimary = primary, Switching = false, ChangedAt = time.GetUtcNow(), Reason = "switch abandoned" });
        writeGate.Open();
        return Task.FromResult($"site {from} stays active; held writes released to it");
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 1, Level = LogLevel.Warning, Message = "Site switch: {Summary}")]
        public static partial void Finished(ILogger logger, string summary);
    }
}
