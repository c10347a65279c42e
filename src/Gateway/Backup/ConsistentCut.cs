using System.Diagnostics;
using Gateway.Database.Nodes;
using Gateway.Filestore;
using Gateway.Model;

namespace Gateway.Backup;

/// <summary>What the cut made, while writes were held.</summary>
public sealed record CutResult(
    string PrimarySite,
    string RestorePoint,
    string Lsn,
    string WalFile,
    string SnapshotSite,
    string SnapshotPath,
    string SnapshotSource,
    TimeSpan CatchUp,
    TimeSpan Snapshot,
    string SnapshotOutcome);

/// <summary>
/// The part of a backup that runs while writes are held: let the replicator finish its backlog to the replica SAN,
/// create the restore point on the primary, and take the file snapshot (a hard-link tree of the replica: only the
/// replicator writes there, and only by rename or unlink, so no linked file ever changes afterwards; made before the
/// hold and brought up to date in it, see <see cref="LinkTree"/>). Everything here is bounded by what is left of the hold.
/// </summary>
public sealed class ConsistentCut(FilestoreReplication filestore, NodeConnections nodes, SiteTopology topology, ActiveSiteState activeSite,
    BackupOptions options, BackupPaths paths, IBackupTool tool, TimeProvider time)
{
    /// <summary>
    /// Written into the source SAN during the hold: once it is on the replica, the replicator has seen every change
    /// made before it (one watcher delivers events in order), so "nothing pending" then means the replica has them all.
    /// </summary>
    public const string BarrierName = ".gateway-backup-barrier";

    /// <summary>Where the snapshot will be and of which site, decided before the hold so that a leftover can be removed outside it.</summary>
    public (string Site, string Path, string Source) Plan()
    {
        var linkSite = filestore.LinkSite ?? activeSite.ActiveSite;
        var replica = filestore.Status is { } status && status.Direction.SourceSite == linkSite ? status.Direction.TargetSite : null;
        var site = replica ?? linkSite;
        return (site, paths.SnapshotOf(topology.Site(site)),
            replica is null ? $"active SAN of {site} (no replication from it runs; writes are held, so it is quiet)" : $"replica SAN of {site}");
    }

    public async Task<CutResult> RunAsync(string backupId, string primary, (string Site, string Path, string Source) plan, LinkTree? tree, CancellationToken cancellation)
    {
        var clock = Stopwatch.StartNew();
        if (plan.Source.StartsWith("replica", StringComparison.Ordinal))
        {
            await CatchUpAsync(backupId, plan.Site, cancellation);
        }

        var catchUp = clock.Elapsed;
        var (lsn, walFile) = await CreateRestorePointAsync(primary, RestorePointName(backupId), cancellation);
        var snapshotStarted = clock.Elapsed;
        var snapshot = tree is not null
            ? $"link tree refreshed: {tree.Refresh(cancellation)}"
            : await SnapshotCommandAsync(topology.Site(plan.Site).SanPath, plan.Path, cancellation);
        return new CutResult(primary, RestorePointName(backupId), lsn, walFile, plan.Site, plan.Path, plan.Source, catchUp, clock.Elapsed - snapshotStarted, snapshot);
    }

    public static string RestorePointName(string backupId) => "gateway-backup-" + backupId;

    /// <summary>
    /// Before the hold, writes flowing: the link tree made, so that the hold only links what changed since (null
    /// with a SnapshotCommand, which makes its snapshot during the hold).
    /// </summary>
    public async Task<(LinkTree? Tree, string Outcome)> PrepareAsync((string Site, string Path, string Source) plan, CancellationToken cancellation)
    {
        if (options.SnapshotCommand.Length > 0)
        {
            return (null, "the snapshot is SnapshotCommand's, made during the hold");
        }

        var tree = new LinkTree(topology.Site(plan.Site).SanPath, plan.Path);
        var built = await Task.Run(() => tree.Build(cancellation), cancellation);
        return (tree, $"link tree {plan.Path} of site {plan.Site}'s SAN: {built}");
    }

    private async Task CatchUpAsync(string backupId, string replicaSite, CancellationToken cancellation)
    {
        var source = topology.PeerOf(replicaSite);
        var barrier = Path.Combine(source.SanPath, BarrierName);
        var temp = Path.Combine(source.SanPath, BarrierName + ".tmp");
        await File.WriteAllTextAsync(temp, backupId, cancellation);
        File.Move(temp, barrier, overwrite: true);
        var onReplica = Path.Combine(topology.Site(replicaSite).SanPath, BarrierName);
        while (!(File.Exists(onReplica) && await ReadOrNullAsync(onReplica, cancellation) == backupId))
        {
            await Task.Delay(TimeSpan.FromMilliseconds(2), time, cancellation);
        }

        var (caughtUp, outcome) = await filestore.WaitUntilCaughtUpAsync(source.Id, options.MaxHold, null, cancellation);
        if (!caughtUp)
        {
            throw new InvalidOperationException($"the replica SAN of {replicaSite} did not catch up: {outcome}");
        }
    }

    private static async Task<string?> ReadOrNullAsync(string path, CancellationToken cancellation)
    {
        try
        {
            return await File.ReadAllTextAsync(path, cancellation);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    private async Task<(string Lsn, string WalFile)> CreateRestorePointAsync(string primary, string name, CancellationToken cancellation)
    {
        await using var command = nodes.For(primary).CreateCommand("SELECT lsn::text, pg_walfile_name(lsn) FROM pg_create_restore_point(@name) AS lsn");
        command.Parameters.AddWithValue("name", name);
        await using var reader = await command.ExecuteReaderAsync(cancellation);
        await reader.ReadAsync(cancellation);
        return (reader.GetString(0), reader.GetString(1));
    }

    private async Task<string> SnapshotCommandAsync(string san, string snapshot, CancellationToken cancellation)
    {
        var command = NodeCommands.Fill(options.SnapshotCommand, new Dictionary<string, string> { ["san"] = san, ["snapshot"] = snapshot });
        var result = await tool.RunAsync(new ToolCommand("/bin/sh", ["-c", command]), cancellation);
        return result.Succeeded ? $"`{command}` made it" : throw new ToolFailedException(result);
    }
}
