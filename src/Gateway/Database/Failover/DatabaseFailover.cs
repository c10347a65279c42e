using Gateway.Configuration;
using Gateway.Database.Nodes;
using Gateway.Database.Observation;
using Gateway.Model;
using Gateway.Operations;
using Microsoft.Extensions.Options;
using Polly;

namespace Gateway.Database.Failover;

/// <summary>
/// Moves the primary role to another node, as a runbook: persist the new epoch, hold writes, fence the old primary,
/// let the standby catch up, check the RPO gate, promote, verify, switch the endpoints. Planned (old primary
/// reachable: zero lag required, nothing lost) or unplanned (old primary gone: the gate decides unless forced,
/// and the report says what may be lost). It runs as the body of an <see cref="ExclusiveOperation"/>, which holds
/// the gate (one operation at a time) and records the report in the durable history.
/// </summary>
public sealed class DatabaseFailover(
    DatabaseObserver observer,
    NodeConnections nodes,
    DatabaseRoutingTable routing,
    PgSessions sessions,
    NodeCommands commands,
    GatewayState state,
    SiteTopology topology,
    OperationHistory history,
    IOptions<GatewayOptions> options,
    TimeProvider time)
{
    private readonly DatabaseOptions _options = options.Value.Database;
    private readonly ResiliencePipeline _nodeAction = NodeActionPipeline.Create(time, TimeSpan.FromSeconds(5));
    private readonly ResiliencePipeline _singleAttempt = new ResiliencePipelineBuilder { TimeProvider = time }.AddTimeout(TimeSpan.FromSeconds(1)).Build();
    /// <summary>Every promotion's report, oldest first, kept across restarts.</summary>
    public IReadOnlyList<PromotionReport> History => history.Read<PromotionReport>(HistoryKinds.Promotion);

    /// <param name="operation">The operation this promotion is the body of: its steps go to that journal.</param>
    /// <param name="epochPersisted">
    /// True when a site switch already persisted the new epoch naming <paramref name="to"/> (the database step of a
    /// whole-site switch): the promotion then works under that epoch instead of starting one of its own.
    /// </param>
    public async Task<PromotionReport> PromoteAsync(string to, bool force, string why, OperationRun operation, CancellationToken cancellation, bool epochPersisted = false)
    {
        var journal = operation.Journal;
        var snapshot = await observer.ObserveNowAsync(cancellation);
        var from = topology.PeerOf(to).Id;
        var run = new PromotionRun(operation, from, to, Planned: snapshot.Node(from) is { IsPrimary: true }, force);
        var planned = run.Planned;

        if (snapshot.Node(to) is { IsPrimary: true } && routing.Current.Primary == to && (epochPersisted || !state.Current.Switching))
        {
            return Report(run, true, $"site {to} is already the primary of epoch {state.Current.Epoch}: nothing to do", WalLoss.None);
        }

        if (planned && !force && snapshot.WhyNotFollowing(from, to) is { } notFollowing)
        {
            // Fencing and stopping the primary now would leave nothing that can take over without losing writes.
            return Report(run, false, $"promotion of {to} refused: {notFollowing}; force it to proceed anyway", WalLoss.None);
        }

        if (!planned)
        {
            var gate = PromotionDecision.Decide(snapshot, from, to, _options.MaxLagOnFailover, force);
            if (!gate.Allowed)
            {
                return Report(run, false, $"promotion of {to} refused: {gate.Reason}", new WalLoss(gate.UnreceivedBytes, Exact: false));
            }
        }

        var epoch = epochPersisted ? state.Current.Epoch : await journal.RunAsync("persist new epoch", () =>
        {
            var next = state.Change(s => s with { Epoch = s.Epoch + 1, DatabasePrimary = to, Switching = true, ChangedAt = time.GetUtcNow(), Reason = why });
            return Task.FromResult((next.Epoch, $"epoch {next.Epoch}: primary will be {to} ({why})"));
        });

        await journal.RunAsync("hold writes", () =>
        {
            routing.HoldWrites();
            return Task.FromResult("new write connections wait for the next primary");
        });

        await journal.RunAsync($"fence {from}", () => FenceAsync(from, planned, planned ? _nodeAction : _singleAttempt, cancellation));

        var fencedAt = planned ? await journal.RunAsync($"read {from}'s final WAL position", () => FinalPositionAsync(from, cancellation)) : null;
        var demoted = planned && CanRunNodeCommands(from) && await journal.RunAsync($"demote {from}", () => DemoteAsync(from, cancellation));

        var caughtUp = await journal.RunAsync($"let {to} catch up", () => CatchUpAsync(to, fencedAt, planned, cancellation));
        if (planned && !caughtUp && !force)
        {
            await journal.RunAsync($"roll back to {from}", () => RollBackAsync(from, epoch, demoted, cancellation));
            return Report(run, false,
                $"promotion of {to} abandoned: it did not replay {from}'s last WAL within {_options.CatchUpTimeout.TotalSeconds:0} s; {from} is primary again (epoch {epoch + 1})", WalLoss.None);
        }

        var lost = await journal.RunAsync("account for unreplicated WAL", () => AccountForLossAsync(from, to, fencedAt, cancellation));
        await journal.RunAsync($"promote {to}", () => PromoteNodeAsync(to, cancellation));
        await journal.RunAsync("switch endpoints", () =>
        {
            routing.DesignatePrimary(to, epoch);
            if (!epochPersisted)
            {
                state.Change(s => s with { Switching = false, ChangedAt = time.GetUtcNow() });
            }

            return Task.FromResult($"write endpoint -> {to}; read endpoint refuses until {from} rejoins as a standby");
        });

        if (sessions.HasMovesToReport)
        {
            await journal.RunAsync($"move sessions to {to}", () => sessions.ReportMovesAsync(cancellation));
        }

        var summary = $"site {to} is primary (epoch {epoch}, {(planned ? "planned" : "unplanned")}{(force ? ", forced" : "")}); " +
            (lost.Bytes is { } bytes ? $"{bytes} WAL bytes not replicated{(lost.Exact ? "" : $" (at least; plus whatever {from} acknowledged after it was last seen at {observer.Current.Node(from)?.LastSeenAt:HH:mm:ss.fff})")}" : "unreplicated WAL unknown");
        return Report(run, true, summary, lost);
    }

    /// <summary>Fencing a node already seen unreachable is tried once: retrying a dead node only delays the failover.</summary>
    private async Task<string> FenceAsync(string site, bool planned, ResiliencePipeline attempts, CancellationToken cancellation)
    {
        routing.Fence(site);
        var cut = await sessions.FenceAsync(site, planned, cancellation);
        try
        {
            var terminated = await attempts.ExecuteAsync(async token => await NodeSql.MakeReadOnlyAsync(nodes.For(site), token), cancellation);
            return $"routes closed ({cut}); node made read-only, {terminated} backend(s) terminated";
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellation.IsCancellationRequested)
        {
            // An unreachable node cannot take writes from anyone: every path to it goes through the gateway, now closed.
            return $"routes closed ({cut}); node unreachable ({NodeProbe.Describe(e)}), fenced by routing alone";
        }
    }

    private bool CanRunNodeCommands(string site) => options.Value.Sites.Single(s => s.Id == site).Database.DataDirectory.Length > 0;

    /// <summary>
    /// A clean shutdown of the old primary, as Patroni demotes: its last WAL record (the shutdown checkpoint) is sent
    /// to the standby before it stops, so the new timeline forks after everything the old primary wrote, and the old
    /// primary can later follow the new one. Left running read-only instead, it would write checkpoints past the
    /// fork and need a rewind or a base backup to come back.
    /// </summary>
    private async Task<(bool Stopped, string Outcome)> DemoteAsync(string site, CancellationToken cancellation)
    {
        var result = await commands.StopAsync(site, cancellation);
        return result.Succeeded
            ? (true, "stopped cleanly; its shutdown checkpoint goes to the standby")
            : (false, $"clean stop failed (exit {result.ExitCode}); it stays fenced and read-only: {result.Output}");
    }

    private async Task<(ulong? Lsn, string Outcome)> FinalPositionAsync(string site, CancellationToken cancellation)
    {
        var snapshot = await observer.ObserveNowAsync(cancellation);
        var lsn = snapshot.Node(site)?.FlushLsn;
        return (lsn, lsn is { } position ? $"flushed up to {position}" : "unknown (node stopped answering)");
    }

    /// <summary>
    /// Waits until the standby has replayed the target position (planned) and everything it received; unplanned,
    /// also until its positions stand still (<see cref="CatchUpState.ReplayedAllItCan"/>).
    /// </summary>
    private async Task<(bool CaughtUp, string Outcome)> CatchUpAsync(string site, ulong? target, bool planned, CancellationToken cancellation)
    {
        await _nodeAction.ExecuteAsync(async token => await NodeSql.ResumeReplayAsync(nodes.For(site), token), cancellation);
        var progress = new CatchUpProgress(target, planned, time.GetUtcNow(), _options.CatchUpTimeout);
        while (true)
        {
            var node = (await observer.ObserveNowAsync(cancellation)).Node(site);
            switch (progress.Observe(node, time.GetUtcNow()))
            {
                case CatchUpState.CaughtUp:
                    return (true, $"replayed up to {node?.ReplayedLsn}");
                case CatchUpState.AlreadyPrimary:
                    return (true, "already out of recovery");
                case CatchUpState.ReplayedAllItCan:
                    return (true, $"replayed up to {node?.ReplayedLsn}, every complete record it received; the {progress.Goal - node?.ReplayedLsn} bytes after it " +
                        $"are an incomplete record the old primary never finished sending (no progress for {CatchUpProgress.SettleTime.TotalSeconds:0} s)");
                case CatchUpState.TimedOut:
                    return (false, $"still at {node?.ReplayedLsn} short of {progress.Goal} after {_options.CatchUpTimeout.TotalSeconds:0} s");
            }

            await Task.Delay(TimeSpan.FromMilliseconds(50), time, cancellation);
        }
    }

    private async Task<(WalLoss Loss, string Outcome)> AccountForLossAsync(string from, string to, ulong? fencedAt, CancellationToken cancellation)
    {
        var snapshot = await observer.ObserveNowAsync(cancellation);
        var received = snapshot.Node(to) is { } node ? node.ReceivedLsn ?? node.ReplayedLsn : null;
        if (fencedAt is { } final && received is { } r)
        {
            var bytes = (long)(final - Math.Min(final, r));
            return (new WalLoss(bytes, Exact: true), $"{bytes} bytes of {from}'s WAL not on {to} (exact: {from} was fenced at {final})");
        }

        var lowerBound = snapshot.UnreceivedBytes(from, to);
        return (new WalLoss(lowerBound, Exact: false), lowerBound is { } b
            ? $"at least {b} bytes of {from}'s WAL not on {to} ({from} unreachable; measured from its last observed position)"
            : "unknown: neither position was observed");
    }

    private async Task<string> PromoteNodeAsync(string site, CancellationToken cancellation)
    {
        var node = nodes.For(site);
        await _nodeAction.ExecuteAsync(async token => await NodeSql.AllowWritesAsync(node, token), cancellation);
        await NodeSql.PromoteAsync(node, TimeSpan.FromSeconds(30), cancellation);
        await _nodeAction.ExecuteAsync(async token => await NodeSql.VerifyWritableAsync(node, token), cancellation);
        return "promoted and verified: it commits a write";
    }

    private async Task<string> RollBackAsync(string site, long abandonedEpoch, bool demoted, CancellationToken cancellation)
    {
        if (demoted)
        {
            // Stopped cleanly for the standby to take over: nothing was promoted, so it starts again as the primary it was.
            var started = await commands.StartAsync(site, cancellation);
            if (!started.Succeeded)
            {
                throw new InvalidOperationException($"{site} was stopped for the promotion and does not start again (exit {started.ExitCode}): {started.Output}");
            }
        }

        await _nodeAction.ExecuteAsync(async token => await NodeSql.AllowWritesAsync(nodes.For(site), token), cancellation);
        var next = state.Change(s => s with { Epoch = abandonedEpoch + 1, DatabasePrimary = site, Switching = false, ChangedAt = time.GetUtcNow(), Reason = "promotion abandoned" });
        routing.DesignatePrimary(site, next.Epoch);
        return $"{site} takes writes again (epoch {next.Epoch})";
    }

    private PromotionReport Report(PromotionRun run, bool succeeded, string summary, WalLoss loss) => new(
        Epoch: state.Current.Epoch,
        From: run.From,
        To: run.To,
        Planned: run.Planned,
        Forced: run.Force,
        Succeeded: succeeded,
        Summary: summary,
        UnreplicatedBytes: loss.Bytes,
        UnreplicatedBytesExact: loss.Exact,
        OldPrimaryLastSeenAt: loss.Exact ? null : observer.Current.Node(run.From)?.LastSeenAt,
        Steps: run.Operation.Journal.Steps,
        StartedAt: run.Operation.StartedAt,
        Total: run.Operation.Elapsed);

    /// <summary>One promotion under way: who it moves, and whether the old primary was there to hand over (planned).</summary>
    private sealed record PromotionRun(OperationRun Operation, string From, string To, bool Planned, bool Force);

    /// <summary>The old primary's WAL the new one never received: exact when measured against its fenced position, else a lower bound.</summary>
    private sealed record WalLoss(long? Bytes, bool Exact)
    {
        /// <summary>Nothing moved, or the standby had replayed everything: zero, exactly.</summary>
        public static readonly WalLoss None = new(0, true);
    }
}
