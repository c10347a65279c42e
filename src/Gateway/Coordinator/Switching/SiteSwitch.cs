using Gateway.Configuration;
using Gateway.Coordinator.Hooks;
using Gateway.Coordinator.Supervision;
using Gateway.Database;
using Gateway.Database.Failover;
using Gateway.Database.Observation;
using Gateway.Filestore;
using Gateway.Model;
using Gateway.Operations;
using Gateway.Routing;
using Microsoft.Extensions.Options;

namespace Gateway.Coordinator.Switching;

/// <summary>
/// Moves the whole service to the other site: check everything it will need first (<see cref="SwitchReadiness"/>,
/// doing the missing file catch-up before anything changes), persist the new epoch, hold and drain writes, finish the
/// filestore replication (abandoning the switch, nothing moved, if the target would lack a file and the switch is not
/// forced), move the database (fence, catch up, promote), flip the filestore links, route writes to the new site,
/// release the held writes; after a switchover, replicate back and rejoin the old primary as a standby. Configured
/// hooks run before and after each step (<see cref="SwitchSteps"/>). One operation at a time (<see cref="ExclusiveOperation"/>).
/// </summary>
public sealed class SiteSwitch(
    GatewayState state,
    ActiveSiteState activeSite,
    WriteGate writeGate,
    DatabaseFailover database,
    DatabaseObserver databaseObserver,
    DatabaseRoutingTable databaseRouting,
    DatabaseOperations databaseOperations,
    FilestoreReplication filestore,
    SanProbes sanProbes,
    SwitchHooks hooks,
    SwitchMetrics metrics,
    ExclusiveOperation operations,
    OperationHistory history,
    SiteTopology topology,
    IOptions<GatewayOptions> options,
    TimeProvider time,
    ILogger<SiteSwitch> logger)
{
    /// <summary>Raised when the old primary could not be rejoined as a standby after a switchover; cleared by the next successful rejoin.</summary>
    public const string RejoinFailedAlarm = "database-rejoin-failed";

    private readonly CoordinatorOptions _options = options.Value.Coordinator;

    /// <summary>Every switch's report, oldest first, kept across restarts.</summary>
    public IReadOnlyList<SiteSwitchReport> History => history.Read<SiteSwitchReport>(HistoryKinds.SiteSwitch);

    /// <exception cref="OperationInProgressException">Another operation runs.</exception>
    public Task<SiteSwitchReport> SwitchAsync(string to, SwitchKind kind, bool force, string why, CancellationToken cancellation) =>
        operations.RunAsync(OperationSpec.SiteSwitch(kind.ToString().ToLowerInvariant(), to), logger, async operation =>
        {
            var from = topology.PeerOf(to).Id;
            var hookSession = hooks.Begin(new SwitchDescription(kind, from, to, () => state.Current.Epoch), operation.Journal);
            var run = new SwitchRun(operation, hookSession, from, to, kind, force, why);
            var report = await RunSafelyAsync(run, cancellation);
            report = await FinishAsync(run, report, cancellation);
            metrics.Record(report);
            return report;
        });

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
        var (from, to) = (run.From, run.To);
        if (activeSite.ActiveSite == to && databaseRouting.Current.Primary == to && !state.Current.Switching)
        {
            return Report(run, true, $"site {to} is already active (epoch {state.Current.Epoch}): nothing to do");
        }

        if (await ReadyAsync(run, cancellation) is { } refusal)
        {
            return Report(run, false, refusal);
        }

        run.Started = true;
        try
        {
            return await RunStepsAsync(run, cancellation);
        }
        catch (HookAbortedException abort)
        {
            // Only before the database moves (HookFailurePolicy): undoing the epoch, the held writes and the stopped replication is all it takes.
            if (run.EpochPersisted)
            {
                await run.Journal.RunAsync(SwitchSteps.RollBack, "roll back", () => RollBackAsync(from, cancellation));
            }

            return Report(run, false, $"{run.Name} abandoned before '{abort.Step}': a Before hook failed ({abort.Reason}); site {from} stays active");
        }
    }

    /// <summary>
    /// The preconditions, before anything changes: refused with a sentence that says what to do, or the file catch-up
    /// the switch needs done first (and everything looked at again). Null when the switch may start.
    /// </summary>
    private async Task<string?> ReadyAsync(SwitchRun run, CancellationToken cancellation)
    {
        var verdict = SwitchReadiness.Decide(await FactsAsync(run, cancellation));
        if (verdict.Action == ReadinessAction.CatchUpFilestore)
        {
            var caughtUp = await run.Journal.RunAsync(SwitchSteps.CatchUpFilestore, verdict.Reason, async () =>
            {
                await filestore.ReplicateFromAsync(run.From, cancellation);
                var (done, outcome) = await filestore.WaitUntilCaughtUpAsync(run.From, _options.CatchUpTimeout, progress: null, cancellation);
                return (done, outcome);
            });
            verdict = caughtUp ? SwitchReadiness.Decide(await FactsAsync(run, cancellation)) : new(ReadinessAction.Refuse,
                $"{run.Name} refused before anything changed: SAN {run.To} did not catch up with SAN {run.From} within {_options.CatchUpTimeout} (see the filestore status); try again when it has");
        }

        return verdict.Action switch
        {
            ReadinessAction.Proceed => null,
            ReadinessAction.CatchUpFilestore => $"{run.Name} refused before anything changed: SAN {run.To} still is not a complete replica after catching up ({verdict.Reason})",
            _ => verdict.Reason,
        };
    }

    private async Task<SwitchFacts> FactsAsync(SwitchRun run, CancellationToken cancellation)
    {
        var (from, to) = (run.From, run.To);
        var snapshot = await databaseObserver.ObserveNowAsync(cancellation);
        var routes = databaseRouting.Current;
        var db = new SwitchDatabaseFacts(
            snapshot.Node(from) is { IsPrimary: true },
            snapshot.WhyNotFollowing(from, to),
            routes.Primary == to && snapshot.Node(to) is { IsPrimary: true },
            routes.IsFenced(to),
            PromotionDecision.Decide(snapshot, from, to, options.Value.Database.MaxLagOnFailover, run.Force));
        var status = filestore.Status;
        var files = new SwitchFilestoreFacts(
            filestore.LinkSite,
            status?.Direction.SourceSite,
            status?.InitialSync.Completed ?? false,
            status?.PendingFiles ?? 0,
            status?.PendingBytes ?? 0,
            sanProbes.StateOf(from),
            status?.ChangeEventsComplete ?? false);
        return new SwitchFacts(run.Kind, run.Force, from, to, db, files);
    }

    private async Task<SiteSwitchReport> RunStepsAsync(SwitchRun run, CancellationToken cancellation)
    {
        var (from, to, kind) = (run.From, run.To, run.Kind);
        await BeforeAsync(run, SwitchSteps.Switch, cancellation);
        var epoch = await StepAsync(run, SwitchSteps.PersistEpoch, "persist new epoch", () =>
        {
            // A resumed switch runs as a forced failover; what it resumes was planned if the switch it finishes was.
            var next = state.Change(s => s with
            {
                Epoch = s.Epoch + 1, ActiveSite = to, DatabasePrimary = to, Switching = true, ChangedAt = time.GetUtcNow(), Reason = run.Why,
                Planned = kind == SwitchKind.Switchover || (s.Switching && s.Planned),
            });
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

        // Before the database moves, so that a target that would lack a file stops the switch with nothing moved.
        var files = await StepAsync(run, SwitchSteps.FinishFilestoreReplication, "finish filestore replication", () => FinalSyncAsync(run, cancellation), cancellation);
        if (!files.Verdict.Flip)
        {
            await run.Journal.RunAsync(SwitchSteps.RollBack, "roll back", () => RollBackAsync(from, cancellation));
            return Report(run, false,
                $"{run.Name} abandoned before the database moved: {files.Verdict.Reason}; site {from} stays active. Bring SAN {from} back and retry, or force the failover to accept the loss (the report lists the files)",
                files: files.NotReplicated);
        }

        var promotion = await StepAsync(run, SwitchSteps.MoveDatabase, $"move the database to {to}", async () =>
        {
            // From here on the old primary may be fenced or stopped: the point of no return for hooks.
            run.DatabaseMoved = true;
            var report = await operations.RunWithinAsync(run.Operation, OperationSpec.Promotion(to), logger,
                promotion => database.PromoteAsync(to, run.Force, run.Why, promotion, cancellation, epochPersisted: true));
            return (report, report.Summary);
        }, cancellation);
        if (!promotion.Succeeded)
        {
            await run.Journal.RunAsync(SwitchSteps.RollBack, "roll back", () => RollBackAsync(from, cancellation));
            return Report(run, false, $"{run.Name} abandoned: {promotion.Summary}", promotion);
        }

        await StepAsync(run, SwitchSteps.FlipFilestoreLinks, $"flip filestore links to {to}", () => Task.FromResult(FlipLinks(to, files.Verdict)), cancellation);
        await StepAsync(run, SwitchSteps.RouteWrites, $"route writes to {to}", () =>
        {
            activeSite.Set(to);
            // The old primary waits for a rejoin: the next step's after a switchover (or, should this gateway be lost
            // before it, the coordinator's of whichever gateway leads then); after a failover an operator's, or its own
            // with RejoinAfterFailover Auto.
            state.Change(s => s with { Switching = false, ChangedAt = time.GetUtcNow(), AwaitingRejoin = from });
            writeGate.Open();
            return Task.FromResult($"held writes released ({writeGate.Held} waiting)");
        }, cancellation);

        var oldPrimary = "";
        if (kind == SwitchKind.Switchover)
        {
            // Both sites are healthy: the old one becomes a replica right away, files and database, so that a switch back needs no admin call.
            await StepAsync(run, SwitchSteps.ReplicateBack, $"replicate the filestore {to} -> {from}", async () =>
            {
                await filestore.ReplicateFromAsync(to, cancellation);
                return "started";
            }, cancellation);
            oldPrimary = "; " + await StepWithOutcomeAsync(run, SwitchSteps.RejoinOldPrimary, $"rejoin {from} as a standby of {to}", () => RejoinOldPrimaryAsync(run, cancellation), cancellation);
        }

        return Report(run, true,
            $"site {to} is active (epoch {epoch}, {kind.ToString().ToLowerInvariant()}); {promotion.Summary}; files: {files.Summary}{oldPrimary}",
            promotion, files.NotReplicated);
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

    /// <summary>A step whose outcome sentence is also its result (it goes into the report's summary).</summary>
    private async Task<string> StepWithOutcomeAsync(SwitchRun run, string id, string sentence, Func<Task<(bool Succeeded, string Outcome)>> action, CancellationToken cancellation) =>
        await StepAsync<string>(run, id, sentence, async () =>
        {
            var (_, outcome) = await action();
            return (outcome, outcome);
        }, cancellation);

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
        new(state.Current.Epoch, run.Kind, run.From, run.To, succeeded, summary, run.Journal.Steps, db, files ?? [], run.Operation.StartedAt, run.Operation.Elapsed, run.Hooks.Runs);

    /// <summary>What the final sync found, and whether the links may flip onto the target (<see cref="FinalFileDecision"/>).</summary>
    private sealed record FinalFiles(FinalFileVerdict Verdict, IReadOnlyList<string> NotReplicated, string Summary);

    /// <summary>
    /// Replicates what is left and stops the replicator, so nothing is copied onto the new active SAN after the flip.
    /// When the links already point at the new site (a switch resumed after a restart that interrupted it past the
    /// flip), there is nothing to finish: the replicator then already runs from the new site, and must keep doing so.
    /// </summary>
    private async Task<(FinalFiles, string)> FinalSyncAsync(SwitchRun run, CancellationToken cancellation)
    {
        var san = topology.Site(run.To).SanPath;
        if (options.Value.Filestore.Links.All(link => FilestoreLink.PointsAt(link, san)))
        {
            var already = new FinalFiles(new FinalFileVerdict(true, FlipBasis.NothingKnownMissing, "the links already point at it"), [],
                $"the filestore links already pointed at SAN {run.To} (a resumed switch; not compared now)");
            return (already, already.Summary);
        }

        FinalSyncResult result;
        try
        {
            result = await filestore.FinalSyncAndStopAsync(_options.FinalSyncDeadline, cancellation);
        }
        catch (InvalidOperationException e)
        {
            result = new FinalSyncResult(new ReplicationDirection(run.From, "", run.To, san), false, [], TimeSpan.Zero, e.Message, ComparedBothSides: false);
        }

        var verdict = FinalFileDecision.Decide(run.Force, result.TargetIsCompleteReplica, result.ComparedBothSides, result.NotReplicated, result.Failure);
        var summary = verdict.Basis switch
        {
            FlipBasis.VerifiedComplete => $"every file replicated (a comparison of both SANs just found none missing on SAN {run.To})",
            FlipBasis.NothingKnownMissing => $"no file known to be missing on SAN {run.To} ({result.Failure})",
            _ => $"{result.NotReplicated.Count} file(s) not replicated to SAN {run.To}{(verdict.Flip ? ", flipped anyway (FORCED)" : "")}",
        };
        return (new FinalFiles(verdict, result.NotReplicated, summary), $"{summary}; {verdict.Reason}");
    }

    private string FlipLinks(string to, FinalFileVerdict verdict)
    {
        var san = topology.Site(to).SanPath;
        var basis = verdict.Basis switch
        {
            FlipBasis.VerifiedComplete => "complete replica, verified",
            FlipBasis.NothingKnownMissing => "no file known to be missing",
            _ => "FORCED onto an incomplete replica",
        };
        var flips = options.Value.Filestore.Links.Select(link => FilestoreLink.Flip(link, san, verdict.Basis != FlipBasis.Forced, verdict.Basis == FlipBasis.Forced, basis));
        return string.Join("; ", flips.Select(flip => flip.Description));
    }

    /// <summary>
    /// After a switchover, as Patroni does: the cleanly stopped old primary starts again as a standby of the new one,
    /// without an admin call (a failure raises <see cref="RejoinFailedAlarm"/>; the switch itself has succeeded).
    /// </summary>
    private async Task<(bool, string)> RejoinOldPrimaryAsync(SwitchRun run, CancellationToken cancellation)
    {
        var report = await databaseOperations.RejoinWithinAsync(run.Operation, run.From, RejoinMethod.Auto, cancellation);
        return report.Succeeded ? (true, $"old primary {run.From}: {report.Summary}") : (false, $"old primary {run.From} NOT rejoined: {report.Summary}");
    }

    /// <summary>Undoes a switch abandoned before its database step finished: the old site active again, its writes released, its SAN replicated again.</summary>
    private async Task<string> RollBackAsync(string from, CancellationToken cancellation)
    {
        var primary = databaseRouting.Current.Primary ?? from;
        state.Change(s => s with { ActiveSite = from, DatabasePrimary = primary, Switching = false, ChangedAt = time.GetUtcNow(), Reason = "switch abandoned" });
        writeGate.Open();
        var replication = "";
        if (filestore.LinkSite == from)
        {
            await filestore.ReplicateFromAsync(from, cancellation);
            replication = $"; replication from SAN {from} runs again";
        }

        return $"site {from} stays active; held writes released to it{replication}";
    }

    /// <summary>One switch under way: who it moves, its journal and hooks, and how far it got (what an abort must undo).</summary>
    private sealed class SwitchRun(OperationRun operation, SwitchHooks.HookSession hooks, string from, string to, SwitchKind kind, bool force, string why)
    {
        public OperationRun Operation { get; } = operation;
        public StepJournal Journal => Operation.Journal;
        public SwitchHooks.HookSession Hooks { get; } = hooks;
        public string From { get; } = from;
        public string To { get; } = to;
        public SwitchKind Kind { get; } = kind;
        public bool Force { get; } = force;
        public string Why { get; } = why;
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
}
