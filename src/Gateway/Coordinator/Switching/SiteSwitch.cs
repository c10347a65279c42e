using Gateway.Configuration;
using Gateway.Coordinator.Hooks;
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
/// filestore links, route writes to the new site, release the held writes, report. Configured hooks run before and
/// after each step (<see cref="SwitchSteps"/>). One switch at a time.
/// </summary>
public sealed partial class SiteSwitch(
    GatewayState state,
    ActiveSiteState activeSite,
    WriteGate writeGate,
    DatabaseFailover database,
    DatabaseObserver databaseObserver,
    DatabaseRoutingTable databaseRouting,
    FilestoreReplication filestore,
    SwitchHooks hooks,
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
    public IReadOnlyList<StepRecord>? CurrentSteps => _current?.Steps;

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
        var from = topology.PeerOf(to).Id;
        var run = new SwitchRun(journal, hooks.Begin(new SwitchDescription(kind, from, to, () => state.Current.Epoch), journal), from, to, kind, force, why, time.GetUtcNow());
        using var span = Gateway.Observability.GatewayTelemetry.Source.StartActivity("site switch");
        span?.SetTag("gateway.to", to);
        _current = journal;
        try
        {
            var report = await RunSafelyAsync(run, cancellation);
            report = await FinishAsync(run, report, cancellation);
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
    private async Task<SiteSwitchReport> RunSafelyAsync(SwitchRun run, CancellationToken cancellation)
    {
        try
        {
            return await RunAsync(run, cancellation);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            writeGate.Open();
            var failedStep = run.Journal.Steps.LastOrDefault()?.Step ?? "start";
            return Report(run, false,
                $"{run.Name} stopped at '{failedStep}': {e.Message}; the state stays 'switching' (epoch {state.Current.Epoch}) until the switch is retried");
        }
    }

    private async Task<SiteSwitchReport> RunAsync(SwitchRun run, CancellationToken cancellation)
    {
        var (from, to, kind) = (run.From, run.To, run.Kind);
        if (activeSite.ActiveSite == to && databaseRouting.Current.Primary == to && !state.Current.Switching)
        {
            return Report(run, true, $"site {to} is already active (epoch {state.Current.Epoch}): nothing to do");
        }

        if (kind == SwitchKind.Switchover)
        {
            var database = await databaseObserver.ObserveNowAsync(cancellation);
            if (database.Node(from) is not { IsPrimary: true })
            {
                return Report(run, false, $"switchover to {to} refused: the database of site {from} is not a reachable primary; a planned switchover needs it (use failover)");
            }

            if (database.WhyNotFollowing(from, to) is { } notFollowing)
            {
                return Report(run, false, $"switchover to {to} refused: {notFollowing}; a planned switchover needs a standby that streams from the primary");
            }
        }

        run.Started = true;
        try
        {
            return await RunStepsAsync(run, cancellation);
        }
        catch (HookAbortedException abort)
        {
            // Only before the database moves (HookFailurePolicy): undoing the epoch and the held writes is all it takes.
            if (run.EpochPersisted)
            {
                await run.Journal.RunAsync(SwitchSteps.RollBack, "roll back", () => RollBackAsync(from));
            }

            return Report(run, false, $"{run.Name} abandoned before '{abort.Step}': a Before hook failed ({abort.Reason}); site {from} stays active");
        }
    }

    private async Task<SiteSwitchReport> RunStepsAsync(SwitchRun run, CancellationToken cancellation)
    {
        var (from, to, kind) = (run.From, run.To, run.Kind);
        await BeforeAsync(run, SwitchSteps.Switch, cancellation);
        var epoch = await StepAsync(run, SwitchSteps.PersistEpoch, "persist new epoch", () =>
        {
            var next = state.Change(s => s with { Epoch = s.Epoch + 1, ActiveSite = to, DatabasePrimary = to, Switching = true, ChangedAt = time.GetUtcNow(), Reason = run.Why });
            run.EpochPersisted = true;
            return Task.FromResult((next.Epoch, $"epoch {next.Epoch}: active site will be {to} ({run.Why})"));
        }, cancellation);

        await StepAsync(run, SwitchSteps.HoldWrites, "hold writes", () =>
        {
            writeGate.Close();
            return Task.FromResult("new write requests wait for the new active site");
        }, cancellation);
        await StepAsync(run, SwitchSteps.DrainWrites, "drain in-flight writes", async () =>
            await writeGate.DrainAsync(_options.DrainTimeout, cancellation) ? "none in flight" : $"{writeGate.InFlight} still in flight after {_options.DrainTimeout.TotalSeconds:0} s; moving on", cancellation);

        var promotion = await StepAsync(run, SwitchSteps.MoveDatabase, $"move the database to {to}", async () =>
        {
            // From here on the old primary may be fenced or stopped: the point of no return for hooks.
            run.DatabaseMoved = true;
            var report = await database.PromoteAsync(to, run.Force, run.Why, cancellation, epochPersisted: true);
            return (report, report.Summary);
        }, cancellation);
        if (!promotion.Succeeded)
        {
            await run.Journal.RunAsync(SwitchSteps.RollBack, "roll back", () => RollBackAsync(from));
            return Report(run, false, $"{run.Name} abandoned: {promotion.Summary}", promotion);
        }

        var unreplicated = await StepAsync(run, SwitchSteps.FinishFilestoreReplication, "finish filestore replication", () => FinalSyncAsync(to, cancellation), cancellation);
        await StepAsync(run, SwitchSteps.FlipFilestoreLinks, $"flip filestore links to {to}",
            () => Task.FromResult(FlipLinks(to, unreplicated.Complete, kind == SwitchKind.Failover || run.Force)), cancellation);
        await StepAsync(run, SwitchSteps.RouteWrites, $"route writes to {to}", () =>
        {
            activeSite.Set(to);
            state.Change(s => s with { Switching = false, ChangedAt = time.GetUtcNow() });
            writeGate.Open();
            return Task.FromResult($"held writes released ({writeGate.Held} waiting)");
        }, cancellation);

        if (kind == SwitchKind.Switchover)
        {
            // Both sites are healthy: keep the old one a replica right away (failback needs it anyway).
            await StepAsync(run, SwitchSteps.ReplicateBack, $"replicate the filestore {to} -> {from}", async () =>
            {
                await filestore.ReplicateFromAsync(to, cancellation);
                return "started";
            }, cancellation);
        }

        var files = unreplicated.Files;
        return Report(run, true,
            $"site {to} is active (epoch {epoch}, {kind.ToString().ToLowerInvariant()}); {promotion.Summary}; {(files.Count == 0 ? "every file replicated" : $"{files.Count} file(s) not replicated")}",
            promotion, files);
    }

    /// <summary>One step: its Before hooks (which may stop the switch), the step itself, journaled under its id, then its After hooks.</summary>
    private async Task<T> StepAsync<T>(SwitchRun run, string id, string sentence, Func<Task<(T Result, string Outcome)>> action, CancellationToken cancellation)
    {
        await BeforeAsync(run, id, cancellation);
        var result = await run.Journal.RunAsync(id, sentence, action);
        await run.Hooks.RunAsync(id, HookWhen.After, run.DatabaseMoved, cancellation);
        return result;
    }

    private Task StepAsync(SwitchRun run, string id, string sentence, Func<Task<string>> action, CancellationToken cancellation) =>
        StepAsync<bool>(run, id, sentence, async () => (true, await action()), cancellation);

    private static async Task BeforeAsync(SwitchRun run, string id, CancellationToken cancellation)
    {
        if (await run.Hooks.RunAsync(id, HookWhen.Before, run.DatabaseMoved, cancellation) is { } abort)
        {
            throw new HookAbortedException(id, abort.Reason);
        }
    }

    /// <summary>The After hooks of the whole switch, told how it ended; then the report carries every hook run and every journal entry.</summary>
    private async Task<SiteSwitchReport> FinishAsync(SwitchRun run, SiteSwitchReport report, CancellationToken cancellation)
    {
        if (run.Started)
        {
            var result = new Dictionary<string, string> { ["GATEWAY_SWITCH_RESULT"] = report.Succeeded ? "succeeded" : "failed" };
            await run.Hooks.RunAsync(SwitchSteps.Switch, HookWhen.After, run.DatabaseMoved, cancellation, result);
        }

        return report with { Steps = run.Journal.Steps, Hooks = run.Hooks.Runs };
    }

    private SiteSwitchReport Report(SwitchRun run, bool succeeded, string summary, PromotionReport? db = null, IReadOnlyList<string>? files = null) =>
        new(state.Current.Epoch, run.Kind, run.From, run.To, succeeded, summary, run.Journal.Steps, db, files ?? [], run.StartedAt, time.GetUtcNow() - run.StartedAt, run.Hooks.Runs);

    /// <summary>
    /// Replicates what is left and stops the replicator, so nothing is copied onto the new active SAN after the flip.
    /// When the links already point at the new site (a switch resumed after a restart that interrupted it past the
    /// flip), there is nothing to finish: the replicator then already runs from the new site, and must keep doing so.
    /// </summary>
    private async Task<((bool Complete, IReadOnlyList<string> Files), string)> FinalSyncAsync(string to, CancellationToken cancellation)
    {
        var san = topology.Site(to).SanPath;
        if (options.Value.Filestore.Links.All(link => FilestoreLink.PointsAt(link, san)))
        {
            return ((true, []), $"the filestore links already point at {san}: nothing left to replicate onto it");
        }

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

    /// <summary>One switch under way: who it moves, its journal and hooks, and how far it got (what an abort must undo).</summary>
    private sealed class SwitchRun(StepJournal journal, SwitchHooks.HookSession hooks, string from, string to, SwitchKind kind, bool force, string why, DateTimeOffset startedAt)
    {
        public StepJournal Journal { get; } = journal;
        public SwitchHooks.HookSession Hooks { get; } = hooks;
        public string From { get; } = from;
        public string To { get; } = to;
        public SwitchKind Kind { get; } = kind;
        public bool Force { get; } = force;
        public string Why { get; } = why;
        public DateTimeOffset StartedAt { get; } = startedAt;
        public string Name => $"{Kind.ToString().ToLowerInvariant()} to {To}";

        /// <summary>Past its preconditions: the switch's own After hooks run however it ends.</summary>
        public bool Started { get; set; }

        public bool EpochPersisted { get; set; }

        public bool DatabaseMoved { get; set; }
    }

    /// <summary>A Before hook failed where <see cref="HookFailurePolicy"/> says that stops the switch.</summary>
    private sealed class HookAbortedException(string step, string reason) : Exception($"a Before hook of {step} failed: {reason}")
    {
        public string Step { get; } = step;
        public string Reason { get; } = reason;
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 1, Level = LogLevel.Warning, Message = "Site switch: {Summary}")]
        public static partial void Finished(ILogger logger, string summary);
    }
}
