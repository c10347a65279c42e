using Gateway.Database.Failover;
using Gateway.Filestore;

namespace Gateway.Coordinator.Switching;

/// <summary>
/// Failback, the part the gateway does: rebuild the old site's database as a standby of the active one, replicate
/// the active SAN back to the old one until nothing is pending, and stop there. Moving the service back is a
/// planned switchover, on the operator's word only (never automatic: the old site just failed).
/// </summary>
public sealed class FailbackPreparation(
    ActiveSiteState activeSite,
    RejoinRunner rejoin,
    FilestoreReplication filestore,
    SiteTopology topology,
    TimeProvider time,
    ILogger<FailbackPreparation> logger)
{
    private static readonly TimeSpan CatchUpLimit = TimeSpan.FromMinutes(30);

    public async Task<SiteSwitchReport> PrepareAsync(CancellationToken cancellation)
    {
        var startedAt = time.GetUtcNow();
        var active = activeSite.ActiveSite;
        var old = topology.PeerOf(active).Id;
        var journal = new StepJournal(time, logger, $"failback preparation of {old}");
        SiteSwitchReport Report(bool succeeded, string summary) =>
            new(0, SwitchKind.Failback, active, old, succeeded, summary, journal.Steps, null, [], startedAt, time.GetUtcNow() - startedAt, []);

        var database = await journal.RunAsync($"rejoin the database of {old} as a standby of {active}", async () =>
        {
            var report = await rejoin.RejoinAsync(old, RejoinMethod.Auto, cancellation);
            return (report.Succeeded, report.Summary);
        });
        if (!database)
        {
            return Report(false, $"failback of {old} stopped: its database could not rejoin (see the steps)");
        }

        await journal.RunAsync($"replicate the filestore {active} -> {old}", async () =>
        {
            await filestore.ReplicateFromAsync(active, cancellation);
            return "started";
        });
        var caughtUp = await journal.RunAsync($"wait until SAN {old} has caught up", () => WaitForEmptyBacklogAsync(cancellation));
        return caughtUp
            ? Report(true, $"site {old} is a replica of {active} again (database streaming, SAN caught up); switch back with POST /admin/switchover {{\"to\":\"{old}\"}}")
            : Report(false, $"site {old}'s database streams, but its SAN has not caught up within {CatchUpLimit.TotalMinutes:0} min; see the filestore status");
    }

    private async Task<(bool, string)> WaitForEmptyBacklogAsync(CancellationToken cancellation)
    {
        var giveUpAt = time.GetUtcNow() + CatchUpLimit;
        while (time.GetUtcNow() < giveUpAt)
        {
            if (filestore.Status is { State: ReplicationState.Streaming, PendingFiles: 0 } status)
            {
                return (true, $"initial sync done ({status.InitialSync.FilesDone} files, {status.InitialSync.BytesDone} bytes), nothing pending");
            }

            await Task.Delay(TimeSpan.FromMilliseconds(200), time, cancellation);
        }

        return (false, $"still {filestore.Status?.PendingFiles} file(s) pending, state {filestore.Status?.State}");
    }
}
