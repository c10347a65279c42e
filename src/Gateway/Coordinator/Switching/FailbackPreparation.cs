using Gateway.Configuration;
using Gateway.Database.Failover;
using Gateway.Filestore;
using Gateway.Model;
using Gateway.Operations;
using Microsoft.Extensions.Options;

namespace Gateway.Coordinator.Switching;

/// <summary>
/// Failback, the part the gateway does: rebuild the old site's database as a standby of the active one, replicate
/// the active SAN back to the old one until nothing is pending, and stop there. Moving the service back is a
/// planned switchover, on the operator's word only (never automatic: the old site just failed).
/// </summary>
public sealed class FailbackPreparation(
    ActiveSiteState activeSite,
    DatabaseOperations database,
    FilestoreReplication filestore,
    ExclusiveOperation operations,
    SiteTopology topology,
    IOptions<GatewayOptions> options,
    ILogger<FailbackPreparation> logger)
{
    /// <exception cref="OperationInProgressException">Another operation runs.</exception>
    public Task<SiteSwitchReport> PrepareAsync(CancellationToken cancellation)
    {
        var active = activeSite.ActiveSite;
        var old = topology.PeerOf(active).Id;
        return operations.RunAsync(OperationSpec.FailbackPreparation(old), logger, async operation =>
        {
            var journal = operation.Journal;
            var catchUp = options.Value.Coordinator.CatchUpTimeout;
            SiteSwitchReport Report(bool succeeded, string summary) =>
                new(0, SwitchKind.Failback, active, old, succeeded, summary, journal.Steps, null, [], operation.StartedAt, operation.Elapsed, []);

            var rejoined = await journal.RunAsync($"rejoin the database of {old} as a standby of {active}, and replicate SAN {active} -> {old}", async () =>
            {
                var report = await database.RejoinWithinAsync(operation, old, RejoinMethod.Auto, cancellation);
                return (report.Succeeded, report.Summary);
            });
            if (!rejoined)
            {
                return Report(false, $"failback of {old} stopped: its database could not rejoin (see the steps)");
            }

            var caughtUp = await journal.RunAsync($"wait until SAN {old} has caught up", () => filestore.WaitUntilCaughtUpAsync(active, catchUp, progress: null, cancellation));
            return caughtUp
                ? Report(true, $"site {old} is a replica of {active} again (database streaming, SAN caught up); switch back with POST /admin/switchover {{\"to\":\"{old}\"}}")
                : Report(false, $"site {old}'s database streams, but its SAN has not caught up within {catchUp}; see the filestore status");
        });
    }
}
