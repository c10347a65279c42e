using Gateway.Model;
using Gateway.Operations;

namespace Gateway.Backup;

/// <summary>What a prune decided and did.</summary>
public sealed record PruneReport(bool Succeeded, bool DryRun, string Policy, IReadOnlyList<KeptBackup> Keep, IReadOnlyList<string> Remove, string Summary, IReadOnlyList<StepRecord> Steps);

/// <summary>
/// Carries out retention in both engines together: the catalog forgets a backup first (so it is never offered
/// half-removed), then pgBackRest expires its set and restic forgets its snapshot. Whatever an interrupted or
/// failed backup left in either engine (tagged with its id) is removed the same way.
/// </summary>
public sealed class RetentionRunner(BackupCatalog catalog, BackupOperations operations, BackupEngines engines, TimeProvider time, ILogger<RetentionRunner> logger)
{
    public const string FailedAlarm = AlarmCatalogue.BackupRetentionFailed;

    /// <summary>A prune on its own (the admin API): alone, like any backup operation.</summary>
    public Task<PruneReport> PruneAsync(RetentionPolicy policy, bool dryRun, CancellationToken cancellation) =>
        operations.RunAloneAsync(new BackupProgress("prune", "retention", time), async () =>
        {
            await engines.PrepareAsync(cancellation);
            return await ApplyAsync(policy, dryRun, cancellation);
        });

    /// <summary>Decides over the succeeded backups and, unless <paramref name="dryRun"/>, removes the others from both engines. The caller holds the operations lock.</summary>
    public async Task<PruneReport> ApplyAsync(RetentionPolicy policy, bool dryRun, CancellationToken cancellation)
    {
        if (policy.Problem() is { } problem)
        {
            throw new BackupRefusedException($"retention refused: {problem}");
        }

        var backups = catalog.All.Where(r => r is { Status: BackupStatus.Succeeded, Time: not null }).ToList();
        var decision = policy.Decide(backups.Select(r => new RetentionCandidate(r.Id, r.Time!.Value, DependsOn(r, backups))));
        var journal = new StepJournal(time, logger, dryRun ? "retention (dry run)" : "retention");
        if (dryRun || decision.Remove.Count == 0)
        {
            return new PruneReport(true, dryRun, policy.ToString(), decision.Keep, decision.Remove,
                $"{(dryRun ? "would keep" : "keeps")} {decision.Keep.Count} backup(s), {(dryRun ? "would remove" : "removes")} {decision.Remove.Count}", journal.Steps);
        }

        var removed = decision.Remove.Select(id => backups.Single(r => r.Id == id)).ToList();
        await journal.RunAsync("forget", "remove from the catalog", () =>
        {
            foreach (var record in removed)
            {
                catalog.Remove(record.Id);
            }

            return Task.FromResult($"{removed.Count} backup(s) no longer listed: {string.Join(", ", removed.Select(r => r.Id))}");
        });
        await journal.RunAsync("expire", "expire the database sets (pgBackRest)", () => ExpireAsync(removed.Select(r => r.Database!.Label), cancellation));
        await journal.RunAsync("forget-files", "forget the file snapshots (restic)", () => engines.Restic.ForgetAsync(removed.Select(r => r.Files!.SnapshotId).ToList(), cancellation));
        TrimFailedRecords(decision);
        return new PruneReport(true, false, policy.ToString(), decision.Keep, decision.Remove,
            $"kept {decision.Keep.Count} backup(s), removed {decision.Remove.Count} from both engines: {string.Join(", ", decision.Remove)}", journal.Steps);
    }

    /// <summary>
    /// Removes what backups that did not succeed left in the engines (a set pgBackRest finished after the gateway was
    /// killed, a snapshot of a backup that then failed): anything tagged with a gateway id that is not a succeeded backup.
    /// </summary>
    public async Task<string> RemoveLeftoversAsync(string currentId, CancellationToken cancellation)
    {
        var succeeded = catalog.All.Where(r => r.Status == BackupStatus.Succeeded).Select(r => r.Id).ToHashSet(StringComparer.Ordinal);
        bool Leftover(string? id) => id is not null && id != currentId && !succeeded.Contains(id);

        var sets = await engines.PgBackRest.SetsAsync(cancellation);
        var needed = sets.Where(s => !Leftover(s.GatewayBackupId)).Select(s => s.Prior).OfType<string>().ToHashSet(StringComparer.Ordinal);
        var orphanSets = sets.Where(s => Leftover(s.GatewayBackupId) && !needed.Contains(s.Label)).Select(s => s.Label).ToList();
        var orphanSnapshots = (await engines.Restic.SnapshotsAsync(cancellation)).Where(s => Leftover(s.GatewayBackupId)).Select(s => s.Id).ToList();
        if (orphanSets.Count == 0 && orphanSnapshots.Count == 0)
        {
            return "no leftovers of earlier backups";
        }

        await ExpireAsync(orphanSets, cancellation);
        await engines.Restic.ForgetAsync(orphanSnapshots, cancellation);
        return $"removed leftovers of backups that did not succeed: {orphanSets.Count} database set(s), {orphanSnapshots.Count} file snapshot(s)";
    }

    /// <summary>Expires the sets still there, dependents first (expiring a full set takes its dependents with it).</summary>
    private async Task<string> ExpireAsync(IEnumerable<string> labels, CancellationToken cancellation)
    {
        var present = (await engines.PgBackRest.SetsAsync(cancellation)).Select(s => s.Label).ToHashSet(StringComparer.Ordinal);
        var toExpire = labels.Where(present.Contains).OrderDescending(StringComparer.Ordinal).ToList();
        return await engines.PgBackRest.ExpireAsync(toExpire, cancellation);
    }

    private static string? DependsOn(BackupRecord record, IReadOnlyList<BackupRecord> backups) =>
        record.Database?.Prior is { } prior ? backups.FirstOrDefault(other => other.Database?.Label == prior)?.Id : null;

    /// <summary>Records of failed or interrupted backups older than every kept backup are history nobody needs.</summary>
    private void TrimFailedRecords(RetentionDecision decision)
    {
        var oldestKept = decision.Keep.Select(k => catalog.Find(k.Id)?.StartedAt).Min();
        foreach (var record in catalog.All.Where(r => r.Status is BackupStatus.Failed or BackupStatus.Interrupted && r.StartedAt < oldestKept))
        {
            catalog.Remove(record.Id);
        }
    }
}
