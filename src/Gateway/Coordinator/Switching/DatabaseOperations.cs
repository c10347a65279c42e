using Gateway.Configuration;
using Gateway.Coordinator.Hooks;
using Gateway.Database;
using Gateway.Database.Failover;
using Gateway.Database.Observation;
using Gateway.Filestore;
using Gateway.Model;
using Gateway.Operations;

namespace Gateway.Coordinator.Switching;

/// <summary>
/// The database-only operations, as an operator or the coordinator asks for them: a promotion (the primary moves,
/// the active site stays) and a rejoin (a node rebuilt as a standby, and the filestore replicated towards its site,
/// so a rejoined site is a replica in both halves). Each is an <see cref="ExclusiveOperation"/> (one at a time, in the
/// history), and runs the hooks configured on its step ("promote", "rejoin") with the same environment and failure
/// policy as a site switch.
/// </summary>
public sealed class DatabaseOperations(
    DatabaseFailover failover,
    RejoinRunner rejoin,
    DatabaseObserver observer,
    DatabaseRoutingTable routing,
    FilestoreReplication filestore,
    SwitchHooks hooks,
    ExclusiveOperation operations,
    GatewayState state,
    Alarms alarms,
    SiteTopology topology,
    ILogger<DatabaseOperations> logger)
{
    /// <exception cref="OperationInProgressException">Another operation runs.</exception>
    public Task<PromotionReport> PromoteAsync(string to, bool force, string why, CancellationToken cancellation) =>
        operations.RunAsync(OperationSpec.Promotion(to), logger, async operation =>
        {
            var session = hooks.Begin(new SwitchDescription(SwitchKind.Promotion, topology.PeerOf(to).Id, to, () => state.Current.Epoch), operation.Journal);
            await session.RunAsync(SwitchSteps.Promote, HookWhen.Before, databaseMoved: false, cancellation);
            var report = await failover.PromoteAsync(to, force, why, operation, cancellation);
            await session.RunAsync(SwitchSteps.Promote, HookWhen.After, databaseMoved: true, cancellation, Result(report.Succeeded));
            if (report.Succeeded && report.From != report.To)
            {
                if (report.Planned)
                {
                    // The old primary was stopped cleanly: it follows the new one at once, as after a switchover.
                    await RejoinWithinAsync(operation, report.From, RejoinMethod.Auto, cancellation);
                }
                else
                {
                    state.Change(s => s with { AwaitingRejoin = report.From, Planned = false });
                }
            }

            return report;
        });

    /// <exception cref="OperationInProgressException">Another operation runs.</exception>
    public Task<RejoinReport> RejoinAsync(string site, RejoinMethod method, CancellationToken cancellation) =>
        operations.RunAsync(OperationSpec.Rejoin(site), logger, operation => RunRejoinAsync(operation, site, method, withinAnother: false, cancellation));

    /// <summary>A rejoin as part of <paramref name="holder"/>'s operation (a switchover, a failback, a planned promotion), which holds the gate.</summary>
    internal Task<RejoinReport> RejoinWithinAsync(OperationRun holder, string site, RejoinMethod method, CancellationToken cancellation) =>
        operations.RunWithinAsync(holder, OperationSpec.Rejoin(site), logger, operation => RunRejoinAsync(operation, site, method, withinAnother: true, cancellation));

    private async Task<RejoinReport> RunRejoinAsync(OperationRun operation, string site, RejoinMethod method, bool withinAnother, CancellationToken cancellation)
    {
        var journal = operation.Journal;
        var primary = routing.Current.Primary;
        var session = hooks.Begin(new SwitchDescription(SwitchKind.Rejoin, primary ?? topology.PeerOf(site).Id, site, () => state.Current.Epoch), journal, withinAnother);
        if (await session.RunAsync(SwitchSteps.Rejoin, HookWhen.Before, databaseMoved: false, cancellation) is { } abort)
        {
            return new RejoinReport(site, primary ?? "none", method, false, $"rejoin of {site} not started: a Before hook failed ({abort.Reason})", journal.Steps, operation.StartedAt, operation.Elapsed);
        }

        var divergence = primary is null ? null : await DivergenceAsync(site, primary, cancellation);
        var report = await rejoin.RejoinAsync(site, method, journal, cancellation);
        var files = report.Succeeded ? await ReplicateTowardsAsync(site, cancellation) : "";
        report = report with { Summary = report.Summary + files, WhatItHad = divergence };
        if (report.Succeeded)
        {
            alarms.Clear(SiteSwitch.RejoinFailedAlarm);
            if (state.Current.AwaitingRejoin == site)
            {
                state.Change(s => s with { AwaitingRejoin = null, Planned = false });
            }
        }
        else
        {
            alarms.Raise(SiteSwitch.RejoinFailedAlarm, $"site {site} could not rejoin as a standby: {report.Summary}");
            if (state.Current is { Planned: true } planned && planned.AwaitingRejoin == site)
            {
                // Tried once by itself after a planned move; the next attempt is an operator's (the alarm says why).
                state.Change(s => s with { Planned = false });
            }
        }

        await session.RunAsync(SwitchSteps.Rejoin, HookWhen.After, databaseMoved: true, cancellation, Result(report.Succeeded));
        return report with { Steps = journal.Steps, StartedAt = operation.StartedAt, Total = operation.Elapsed };
    }

    /// <summary>
    /// What the node had that the primary lacks, before pg_rewind or a base backup discards it: WAL it wrote past the
    /// point where the primary's timeline began (what an unplanned failover lost, now measured), when it can be read.
    /// </summary>
    private async Task<string?> DivergenceAsync(string site, string primary, CancellationToken cancellation)
    {
        var snapshot = await observer.ObserveNowAsync(cancellation);
        if (snapshot.Node(site) is not { IsPrimary: true, FlushLsn: { } itsEnd } node || snapshot.Node(primary) is not { Timeline: { } timeline })
        {
            return null;
        }

        var fork = failover.History.LastOrDefault(p => p.To == primary && p.From == site && p.Succeeded);
        var received = fork?.UnreplicatedBytes;
        return $"site {site} was a primary on timeline {node.Timeline} with WAL up to {itsEnd:X} while {primary} writes timeline {timeline}; " +
            (received is { } bytes ? $"the promotion of {primary} reported {bytes} WAL bytes of {site} not replicated, which this rejoin discards" : "how much of it the new primary lacks was not measured");
    }

    /// <summary>A rejoined site is a replica in both halves: its SAN receives the filestore from the SAN the links point at.</summary>
    private async Task<string> ReplicateTowardsAsync(string site, CancellationToken cancellation)
    {
        if (filestore.LinkSite is not { } source || source == site)
        {
            return "";
        }

        await filestore.ReplicateFromAsync(source, cancellation);
        return $"; file replication {source} -> {site} runs";
    }

    private static Dictionary<string, string> Result(bool succeeded) => new() { ["GATEWAY_SWITCH_RESULT"] = succeeded ? "succeeded" : "failed" };
}
